/**
 * The outbox, through the service and the real local S3 server: an event is
 * saved by the same PUT as its change, or not at all — an operation that
 * fails inside a round takes its event with it, a lost race re-applies both,
 * a PUT whose answer was lost but landed keeps its one event — and each
 * event names the commit id of the save that landed. An import and a
 * restore are one summary event each.
 */
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import {
  eventsAfter,
  type OutboxEvent,
  outboxEvents,
} from "../../../lambda/rapatriements/outbox-events.ts";
import { createDatabase } from "../../../lambda/storage/migrations.ts";
import type { Database } from "../../../lambda/storage/sql-js.ts";
import { actAsOperator, cli, operatorEnv } from "../../support/cli-run.ts";
import { faultyClient, lostResponse, onNextPut } from "../../support/faults.ts";
import {
  getBytes,
  localS3Client,
  newEngine,
  newTarget,
  newVersionedTarget,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

async function savedEvents(strategy: StorageStrategy, bytes: Uint8Array): Promise<number> {
  return Number((await tableRows(strategy, bytes, "SELECT COUNT(*) FROM outbox"))[0]?.[0]);
}

async function eventsOf(engine: Awaited<ReturnType<typeof newEngine>>): Promise<OutboxEvent[]> {
  return engine.store.read((db) => outboxEvents(db).events);
}

async function lastCommit(strategy: StorageStrategy, bytes: Uint8Array): Promise<string> {
  return String(
    (
      await tableRows(strategy, bytes, "SELECT id FROM storage_commits ORDER BY seq DESC LIMIT 1")
    )[0]?.[0],
  );
}

describe.each(["sqlite", "json"] as StorageStrategy[])(
  "the outbox with STORAGE_STRATEGY=%s",
  (strategy) => {
    test("an operation that fails in a round takes its event with it; the others keep theirs", async () => {
      const target = await newTarget(strategy);
      const engine = await newEngine(target);
      const create = (n: string) => engine.service.prepareCreate(sampleInput(n));
      const failing = (db: Database) => {
        create("half-done")(db); // its change and its event are written, then the operation fails
        throw new Error("refused after writing");
      };
      const outcomes = await engine.store.writeBatch([create("a"), failing, create("b")]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);

      const events = await eventsOf(engine);
      expect(events.map((e) => e.detail.reference)).toEqual(["RAP-a", "RAP-b"]);
      // Positions follow each other: the failed operation took none.
      expect(events.map((e) => e.seq)).toEqual([1, 2]);
      const commit = await lastCommit(strategy, await getBytes(target));
      expect(events.map((e) => e.commit)).toEqual([commit, commit]);
    });

    test("a lost race re-applies the change and its event, stamped with the commit that landed", async () => {
      const target = await newTarget(strategy);
      const other = await newEngine(target);
      await other.service.create(sampleInput("first"));
      const faulty = faultyClient();
      const engine = await newEngine(target, { s3: faulty.client });
      await engine.service.listAll(); // loaded: its next PUT names this version
      onNextPut(faulty, async (input) => {
        await other.service.create(sampleInput("meanwhile"));
        return faulty.real.send(new PutObjectCommand(input)); // 412: the object changed
      });

      await engine.service.create(sampleInput("mine"));

      const events = await eventsOf(engine);
      expect(events.map((e) => e.detail.reference)).toEqual([
        "RAP-first",
        "RAP-meanwhile",
        "RAP-mine",
      ]);
      expect(events[2]?.commit).toMatch(/\.2$/);
      expect(events[2]?.commit).toBe(await lastCommit(strategy, await getBytes(target)));
    });

    test("a PUT that landed though its answer was lost keeps exactly one event", async () => {
      const target = await newTarget(strategy);
      const faulty = faultyClient();
      onNextPut(faulty, async (input) => {
        await faulty.real.send(new PutObjectCommand(input));
        throw lostResponse();
      });
      const engine = await newEngine(target, { s3: faulty.client });

      await engine.service.create(sampleInput(1));

      const events = await eventsOf(engine);
      expect(events.map((e) => e.detail.eventId)).toHaveLength(1);
      expect(events[0]?.commit).toMatch(/\.1$/);
      expect(await savedEvents(strategy, await getBytes(target))).toBe(1);
    });

    test("an import is one summary event, and the events before it keep their records", async () => {
      const target = await newTarget(strategy);
      const engine = await newEngine(target);
      const kept = await engine.service.create(sampleInput("old"));
      await engine.service.import(
        [{ id: kept.id, ...sampleInput("old", { comment: "imported" }) }, sampleInput("new")],
        { replace: true, actor: "cli:ops" },
      );

      const events = await eventsOf(engine);
      expect(events.map((e) => e.detailType)).toEqual([
        "Rapatriement Created",
        "Rapatriements Imported",
      ]);
      // The record was replaced: its creation's event still says what was created.
      expect(events[0]?.detail.record).toEqual(kept);
      expect(events[1]?.detail).toEqual({
        eventId: `import:${events[1]?.commit}`,
        count: 2,
        created: 1,
        updated: 1,
        deleted: 0,
        updatedBy: "cli:ops",
        time: expect.any(String),
        commit: events[1]?.commit,
      });
    });
  },
);

describe("a restore", () => {
  actAsOperator();

  test("brings records back at versions above any they had: per record, versions only go up and no eventId comes twice", async () => {
    const target = await newVersionedTarget("sqlite");
    const engine = await newEngine(target);
    const kept = await engine.service.create(sampleInput(1));
    const deleted = await engine.service.create(sampleInput(2));
    const unchanged = await engine.service.create(sampleInput(3));
    const head = await localS3Client().send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    const old = String(head.VersionId);
    await engine.service.update(kept.id, { status: "requested" }); // v2
    await engine.service.delete(deleted.id); // its event: v2

    const restored = await cli(["restore", old, "--yes"], operatorEnv(target.bucket, target.key));
    expect(restored.code).toBe(0);

    const fresh = await newEngine(target);
    // Back as they were, at the version after the highest they had.
    expect(await fresh.service.get(kept.id)).toMatchObject({ status: "draft", version: 3 });
    expect(await fresh.service.get(deleted.id)).toMatchObject({ status: "draft", version: 3 });
    // A record the restore does not change keeps its version (and its ETag).
    expect((await fresh.service.get(unchanged.id)).version).toBe(1);

    await fresh.service.update(kept.id, { status: "requested" });
    const events = (await eventsOf(await newEngine(target))).filter(
      (e) => e.detailType !== "Rapatriements Restored",
    );
    const ids = events.map((e) => String(e.detail.eventId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.filter((e) => e.detail.id === kept.id).map((e) => e.detail.version)).toEqual([
      1, 2, 4,
    ]);
    // Each of them still carries its record as that version left it.
    expect(
      events
        .filter((e) => e.detail.id === kept.id)
        .map((e) => {
          const record = e.detail.record as { version: number; status: string } | undefined;
          return [record?.version, record?.status];
        }),
    ).toEqual([
      [1, "draft"],
      [2, "requested"],
      [4, "requested"],
    ]);
  });

  test("is one summary event; the events not yet published go on, at later positions", async () => {
    const target = await newVersionedTarget("sqlite");
    const engine = await newEngine(target);
    await engine.service.create(sampleInput(1));
    const head = await localS3Client().send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    const old = String(head.VersionId);
    const second = await engine.service.create(sampleInput(2));
    await engine.service.update(second.id, { status: "requested" });

    const restored = await cli(["restore", old, "--yes"], operatorEnv(target.bucket, target.key));
    expect(restored.code).toBe(0);

    const fresh = await newEngine(target);
    const events = await eventsOf(fresh);
    expect(events.map((e) => e.detailType)).toEqual([
      "Rapatriement Created",
      "Rapatriement Created",
      "Rapatriement Updated",
      "Rapatriements Restored",
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    // The record the restore took away: its events keep it as it was.
    expect(events[2]?.detail.record).toMatchObject({
      id: second.id,
      version: 2,
      status: "requested",
    });
    expect(events[3]?.detail).toMatchObject({
      eventId: `restore:${events[3]?.commit}`,
      count: 1,
      created: 0,
      updated: 0,
      deleted: 1,
      fromVersion: old,
    });
    expect(String(events[3]?.detail.updatedBy)).toMatch(/^cli:/);
    // A publisher that had published the first three goes on from there.
    const after = await fresh.store.read((db) =>
      eventsAfter(db, { seq: 3, commit: String(events[2]?.commit) }),
    );
    expect(after).toMatchObject({ restarted: false });
    expect(after.events.map((e) => e.seq)).toEqual([4]);
  });
});

test("an empty database has an empty outbox, and its first event takes position 1", async () => {
  const { loadSqlJs } = await import("../../../lambda/storage/sql-js.ts");
  const { rapatriementsSchema } = await import("../../../lambda/rapatriements/tables.ts");
  const db = createDatabase(await loadSqlJs(), rapatriementsSchema);
  try {
    expect(eventsAfter(db, undefined)).toEqual({ events: [], unreadable: [], restarted: false });
  } finally {
    db.close();
  }
});
