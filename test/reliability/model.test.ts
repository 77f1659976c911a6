/**
 * Property: random sequences of create, update, delete and list, sent in
 * rounds by several independent engines at once (as several Lambda
 * containers would), agree with a simple in-memory model. The model is
 * written out here, the status machine of docs/architecture.md included, so that a bug
 * in the product's own status machine cannot pass for the expected outcome.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import type { Rapatriement, Status } from "../../lambda/rapatriements/model.ts";
import { newEngine, newTarget, sampleInput } from "../support/local-s3.ts";

/** docs/architecture.md: draft → requested | cancelled; requested → in_transit | cancelled; in_transit → received. */
const NEXT: Record<Status, readonly Status[]> = {
  draft: ["requested", "cancelled"],
  requested: ["in_transit", "cancelled"],
  in_transit: ["received"],
  received: [],
  cancelled: [],
};
const STATUSES = Object.keys(NEXT) as Status[];

type Op =
  | { kind: "create"; ref: number }
  | { kind: "update"; ref: number; status?: Status; comment?: string }
  | { kind: "delete"; ref: number }
  | { kind: "list"; statuses?: Status[] };

interface ModelRecord {
  status: Status;
  version: number;
  comment?: string;
  /** The round it was created in: the list shows later rounds' records first. */
  round: number;
}

type Model = Map<number, ModelRecord>;

const REFS = 6;
const ENGINES = 3;

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), ref: fc.nat(REFS - 1) }),
  fc.record(
    {
      kind: fc.constant("update" as const),
      ref: fc.nat(REFS - 1),
      status: fc.constantFrom(...STATUSES),
      comment: fc.string({ maxLength: 20 }),
    },
    { requiredKeys: ["kind", "ref"] },
  ),
  fc.record({ kind: fc.constant("delete" as const), ref: fc.nat(REFS - 1) }),
  fc.record(
    {
      kind: fc.constant("list" as const),
      statuses: fc.subarray(STATUSES, { minLength: 1 }),
    },
    { requiredKeys: ["kind"] },
  ),
);

/** A round: up to one operation per record (so its outcome does not depend on order), each on some engine. */
const round = fc
  .array(fc.tuple(op, fc.nat(ENGINES - 1)), { minLength: 1, maxLength: 5 })
  .map((ops) => {
    const seen = new Set<number>();
    return ops.filter(([o]) => {
      if (o.kind === "list") return true;
      if (seen.has(o.ref)) return false;
      seen.add(o.ref);
      return true;
    });
  });

type Result = { ok: true; value: unknown } | { ok: false; code: string | undefined };

let runs = 0;

test("concurrent engines agree with an in-memory model, lists included", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 6 }), async (rounds) => {
      runs += 1;
      const target = await newTarget("sqlite");
      const engines = await Promise.all(Array.from({ length: ENGINES }, () => newEngine(target)));
      const model: Model = new Map();
      const ids = new Map<number, string>();

      for (const [r, ops] of rounds.entries()) {
        // What the model says each operation must do, decided before the round runs.
        const expected = ops.map(([o]) => expectOutcome(model, o));
        const before = new Map(model);
        const results = await Promise.all(
          ops.map(async ([o, e]): Promise<Result> => {
            const { service } = engines[e] ?? engines[0] ?? (await newEngine(target));
            const id = o.kind === "list" ? "" : (ids.get(o.ref) ?? "missing");
            try {
              switch (o.kind) {
                case "create":
                  return { ok: true, value: await service.create(sampleInput(o.ref)) };
                case "update":
                  return { ok: true, value: await service.update(id, patchOf(o)) };
                case "delete":
                  return { ok: true, value: await service.delete(id) };
                case "list": {
                  const query: Record<string, string> = { limit: "100" };
                  if (o.statuses !== undefined) query.status = o.statuses.join(",");
                  return { ok: true, value: await service.list(query) };
                }
              }
            } catch (error) {
              return { ok: false, code: (error as { code?: string }).code };
            }
          }),
        );
        ops.forEach(([o], i) => {
          const want = expected[i];
          const got = results[i];
          if (o.kind === "list" || want === undefined || got === undefined) return;
          if (want === "ok") {
            expect(got, JSON.stringify(o)).toMatchObject({ ok: true });
            applyToModel(model, o, r);
            if (o.kind === "create") ids.set(o.ref, (got as { value: { id: string } }).value.id);
          } else {
            expect(got, JSON.stringify(o)).toEqual({ ok: false, code: want });
          }
        });
        // A list that ran during the round saw each record as it was before
        // the round or as the round left it, never anything else.
        ops.forEach(([o], i) => {
          if (o.kind !== "list") return;
          const got = results[i];
          expect(got, JSON.stringify(o)).toMatchObject({ ok: true, value: { nextCursor: null } });
          const items = (got as { value: { items: Rapatriement[] } }).value.items;
          expectListed(items, [before, model], o.statuses);
        });
        // After each round, every engine lists exactly the model, newest first, page by page.
        for (const { service } of engines) {
          const listed: Rapatriement[] = [];
          let cursor: string | null = null;
          do {
            const page: { items: Rapatriement[]; nextCursor: string | null } = await service.list(
              cursor === null ? { limit: "2" } : { limit: "2", cursor },
            );
            expect(page.items.length).toBeLessThanOrEqual(2);
            listed.push(...page.items);
            cursor = page.nextCursor;
          } while (cursor !== null);
          expectListed(listed, [model], undefined);
          expect(listed).toHaveLength(model.size);
        }
      }
    }),
    { numRuns: 100 },
  );
  expect(runs).toBe(100);
});

function patchOf(o: Extract<Op, { kind: "update" }>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (o.status !== undefined) patch.status = o.status;
  if (o.comment !== undefined) patch.comment = o.comment;
  if (Object.keys(patch).length === 0) patch.comment = "-";
  return patch;
}

/** "ok", or the stable code the service must answer. */
function expectOutcome(model: Model, o: Op): string | undefined {
  if (o.kind === "list") return undefined;
  const current = model.get(o.ref);
  if (o.kind === "create") return current === undefined ? "ok" : "DUPLICATE_REFERENCE";
  if (current === undefined) return "NOT_FOUND";
  if (o.kind === "delete") return "ok";
  // received and cancelled are final: no further change of any field.
  if (NEXT[current.status].length === 0) return "FORBIDDEN_TRANSITION";
  if (
    o.status !== undefined &&
    o.status !== current.status &&
    !NEXT[current.status].includes(o.status)
  ) {
    return "FORBIDDEN_TRANSITION";
  }
  return "ok";
}

function applyToModel(model: Model, o: Op, round: number): void {
  if (o.kind === "list") return;
  if (o.kind === "create") {
    model.set(o.ref, { status: "draft", version: 1, round });
    return;
  }
  if (o.kind === "delete") {
    model.delete(o.ref);
    return;
  }
  const current = model.get(o.ref);
  if (current === undefined) return;
  const next: ModelRecord = { ...current };
  if (o.status !== undefined) next.status = o.status;
  const comment = o.status === undefined && o.comment === undefined ? "-" : o.comment;
  if (comment !== undefined) next.comment = comment;
  const changed = next.status !== current.status || next.comment !== current.comment;
  if (changed) next.version = current.version + 1;
  model.set(o.ref, next);
}

/**
 * `items` shows each record as one of `states` has it (absent included),
 * filtered by `statuses`, each once, records of later rounds first.
 */
function expectListed(
  items: readonly Rapatriement[],
  states: readonly Model[],
  statuses: readonly Status[] | undefined,
): void {
  const shown = (m: ModelRecord | undefined) =>
    m === undefined || (statuses !== undefined && !statuses.includes(m.status))
      ? null
      : [m.status, m.version, m.comment ?? null];
  const byRef = new Map(items.map((item) => [Number(item.reference.slice("RAP-".length)), item]));
  expect(byRef.size, "each record once").toBe(items.length);
  for (let ref = 0; ref < REFS; ref++) {
    const item = byRef.get(ref);
    const got = item === undefined ? null : [item.status, item.version, item.comment ?? null];
    expect(
      states.map((state) => shown(state.get(ref))),
      `RAP-${ref} as listed: ${JSON.stringify(got)}`,
    ).toContainEqual(got);
  }
  const rounds = items.map((item) => {
    const ref = Number(item.reference.slice("RAP-".length));
    return Math.max(...states.map((state) => state.get(ref)?.round ?? -1));
  });
  expect(rounds, "newest first").toEqual([...rounds].sort((a, b) => b - a));
}
