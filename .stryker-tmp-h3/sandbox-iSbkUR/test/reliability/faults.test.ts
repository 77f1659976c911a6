/**
 * Reliability under faults injected below the SDK (its own retries run):
 * 500s, throttling, timeouts, lost responses. Whatever happens, the data is
 * exactly as before the write or exactly as after it — never half, never
 * twice — and the object stays readable.
 */
// @ts-nocheck

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { StorageBusyError, StorageOutcomeUnknownError } from "../../lambda/errors.ts";
import { getRapatriementHandler } from "../../lambda/handlers/get-rapatriement.ts";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import type { Rapatriement } from "../../lambda/rapatriements/model.ts";
import { lambdaContext, toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import {
  type Fault,
  type FaultPlan,
  faultInjectingClient,
} from "../support/fault-injecting-handler.ts";
import { etagOf, newEngine, newTarget, sampleInput, type Target } from "../support/local-s3.ts";

const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

async function snapshot(target: Target): Promise<Rapatriement[]> {
  const { service } = await newEngine(target);
  return service.listAll();
}

let bucket: Promise<Target> | undefined;
let keys = 0;

/** A data object with one record, at a key of its own in a bucket the tests share. */
async function seeded(): Promise<{ target: Target; before: Rapatriement[] }> {
  bucket ??= newTarget("sqlite");
  keys += 1;
  const target = { ...(await bucket), key: `faults/${keys}.db` };
  const { service } = await newEngine(target);
  await service.create(sampleInput("seed"));
  return { target, before: await snapshot(target) };
}

function faultyEngine(target: Target, plan: FaultPlan) {
  return newEngine(target, { s3: faultInjectingClient(plan), retry: FAST_RETRY });
}

const internalError: Fault = { kind: "status", status: 500, code: "InternalError" };
const slowDown: Fault = { kind: "status", status: 503, code: "SlowDown" };

describe("faults below the SDK", () => {
  test("500s that the SDK's retries outlast: the write lands, once", async () => {
    const { target, before } = await seeded();
    const { service } = await faultyEngine(target, ({ n }) => (n < 2 ? internalError : undefined));

    const created = await service.create(sampleInput("new"));

    expect(await snapshot(target)).toEqual([...before, created]);
  });

  test("throttling past the SDK's retries: 503 with Retry-After, and the data exactly as before", async () => {
    const { target, before } = await seeded();
    const etag = await etagOf(target);
    const { service, store } = await faultyEngine(target, () => slowDown);
    const handler = getRapatriementHandler({
      dependencies: async () => ({ service, store }),
      log: () => {},
    });
    const route = HTTP_ROUTES.find((r) => r.module === "get-rapatriement");
    if (route === undefined) throw new Error("no get route");
    const id = before[0]?.id ?? "";

    const answer = await handler(
      toApiGatewayEvent({ method: "GET", url: `/rapatriements/${id}` }, route, { id }),
      lambdaContext("throttled"),
    );

    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.["retry-after"]).toBe("1");
    expect(JSON.parse(answer.body ?? "{}").code).toBe("STORAGE_BUSY");
    await expect(service.create(sampleInput("new"))).rejects.toBeInstanceOf(StorageBusyError);
    expect(await etagOf(target)).toBe(etag);
    expect(await snapshot(target)).toEqual(before);
  });

  test("a request that times out before reaching S3 is retried, and the write lands once", async () => {
    const { target, before } = await seeded();
    const { service } = await faultyEngine(target, ({ method, n }) =>
      method === "PUT" && n < 3 ? { kind: "timeout" } : undefined,
    );

    const created = await service.create(sampleInput("new"));

    expect(await snapshot(target)).toEqual([...before, created]);
  });

  test("a PUT that lands but whose response is lost, then retried by the SDK into a 412, counts once", async () => {
    const { target, before } = await seeded();
    let lost = false;
    const { service } = await faultyEngine(target, ({ method }) => {
      if (method !== "PUT" || lost) return undefined;
      lost = true;
      return { kind: "lost-response" };
    });

    const created = await service.create(sampleInput("new"));

    expect(await snapshot(target)).toEqual([...before, created]);
  });

  test("any schedule of faults leaves the data exactly as before or exactly as after (property)", async () => {
    const fault = fc.oneof(
      fc.constant<Fault | undefined>(undefined),
      fc.constant<Fault | undefined>(internalError),
      fc.constant<Fault | undefined>(slowDown),
      fc.constant<Fault | undefined>({ kind: "timeout" }),
      fc.constant<Fault | undefined>({ kind: "lost-response" }),
    );
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fault, { minLength: 1, maxLength: 14 }), async (schedule) => {
        runs += 1;
        const { target, before } = await seeded();
        const { service } = await faultyEngine(target, ({ n }) => schedule[n]);

        const outcome = await service.create(sampleInput("new")).then(
          (record) => ({ ok: true as const, record }),
          (error: unknown) => ({ ok: false as const, error }),
        );

        const after = await snapshot(target); // also proves the object is still readable
        if (outcome.ok) {
          expect(after).toEqual([...before, outcome.record]);
        } else if (outcome.error instanceof StorageBusyError) {
          // Busy promises that nothing was applied.
          expect(after).toEqual(before);
        } else {
          expect(outcome.error).toBeInstanceOf(StorageOutcomeUnknownError);
          // Outcome unknown: the write may have landed once, or not at all — nothing else.
          expect(after.slice(0, before.length)).toEqual(before);
          expect(after.length - before.length).toBeLessThanOrEqual(1);
          expect(after.slice(before.length).map((r) => r.reference)).toEqual(
            after.length > before.length ? ["RAP-new"] : [],
          );
        }
      }),
      { numRuns: 200 },
    );
    expect(runs).toBe(200);
  });
});
