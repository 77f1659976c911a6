/**
 * The cold-container model: its counts add up, it is deterministic, it
 * counts by hand-checkable rules on small traces, merging the five routes'
 * functions into one never costs a cold start where a request costs the same
 * in both layouts, and at the bench's traffic levels one function never does
 * worse.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { HTTP_ROUTES, routeKey } from "../../../lambda/handlers/routes.ts";
import {
  type Arrival,
  coldContainerModel,
  DEFAULT_MIX,
  LAYOUTS,
  type LayoutCounts,
  type Reuse,
  simulate,
  TRAFFIC_LEVELS,
  trafficTrace,
} from "../../../tools/bench/cold-containers.ts";

const kindOf = (route: string) => DEFAULT_MIX.findIndex((r) => r.route === route);
const MINUTE = 60_000;
const costs = { warmMs: 5, staleMs: 150, coldMs: 300, putMs: 30 };

function both(trace: readonly Arrival[], idleMinutes: readonly [number, number] = [10, 10]) {
  const [five, one] = LAYOUTS.map((layout) => simulate(trace, { layout, idleMinutes, costs }));
  return { five: five as LayoutCounts, one: one as LayoutCounts };
}

describe("the cold-container model", () => {
  test("its mix is the five routes of routes.ts, reads and writes as their methods say", () => {
    expect(DEFAULT_MIX.map((r) => r.route).sort()).toEqual(HTTP_ROUTES.map(routeKey).sort());
    for (const kind of DEFAULT_MIX)
      expect(kind.write, kind.route).toBe(!kind.route.startsWith("GET "));
    expect(DEFAULT_MIX.reduce((sum, r) => sum + r.share, 0)).toBeCloseTo(1, 10);
  });

  test("every request is exactly one of: cold start, stale full download, 304", () => {
    for (const level of TRAFFIC_LEVELS) {
      const trace = trafficTrace(level, 3000, 7);
      for (const counts of Object.values(both(trace, [5, 15]))) {
        expect(counts.requests).toBe(3000);
        expect(counts.coldStarts + counts.staleDownloads + counts.notModified).toBe(3000);
        expect(counts.fullDownloads).toBe(counts.coldStarts + counts.staleDownloads);
      }
    }
  });

  test("the same seed gives the same trace and figures; another seed another trace", () => {
    const level = TRAFFIC_LEVELS[2] ?? TRAFFIC_LEVELS[0];
    if (level === undefined) throw new Error("no traffic level");
    expect(trafficTrace(level, 500, 3)).toEqual(trafficTrace(level, 500, 3));
    expect(trafficTrace(level, 500, 3)).not.toEqual(trafficTrace(level, 500, 4));
    const options = { requests: 2000, seed: 9, costs };
    expect(coldContainerModel(options)).toEqual(coldContainerModel(options));
  });

  test("a trace keeps its rate: 20,000 requests at 1/min span about 20,000 minutes, in order", () => {
    const trace = trafficTrace({ name: "1/min", perMinute: 1 }, 20_000, 5);
    expect(trace).toHaveLength(20_000);
    const minutes = (trace.at(-1)?.at ?? 0) / MINUTE;
    expect(minutes).toBeGreaterThan(19_000);
    expect(minutes).toBeLessThan(21_000);
    expect(trace.every((a, i) => i === 0 || a.at >= (trace[i - 1]?.at ?? 0))).toBe(true);
  });

  test("a create, a read of it and a list: three cold starts with five functions, one with one", () => {
    const trace: Arrival[] = [
      { at: 0, kind: kindOf("POST /rapatriements") },
      { at: MINUTE, kind: kindOf("GET /rapatriements/{id}") },
      { at: 2 * MINUTE, kind: kindOf("GET /rapatriements") },
    ];
    const { five, one } = both(trace);
    expect(five).toMatchObject({ coldStarts: 3, staleDownloads: 0, notModified: 0 });
    expect(one).toMatchObject({ coldStarts: 1, staleDownloads: 0, notModified: 2 });
    expect(one.addedMs).toBe(costs.coldMs - costs.warmMs);
  });

  test("a write through one function leaves the others' warm copies stale: a full download, not a 304", () => {
    const get = kindOf("GET /rapatriements/{id}");
    const list = kindOf("GET /rapatriements");
    const patch = kindOf("PATCH /rapatriements/{id}");
    const trace: Arrival[] = [get, list, patch, get, list, get].map((kind, i) => ({
      at: i * MINUTE,
      kind,
    }));
    const { five, one } = both(trace);
    // Five: get, list, patch start cold; after the patch, get and list download again; the last get is a 304.
    expect(five).toMatchObject({ coldStarts: 3, staleDownloads: 2, notModified: 1 });
    expect(one).toMatchObject({ coldStarts: 1, staleDownloads: 0, notModified: 5 });
  });

  test("requests further apart than the idle lifetime all start cold, in both layouts", () => {
    const trace: Arrival[] = Array.from({ length: 20 }, (_, i) => ({
      at: i * 16 * MINUTE,
      kind: i % DEFAULT_MIX.length,
    }));
    const { five, one } = both(trace, [5, 15]);
    expect(five.coldStarts).toBe(20);
    expect(one.coldStarts).toBe(20);
  });

  test("reads alone never download a stale copy", () => {
    const reads = { name: "reads", perMinute: 30 };
    const mix = DEFAULT_MIX.map((r) => ({ ...r, share: r.write ? 0 : r.share }));
    const trace = trafficTrace(reads, 2000, 11, mix);
    for (const layout of LAYOUTS) {
      expect(simulate(trace, { layout, idleMinutes: [5, 15], mix }).staleDownloads).toBe(0);
    }
  });

  test("requests that overlap need one container each", () => {
    const get = kindOf("GET /rapatriements/{id}");
    const trace: Arrival[] = [0, 1, 2, 3].map((at) => ({ at, kind: get }));
    const { one } = both(trace);
    expect(one).toMatchObject({ coldStarts: 4, peakContainers: 4 });
  });

  test("on any trace, one function never has more cold starts than five (a request costs the same in both)", () => {
    // Where a cold start takes much longer than a warm request and requests
    // overlap densely, a rare trace has one function start a container or two
    // more than five (docs/performance.md, "Which containers are cold"); with equal costs
    // and a fixed idle lifetime, merging the pools never costs a cold start.
    const arrival = fc.record({
      gap: fc.oneof(
        fc.constant(0),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.double({ min: 0, max: 40 * MINUTE, noNaN: true }),
      ),
      kind: fc.integer({ min: 0, max: DEFAULT_MIX.length - 1 }),
    });
    fc.assert(
      fc.property(
        fc.array(arrival, { minLength: 1, maxLength: 60 }),
        fc.double({ min: 0.1, max: 30, noNaN: true }),
        fc.double({ min: 1, max: 5000, noNaN: true }),
        fc.constantFrom<Reuse>("most recent", "any"),
        (arrivals, idle, ms, reuse) => {
          let at = 0;
          const trace = arrivals.map(({ gap, kind }) => {
            at += gap;
            return { at, kind };
          });
          const same = { warmMs: ms, staleMs: ms, coldMs: ms, putMs: 0 };
          const [five, one] = LAYOUTS.map((layout) =>
            simulate(trace, { layout, idleMinutes: [idle, idle], costs: same, reuse }),
          );
          expect(one?.coldStarts).toBeLessThanOrEqual(five?.coldStarts ?? 0);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("at every traffic level and idle lifetime of the bench, one function downloads the object no more often", () => {
    for (const row of coldContainerModel({ requests: 5000, costs })) {
      const five = row.perThousand["five functions"];
      const one = row.perThousand["one function"];
      expect(one.coldStarts, row.traffic).toBeLessThanOrEqual(five.coldStarts);
      expect(one.fullDownloads, row.traffic).toBeLessThanOrEqual(five.fullDownloads);
      expect(one.addedMsPerRequest, row.traffic).toBeLessThanOrEqual(five.addedMsPerRequest);
    }
  });
});
