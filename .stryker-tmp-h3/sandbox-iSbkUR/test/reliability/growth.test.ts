/**
 * Weeks of traffic on one object, against the local S3 server: 1,000 live
 * records, then 10,000 writes (commands with receipts, keyed API updates,
 * deletes and re-creates) while the clock runs past every window. The
 * object must stay the size of its live data — what the engine keeps for
 * itself is bounded by age, not by traffic — and a deleted record's text
 * must be nowhere in it.
 */
// @ts-nocheck

import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../lambda/config.ts";
import { CommandProcessor } from "../../lambda/rapatriements/commands.ts";
import type { Rapatriement } from "../../lambda/rapatriements/model.ts";
import { COMMAND_RECEIPT_WINDOW_MS, receiptKey } from "../../lambda/rapatriements/receipts.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import type { Database } from "../../lambda/storage/sql-js.ts";
import { getBytes, newEngine, newTarget, sampleInput } from "../support/local-s3.ts";

const HOUR_MS = 3600 * 1000;
const LIVE = 1000;
const ROUNDS = 100;

function input(n: number) {
  return sampleInput(`live-${n}`, {
    comment: `secret-${n}: livraison quai 4, contact Mme Martin`,
    lines: [
      { sku: `SKU-${n}-A`, quantity: 3, unit: "carton" },
      { sku: `SKU-${n}-B`, quantity: 1.5, unit: "palette" },
    ],
  });
}

describe.each(["sqlite", "json"] as StorageStrategy[])(
  "an object under months of traffic with STORAGE_STRATEGY=%s",
  (strategy) => {
    test("10,000 writes past every window leave it at most 1.2x the size of its live data, with no deleted text", async () => {
      const target = await newTarget(strategy);
      const clock = { now: Date.parse("2026-01-05T08:00:00.000Z") };
      const { store } = await newEngine(target, { now: () => clock.now });
      const service = new RapatriementService({ store, now: () => new Date(clock.now) });
      const commands = new CommandProcessor(service);
      await service.import(Array.from({ length: LIVE }, (_, n) => input(n)));
      const initial = (await getBytes(target)).length;

      let live: Rapatriement[] = await service.listAll();
      /** Text that only a deleted record held: its comment's marker and its skus. */
      const deletedText: string[] = [];
      let next = LIVE;
      let writes = 0;
      for (let round = 0; round < ROUNDS; round++) {
        clock.now += 4 * HOUR_MS; // 100 rounds: more than 16 days
        const ops: ((db: Database) => unknown)[] = [];
        const picks = [...live].sort(() => Math.random() - 0.5);
        const take = (count: number) => picks.splice(0, count);
        // 40 commands from the queue, each under its message id.
        for (const record of take(40)) {
          ops.push(
            commands.prepare(
              {
                action: "update",
                id: record.id,
                data: { comment: `round ${round}: ${record.comment ?? ""}`.slice(0, 2000) },
              },
              receiptKey.sqsMessage(`m-${round}-${record.id}`),
            ),
          );
        }
        // 30 API updates, 15 deletes and 15 re-creates, each with an Idempotency-Key.
        for (const record of take(30)) {
          ops.push(
            service.prepareUpdate(
              record.id,
              { expectedAt: new Date(clock.now + 86_400_000).toISOString() },
              { idempotencyKey: `patch-${round}-${record.id}` },
            ),
          );
        }
        for (const record of take(15)) {
          const n = record.reference.slice("RAP-live-".length);
          deletedText.push(`secret-${n}:`, `SKU-${n}-A`, `SKU-${n}-B`);
          ops.push(
            service.prepareDelete(record.id, { idempotencyKey: `del-${round}-${record.id}` }),
          );
        }
        for (let i = 0; i < 15; i++) {
          const n = next++;
          ops.push(service.prepareCreate(input(n), { idempotencyKey: `post-${n}` }));
        }
        const results = await store.writeBatch(ops);
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
        writes += ops.length;
        // What is left of the picks, plus what the round wrote (updates and creates).
        live = [
          ...picks,
          ...results.flatMap((r) => {
            const value = r.status === "fulfilled" ? (r.value as { record?: unknown }) : {};
            const record = "reference" in value ? value : value.record;
            return record === undefined ? [] : [record as Rapatriement];
          }),
        ];
      }
      expect(writes).toBe(10_000);
      expect(live).toHaveLength(LIVE);
      expect((await service.listAll()).map((r) => r.id).sort()).toEqual(
        live.map((r) => r.id).sort(),
      );

      // Past the last window, one more write prunes what is left.
      clock.now += COMMAND_RECEIPT_WINDOW_MS + HOUR_MS;
      const [last] = live;
      if (last === undefined) throw new Error("no record left");
      await service.update(last.id, { comment: "last" });
      live = await service.listAll();
      const after = await getBytes(target);

      // The same live records, freshly imported into an object of their own.
      const fresh = await newTarget(strategy);
      await (await newEngine(fresh)).service.import(live);
      const baseline = (await getBytes(fresh)).length;

      console.log(
        `${strategy}: object ${initial} B at start, ${after.length} B after 10,000 writes; same live records freshly imported ${baseline} B (x${(after.length / baseline).toFixed(3)})`,
      );
      expect(after.length).toBeLessThanOrEqual(1.2 * baseline);
      const text = Buffer.from(after).toString("latin1");
      expect(deletedText).toHaveLength(3 * 15 * ROUNDS);
      expect(deletedText.filter((marker) => text.includes(marker))).toEqual([]);
      // The markers do find what is there: every live record's.
      for (const record of live.slice(1, 20)) {
        expect(text).toContain(`SKU-${record.reference.slice("RAP-live-".length)}-A`);
      }
    });
  },
);
