/**
 * What command traffic costs the object, against the local S3 server: 20,000
 * commands over 15 simulated days, each kept as a receipt for as long as its
 * key can come back. Every write uploads the object whole, so a receipt must
 * cost a few integers, not a copy of its keys and ids as text: at most 64
 * bytes, in either format. The figures are printed for docs/performance.md.
 */
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../lambda/config.ts";
import { CommandProcessor } from "../../lambda/rapatriements/commands.ts";
import { receiptKey } from "../../lambda/rapatriements/receipts.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import type { Database } from "../../lambda/storage/sql-js.ts";
import { getBytes, newEngine, newTarget, sampleInput, tableRows } from "../support/local-s3.ts";

const DAY_MS = 24 * 3600 * 1000;
const LIVE = 1000;
const ROUNDS = 200;
const PER_ROUND = 100;
const MAX_RECEIPT_BYTES = 64;

/** An id shaped as SQS's message ids and EventBridge's event ids are: a UUID. */
function uuid(n: number): string {
  return `6f1c2a9e-0b7d-4c3e-9a51-${n.toString(16).padStart(12, "0")}`;
}

/** Who sends the commands, as their carriers name them. */
const AUTHORS = ["eventbridge:erp.planning", "eventbridge:wms.lyon", "sqs:AIDAEXAMPLESENDER0000"];

describe.each(["sqlite", "json"] as StorageStrategy[])(
  "commands' receipts with STORAGE_STRATEGY=%s",
  (strategy) => {
    test("20,000 commands over 15 days add at most 64 bytes per receipt to the object", {
      timeout: 600_000,
    }, async () => {
      const target = await newTarget(strategy);
      const start = Date.parse("2026-03-01T08:00:00.000Z");
      const clock = { now: start };
      const { store } = await newEngine(target, { now: () => clock.now });
      const service = new RapatriementService({ store, now: () => new Date(clock.now) });
      const commands = new CommandProcessor(service);
      await service.import(
        Array.from({ length: LIVE }, (_, n) => sampleInput(n, { comment: "tour 000-0" })),
      );
      const ids = (await service.listAll()).map((r) => r.id);
      const initial = (await getBytes(target)).length;
      const roundAt = (round: number) => start + Math.floor((round * 15 * DAY_MS) / ROUNDS);
      /** Receipts whose key can still come back after the last round. */
      let alive = 0;

      for (let round = 0; round < ROUNDS; round++) {
        // The last round comes 15 days less a round after the first.
        clock.now = roundAt(round);
        const ops: ((db: Database) => unknown)[] = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const n = round * PER_ROUND + i;
          // Each record changes in place (a comment of the same length), so
          // that what grows is the receipts alone.
          const command = {
            action: "update",
            id: ids[n % LIVE],
            data: { comment: `tour ${String(round).padStart(3, "0")}-${i % 10}` },
          };
          const author = AUTHORS[n % AUTHORS.length] ?? null;
          // An event id, a message id, or the producer's own key, in turn.
          const op =
            n % 3 === 0
              ? commands.prepare(command, receiptKey.event(uuid(n)), author)
              : n % 3 === 1
                ? commands.prepare(command, receiptKey.sqsMessage(uuid(n)), author)
                : commands.prepare({ ...command, idempotencyKey: `erp-${n}` }, undefined, author);
          ops.push(op);
          // A message id comes back for 14 days; an event id or a producer's key for 15.
          if (n % 3 !== 1 || clock.now + 14 * DAY_MS > roundAt(ROUNDS - 1)) alive++;
        }
        const results = await store.writeBatch(ops);
        expect(results.filter((r) => r.status === "rejected")).toEqual([]);
      }

      const after = await getBytes(target);
      const [[kept]] = (await tableRows(strategy, after, "SELECT COUNT(*) FROM receipts")) as [
        [number],
      ];
      const commandsSent = ROUNDS * PER_ROUND;
      const perCommand = (after.length - initial) / commandsSent;
      const perReceipt = (after.length - initial) / kept;
      console.log(
        `${strategy}: ${commandsSent} commands over 15 days: object ${initial} B -> ${after.length} B; ${kept} receipts kept; ${perCommand.toFixed(1)} B per command, ${perReceipt.toFixed(1)} B per receipt kept`,
      );
      expect(perReceipt).toBeLessThanOrEqual(MAX_RECEIPT_BYTES);
      // Message ids of the first day are past their 14 days, and gone.
      expect(kept).toBe(alive);
      expect(alive).toBeLessThan(commandsSent);
    });
  },
);
