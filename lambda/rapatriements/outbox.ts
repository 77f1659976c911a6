/**
 * Domain: the outbox, the change events kept in the data object itself (see
 * "Change events" in docs/architecture.md). Each write adds its event inside
 * its own savepoint, so an event is saved by the same conditional PUT as its
 * change, or not at all; the save stamps the events it carries with its
 * commit id and forgets those older than the window. The publisher
 * (lambda/handlers/publish-events.ts) reads them and never writes here.
 *
 * A row keeps what cannot be found elsewhere and no more: a change's fields
 * with their old and new values, its author and time, never a copy of the
 * record while the record can be rebuilt. The record after a record's
 * latest change is the table's own; the one after an earlier change is the
 * next version with that next change's fields set back to their old values
 * (outbox-events.ts). Only a record that goes (a delete, an import, a
 * restore) is written whole into a row (`record`), since the table no
 * longer holds it.
 */
import type { Database, SqlValue } from "sql.js";
import type { SaveStamp } from "../storage/migrations.ts";
import { type Actor, CLIENT_FIELDS, type Rapatriement } from "./model.ts";
import * as repository from "./repository.ts";

/**
 * How long an event stays in the outbox: 12 hours. The publisher runs on
 * each save and every 5 minutes, so an event is normally published within
 * seconds; the window leaves room for a long outage of the publisher or of
 * EventBridge (the lag alarm fires long before), while keeping the object
 * bounded by 12 hours of changes rather than by its whole history.
 */
export const OUTBOX_WINDOW_MS = 12 * 3600 * 1000;

export const EVENT_SOURCE = "rapatriements";

export type EventKind = "created" | "updated" | "deleted" | "imported" | "restored";

export const DETAIL_TYPES: Readonly<Record<EventKind, string>> = {
  created: "Rapatriement Created",
  updated: "Rapatriement Updated",
  deleted: "Rapatriement Deleted",
  imported: "Rapatriements Imported",
  restored: "Rapatriements Restored",
};

/** Schema 6: the table. `seq` comes from `counters`, so it never goes back, even once emptied. */
export const OUTBOX_TABLE_SQL = `
  CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY,
    commit_id TEXT,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL
              CHECK (kind IN ('created', 'updated', 'deleted', 'imported', 'restored')),
    record_id TEXT,
    version   INTEGER,
    author    TEXT,
    body      TEXT,
    record    TEXT
  )`;

export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** A change of one record, as the service applied it. */
export type RecordChange =
  | { kind: "created"; after: Rapatriement }
  | { kind: "updated"; before: Rapatriement; after: Rapatriement }
  | { kind: "deleted"; before: Rapatriement; actor: Actor; at: Date };

/** What an import or a restore did, as its one summary event says. */
export interface Summary {
  count: number;
  created: number;
  updated: number;
  deleted: number;
  /** A restore's: the S3 version id it brought back. */
  fromVersion?: string;
}

/** Adds the event of a record's change; call it in the change's own savepoint. */
export function recordChange(db: Database, change: RecordChange): void {
  if (change.kind === "deleted") {
    const { before, actor, at } = change;
    // A delete's version follows the last one, so a record's versions keep increasing.
    addRow(db, "deleted", at.getTime(), [before.id, before.version + 1, actor, null, before]);
    return;
  }
  const { after } = change;
  const body = change.kind === "updated" ? JSON.stringify(changesOf(change.before, after)) : null;
  const values: RowValues = [after.id, after.version, after.updatedBy, body, null];
  addRow(db, change.kind, Date.parse(after.updatedAt), values);
}

/** Adds the one event of an import or a restore. */
export function recordSummary(
  db: Database,
  kind: "imported" | "restored",
  at: Date,
  author: Actor,
  summary: Summary,
): void {
  addRow(db, kind, at.getTime(), [null, null, author, JSON.stringify(summary), null]);
}

/**
 * Writes into their rows the versions the table is about to lose (every
 * record's, before an import empties it or a restore replaces it): the
 * event of each record's latest change then keeps its record, and the
 * events before it are rebuilt from it.
 */
export function keepAllVersions(db: Database): void {
  const ids = column(
    db,
    "SELECT DISTINCT record_id FROM outbox WHERE record IS NULL AND record_id IS NOT NULL",
  );
  for (const id of ids) {
    const found = repository.findById(db, String(id));
    if (found !== undefined) keepVersion(db, found.record);
  }
}

/** Stamps the events this save adds with its commit id, and forgets those past the window. */
export function sealOutbox(db: Database, save: SaveStamp, windowMs = OUTBOX_WINDOW_MS): void {
  db.run("UPDATE outbox SET commit_id = ? WHERE commit_id IS NULL", [save.commitId]);
  db.run("DELETE FROM outbox WHERE at < ?", [save.now.getTime() - windowMs]);
}

/** Writes `record`, about to go, into the event of its current version. */
function keepVersion(db: Database, record: Rapatriement): void {
  db.run(
    `UPDATE outbox SET record = ? WHERE record_id = ? AND version = ? AND record IS NULL
       AND kind IN ('created', 'updated')`,
    [JSON.stringify(record), record.id, record.version],
  );
}

function changesOf(before: Rapatriement, after: Rapatriement): FieldChanges {
  const changes: FieldChanges = {};
  for (const field of CLIENT_FIELDS) {
    const from = before[field] ?? null;
    const to = after[field] ?? null;
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[field] = { from, to };
  }
  return changes;
}

type RowValues = [
  recordId: string | null,
  version: number | null,
  author: Actor,
  body: string | null,
  record: Rapatriement | null,
];

function addRow(db: Database, kind: EventKind, at: number, values: RowValues): void {
  const [recordId, version, author, body, record] = values;
  // The counter starts past the positions the table already holds.
  db.run(
    `INSERT INTO counters (name, value)
     VALUES ('outbox.seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox))
     ON CONFLICT (name) DO UPDATE SET value = value + 1`,
  );
  db.run(
    `INSERT INTO outbox (seq, at, kind, record_id, version, author, body, record)
     VALUES ((SELECT value FROM counters WHERE name = 'outbox.seq'), ?, ?, ?, ?, ?, ?, ?)`,
    [at, kind, recordId, version, author, body, record === null ? null : JSON.stringify(record)],
  );
}

function column(db: Database, sql: string, params: SqlValue[] = []): SqlValue[] {
  return (db.exec(sql, params)[0]?.values ?? []).map(([value]) => value ?? null);
}

/**
 * Gives `to`, a database about to replace `from` (a restore), the outbox of
 * `from`: the events of changes that did land stay to be published, each
 * with its record, and positions keep increasing.
 */
export function carryOutbox(from: Database, to: Database): void {
  keepAllVersions(from);
  to.run("DELETE FROM outbox");
  const rows = repository.all(from, "SELECT * FROM outbox ORDER BY seq");
  for (const row of rows) {
    const columns = Object.keys(row);
    to.run(
      `INSERT INTO outbox (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
      Object.values(row),
    );
  }
  const counter = (db: Database) =>
    Number(
      repository.all(db, "SELECT value FROM counters WHERE name = 'outbox.seq'")[0]?.value ?? 0,
    );
  to.run(
    `INSERT INTO counters (name, value) VALUES ('outbox.seq', ?)
     ON CONFLICT (name) DO UPDATE SET value = MAX(value, excluded.value)`,
    [counter(from)],
  );
}

/**
 * Gives the records a restore brings back (`to`) versions above any they had
 * in `from`, the data it replaces (its table, and its outbox for records
 * deleted since): per record, versions only go up, so no `eventId`
 * (id:version) is given twice and no `If-Match` taken before the restore
 * matches other content. A record left at the version it has now keeps it.
 * A record deleted longer ago than the outbox's window has no version left
 * to compare with and keeps the restored one.
 */
export function raiseRestoredVersions(from: Database, to: Database): void {
  const current = new Map(
    repository
      .all(from, "SELECT id, version FROM rapatriements")
      .map((row) => [String(row.id), Number(row.version)]),
  );
  const highest = new Map(current);
  const outbox = repository.all(
    from,
    "SELECT record_id, MAX(version) AS version FROM outbox WHERE record_id IS NOT NULL GROUP BY record_id",
  );
  for (const row of outbox) {
    const id = String(row.record_id);
    highest.set(id, Math.max(highest.get(id) ?? 0, Number(row.version)));
  }
  for (const row of repository.all(to, "SELECT id, version FROM rapatriements")) {
    const id = String(row.id);
    const version = Number(row.version);
    const above = highest.get(id);
    if (current.get(id) === version || above === undefined || version > above) continue;
    to.run("UPDATE rapatriements SET version = ? WHERE id = ?", [above + 1, id]);
  }
}
