/**
 * Property: random sequences of create, update, delete and list, sent in
 * rounds by several independent engines at once (as several Lambda
 * containers would), agree with a simple in-memory model.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { canTransition, isFinal, STATUSES, type Status } from "../../lambda/rapatriements/model.ts";
import { newEngine, newTarget, sampleInput } from "../support/local-s3.ts";

type Op =
  | { kind: "create"; ref: number }
  | { kind: "update"; ref: number; status?: Status; comment?: string }
  | { kind: "delete"; ref: number }
  | { kind: "list" };

interface ModelRecord {
  status: Status;
  version: number;
  comment?: string;
}

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
  fc.constant({ kind: "list" as const }),
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

let runs = 0;

test("concurrent engines agree with an in-memory model", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(round, { minLength: 1, maxLength: 6 }), async (rounds) => {
      runs += 1;
      const target = await newTarget("sqlite");
      const engines = await Promise.all(Array.from({ length: ENGINES }, () => newEngine(target)));
      const model = new Map<number, ModelRecord>();
      const ids = new Map<number, string>();

      for (const ops of rounds) {
        // What the model says each operation must do, decided before the round runs.
        const expected = ops.map(([o]) => expectOutcome(model, o));
        const results = await Promise.all(
          ops.map(async ([o, e]) => {
            const { service } = engines[e] ?? engines[0] ?? (await newEngine(target));
            const id = o.kind === "list" ? "" : (ids.get(o.ref) ?? "missing");
            try {
              switch (o.kind) {
                case "create":
                  return { ok: true, value: await service.create(sampleInput(o.ref)) };
                case "update": {
                  const patch: Record<string, unknown> = {};
                  if (o.status !== undefined) patch.status = o.status;
                  if (o.comment !== undefined) patch.comment = o.comment;
                  if (Object.keys(patch).length === 0) patch.comment = "-";
                  return { ok: true, value: await service.update(id, patch) };
                }
                case "delete":
                  return { ok: true, value: await service.delete(id) };
                case "list":
                  return { ok: true, value: await service.list({ limit: "100" }) };
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
            applyToModel(model, o);
            if (o.kind === "create") ids.set(o.ref, (got as { value: { id: string } }).value.id);
          } else {
            expect(got, JSON.stringify(o)).toEqual({ ok: false, code: want });
          }
        });
        // After each round, every engine sees exactly the model.
        for (const { service } of engines) {
          const listed = await service.listAll();
          expect(
            listed.map((r) => [r.reference, r.status, r.version, r.comment ?? null]).sort(),
          ).toEqual(
            [...model.entries()]
              .map(([ref, m]) => [`RAP-${ref}`, m.status, m.version, m.comment ?? null])
              .sort(),
          );
        }
      }
    }),
    { numRuns: 100 },
  );
  expect(runs).toBe(100);
});

/** "ok", or the stable code the service must answer. */
function expectOutcome(model: Map<number, ModelRecord>, o: Op): string | undefined {
  if (o.kind === "list") return undefined;
  const current = model.get(o.ref);
  if (o.kind === "create") return current === undefined ? "ok" : "DUPLICATE_REFERENCE";
  if (current === undefined) return "NOT_FOUND";
  if (o.kind === "delete") return "ok";
  if (isFinal(current.status)) return "FORBIDDEN_TRANSITION";
  if (
    o.status !== undefined &&
    o.status !== current.status &&
    !canTransition(current.status, o.status)
  ) {
    return "FORBIDDEN_TRANSITION";
  }
  return "ok";
}

function applyToModel(model: Map<number, ModelRecord>, o: Op): void {
  if (o.kind === "list") return;
  if (o.kind === "create") {
    model.set(o.ref, { status: "draft", version: 1 });
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
