/**
 * What the change events cost the object, against the local S3 server:
 * 10,000 changes (creates, updates, deletes) over 3 simulated days. The
 * outbox keeps the events of the last 12 hours (OUTBOX_WINDOW_MS) and no
 * more, so the object does not grow with traffic: after the first window it
 * stays the size of its live data plus one window of events. The figures are
 * printed for docs/performance.md.
 */
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../lambda/config.ts";
import { OUTBOX_WINDOW_MS } from "../../lambda/rapatriements/outbox.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { type Database, loadSqlJs } from "../../lambda/storage/sql-js.ts";
import {
  getBytes,
  newClockedEngine,
  newTarget,
  sampleInput,
  tableRows,
} from "../support/local-s3.ts";

const DAY_MS = 24 * 3600 * 1000;
const LIVE = 500;
const ROUNDS = 250;
const PER_ROUND = 40;

/** The object's size with its outbox emptied: its live data and the rest of its bookkeeping. */
async function withoutOutbox(strategy: StorageStrategy, bytes: Uint8Array): Promise<number> {
  const codec = codecFor(strategy);
  const db = codec.decode(bytes, await loadSqlJs(), rapatriementsSchema);
  try {
    db.run("DELETE FROM outbox");
    if (strategy === "sqlite") db.run("VACUUM");
    return codec.encode(db, rapatriementsSchema).length;
  } finally {
    db.close();
  }
}

describe.each(["sqlite", "json"] as StorageStrategy[])(
  "the outbox's size with STORAGE_STRATEGY=%s",
  (strategy) => {
    test("10,000 changes over 3 days: the outbox holds one window of events, and the object stops growing", {
      timeout: 600_000,
    }, async () => {
      const target = await newTarget(strategy);
      const { clock, store, service } = await newClockedEngine(target);
      const start = clock.now;
      await service.import(Array.from({ length: LIVE }, (_, n) => sampleInput(`seed-${n}`)));
      const live = (await service.listAll()).map((r) => r.id);
      const roundMs = (3 * DAY_MS) / ROUNDS;
      const roundsPerWindow = Math.ceil(OUTBOX_WINDOW_MS / roundMs);
      let most = 0;
      let afterDayOne = 0;
      let created = 0;

      for (let round = 0; round < ROUNDS; round++) {
        clock.now = start + round * roundMs;
        const ops: ((db: Database) => unknown)[] = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const n = round * PER_ROUND + i;
          // One in ten a new record, one in ten the oldest gone, the rest changed.
          if (i % 10 === 0) {
            ops.push(service.prepareCreate(sampleInput(`new-${n}`), { actor: `planner-${n % 7}` }));
            created += 1;
          } else if (i % 10 === 1) {
            ops.push(service.prepareDelete(live.shift() as string, { actor: `planner-${n % 7}` }));
          } else {
            const id = live[(n * 7) % live.length] as string;
            const data = i % 10 === 2 ? { status: "cancelled" } : { comment: `tour ${round}-${i}` };
            ops.push(service.prepareUpdate(id, data, { actor: `planner-${n % 7}` }));
          }
        }
        // A change to a record cancelled before is refused (a final status), as it should be.
        await store.writeBatch(ops);
        live.push(...(await store.read((db) => newIdsSince(db, live))));
        const bytes = await getBytes(target);
        const [[rows, oldest]] = (await tableRows(
          strategy,
          bytes,
          "SELECT COUNT(*), MIN(at) FROM outbox",
        )) as [[number, number]];
        most = Math.max(most, rows);
        // Nothing older than the window, and never more than a window of rounds.
        expect(oldest).toBeGreaterThanOrEqual(clock.now - OUTBOX_WINDOW_MS);
        expect(rows).toBeLessThanOrEqual((roundsPerWindow + 1) * PER_ROUND);
        if (round === Math.floor(ROUNDS / 3) - 1) afterDayOne = bytes.length;
      }

      const end = await getBytes(target);
      const [[rows]] = (await tableRows(strategy, end, "SELECT COUNT(*) FROM outbox")) as [
        [number],
      ];
      const [[records]] = (await tableRows(
        strategy,
        end,
        "SELECT COUNT(*) FROM rapatriements",
      )) as [[number]];
      const bare = await withoutOutbox(strategy, end);
      console.log(
        `${strategy}: ${ROUNDS * PER_ROUND} changes over 3 days, ${records} records at the end: outbox ${rows} events (at most ${most}); object ${end.length} B, of which the outbox ${end.length - bare} B (${((end.length - bare) / rows).toFixed(0)} B an event); object after day 1 ${afterDayOne} B`,
      );
      expect(created).toBe(ROUNDS * (PER_ROUND / 10));
      // Days 2 and 3 added as many changes as day 1 and the object did not grow with them.
      expect(end.length).toBeLessThan(afterDayOne * 1.15);
    });
  },
);

/** Ids of records created since `known` was listed (the creates of the last round). */
function newIdsSince(db: Database, known: readonly string[]): string[] {
  const seen = new Set(known);
  const rows = db.exec("SELECT id FROM rapatriements ORDER BY seq")[0]?.values ?? [];
  return rows.map(([id]) => String(id)).filter((id) => !seen.has(id));
}
