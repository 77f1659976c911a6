/**
 * `createdBy` and `updatedBy` in the stored file, through the real local S3
 * server: a file written before schema 4 (in either format) is read with
 * `null` for them, its records keep their other fields, and the next write
 * brings the file to schema 4 without inventing an author for old records.
 * A caller's name is kept once, however many records it wrote, and goes
 * with the last record that names it.
 */
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import { createDatabase, currentVersion, readPragma } from "../../../lambda/storage/migrations.ts";
import { loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import {
  getBytes,
  newClockedEngine,
  newEngine,
  newTarget,
  pastEventsWindow,
  putBytes,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const STRATEGIES: StorageStrategy[] = ["sqlite", "json"];
const PLANNER = "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/alice";

/** A data file as schema 3 wrote it: one record, with its lines, and no identity columns. */
async function schema3File(strategy: StorageStrategy): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const old = createDatabase(SQL, rapatriementsSchema, 3);
  try {
    old.run(
      `INSERT INTO rapatriements (seq, id, reference, origin, destination, status, comment,
         created_at, updated_at, version)
       VALUES (4, 'old-1', 'RAP-OLD-1', 'LYON-01', 'PARIS-02', 'requested', 'avant',
         '2026-01-05T08:00:00.000Z', '2026-01-06T09:00:00.000Z', 2)`,
    );
    old.run(
      "INSERT INTO rapatriement_lines (rapatriement_id, position, sku, quantity, unit) VALUES ('old-1', 0, 'PAL-EUR', 12, 'palette')",
    );
    old.run("INSERT INTO counters (name, value) VALUES ('rapatriements.seq', 4)");
    return codecFor(strategy).encode(old, rapatriementsSchema);
  } finally {
    old.close();
  }
}

async function schemaVersionOf(strategy: StorageStrategy, bytes: Uint8Array): Promise<number> {
  if (strategy === "json") {
    return JSON.parse(new TextDecoder().decode(bytes)).schemaVersion;
  }
  const SQL = await loadSqlJs();
  const db = new SQL.Database(bytes);
  try {
    return readPragma(db, "user_version");
  } finally {
    db.close();
  }
}

describe.each(STRATEGIES)("an older file with STORAGE_STRATEGY=%s", (strategy) => {
  test("its records read with createdBy and updatedBy null, the rest as they were", async () => {
    const target = await newTarget(strategy);
    const bytes = await schema3File(strategy);
    expect(await schemaVersionOf(strategy, bytes)).toBe(3);
    await putBytes(target, bytes);
    const { service } = await newEngine(target);

    expect(await service.get("old-1")).toEqual({
      id: "old-1",
      reference: "RAP-OLD-1",
      origin: "LYON-01",
      destination: "PARIS-02",
      lines: [{ sku: "PAL-EUR", quantity: 12, unit: "palette" }],
      status: "requested",
      comment: "avant",
      createdAt: "2026-01-05T08:00:00.000Z",
      updatedAt: "2026-01-06T09:00:00.000Z",
      version: 2,
      createdBy: null,
      updatedBy: null,
    });
    // A read never writes: the file stays at schema 3 until a write.
    expect(await schemaVersionOf(strategy, await getBytes(target))).toBe(3);
  });

  test("the next write saves it at the current schema (4 added authors): old records stay null until changed, new ones name their author", async () => {
    const target = await newTarget(strategy);
    await putBytes(target, await schema3File(strategy));
    const { service } = await newEngine(target);

    const fresh = await service.create(sampleInput("new-1"), { actor: PLANNER });
    expect(fresh).toMatchObject({ createdBy: PLANNER, updatedBy: PLANNER });
    expect(await schemaVersionOf(strategy, await getBytes(target))).toBe(
      currentVersion(rapatriementsSchema),
    );
    expect(currentVersion(rapatriementsSchema)).toBeGreaterThanOrEqual(4);

    // Another container reads the upgraded file from S3.
    const other = (await newEngine(target)).service;
    expect(await other.get("old-1")).toMatchObject({ createdBy: null, updatedBy: null });
    expect(await other.get(fresh.id)).toMatchObject({ createdBy: PLANNER, updatedBy: PLANNER });

    // Changing an old record names who changed it; who created it stays unknown.
    const changed = await other.update("old-1", { status: "in_transit" }, { actor: PLANNER });
    expect(changed).toMatchObject({ version: 3, createdBy: null, updatedBy: PLANNER });
    expect(await (await newEngine(target)).service.get("old-1")).toEqual(changed);
  });

  test("an export keeps createdBy and updatedBy, and importing it restores them", async () => {
    const source = await newEngine(await newTarget(strategy));
    await source.service.create(sampleInput("exp-1"), { actor: PLANNER });
    const records = await source.service.listAll();

    const target = await newEngine(await newTarget(strategy));
    await target.service.import(records);
    expect(await target.service.listAll()).toEqual(records);
    // A file of an earlier application says nothing of who: null, never the importer.
    const { createdBy: _c, updatedBy: _u, ...older } = records[0] ?? {};
    await target.service.import([older], { replace: true });
    expect(await target.service.listAll()).toEqual([
      expect.objectContaining({ reference: "RAP-exp-1", createdBy: null, updatedBy: null }),
    ]);
  });
});

describe.each(STRATEGIES)("callers' names with STORAGE_STRATEGY=%s", (strategy) => {
  test("a name is stored once, however many records it created or changed", async () => {
    const target = await newTarget(strategy);
    const { service } = await newEngine(target);
    for (let n = 0; n < 20; n++) {
      const record = await service.create(sampleInput(`once-${n}`), { actor: PLANNER });
      await service.update(record.id, { comment: "vu" }, { actor: PLANNER });
    }
    const bytes = await getBytes(target);
    expect(await tableRows(strategy, bytes, "SELECT name FROM actors")).toEqual([[PLANNER]]);
    expect(
      await tableRows(strategy, bytes, "SELECT COUNT(DISTINCT created_by) FROM rapatriements"),
    ).toEqual([[1]]);
  });

  test("the name goes with the last record that names it (and its events), and stays while another does", async () => {
    const target = await newTarget(strategy);
    const { service, clock } = await newClockedEngine(target);
    const leaving =
      "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/m.dupont@exemple.fr";
    const kept = await service.create(sampleInput("kept"), { actor: PLANNER });
    const first = await service.create(sampleInput("first"), { actor: leaving });
    const second = await service.create(sampleInput("second"), { actor: PLANNER });
    await service.update(second.id, { comment: "relu" }, { actor: leaving });

    await service.delete(first.id, { actor: PLANNER });
    let text = new TextDecoder("latin1").decode(await getBytes(target));
    expect(text).toContain(leaving); // still the last to change "second"

    // Changed by someone else: nothing names the leaving planner any more.
    await service.update(second.id, { comment: "relu 2" }, { actor: PLANNER });
    // The events of the leaving planner's changes name them for the events window.
    await pastEventsWindow(clock, service);
    text = new TextDecoder("latin1").decode(await getBytes(target));
    expect(text).not.toContain("m.dupont");
    expect(await tableRows(strategy, await getBytes(target), "SELECT name FROM actors")).toEqual([
      [PLANNER],
    ]);
    expect(await service.get(kept.id)).toMatchObject({ createdBy: PLANNER, updatedBy: PLANNER });
  });
});
