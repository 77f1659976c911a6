/**
 * Domain: the outbox, the change events kept in the data object itself (see
 * "Change events" in docs/architecture.md). Each write adds its event inside
 * its own savepoint, so an event is saved by the same conditional PUT as its
 * change, or not at all; the save stamps the events it carries with its
 * commit id and forgets those older than the window. The publisher
 * (lambda/handlers/publish-events.ts) reads them and never writes here.
 *
 * A row keeps what cannot be found elsewhere and no more. The event of a
 * record's latest change names the record, which the table holds at that very
 * version: no copy. Only when the record changes again, or goes, is the
 * version its event speaks of written into the row (`record`), since it can
 * no longer be read from the table.
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
  if (change.kind !== "created") keepVersion(db, change.before);
  if (change.kind === "deleted") {
    const { before, actor, at } = change;
    // A delete's version follows the last one, so a record's versions keep increasing.
    addRow(db, "deleted", at.getTime(), [before.id, before.version + 1, actor, null, before]);
    return;
  }
  const { after } = change;
  const body = change.kind === "updated" ? JSON.stringify(changesOf(change.before, after)) : null;
  addRow(db, change.kind, Date.parse(after.updatedAt), [after.id, after.version, null, body, null]);
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
 * record's, before an import empties it or a restore replaces it): each
 * pending event of a record's latest change then keeps its record.
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

/** An event as a rule's target receives it, less what EventBridge adds. */
export interface OutboxEvent {
  seq: number;
  commit: string;
  /** When the change was made (epoch ms). */
  at: number;
  detailType: string;
  detail: Record<string, unknown>;
}

/**
 * The saved events after outbox position `afterSeq` (all when undefined),
 * oldest first. A row whose record cannot be found (only a hand edit of the
 * file makes one) is left out and named in `unreadable`.
 */
export function outboxEvents(
  db: Database,
  afterSeq?: number,
): { events: OutboxEvent[]; unreadable: number[] } {
  const rows = repository.all(
    db,
    `SELECT seq, commit_id, at, kind, record_id, version, author, body, record FROM outbox
     WHERE commit_id IS NOT NULL AND seq > ? ORDER BY seq`,
    [afterSeq ?? -1],
  );
  const events: OutboxEvent[] = [];
  const unreadable: number[] = [];
  for (const row of rows) {
    const event = eventOf(db, row);
    if (event === undefined) unreadable.push(Number(row.seq));
    else events.push(event);
  }
  return { events, unreadable };
}

/** How far the publisher got: the last event it published, by position and commit. */
export interface OutboxPosition {
  seq: number;
  commit: string;
}

/**
 * The events the publisher has not published, going by its `position`
 * (none: every saved event). Positions only increase in one object's life;
 * where the outbox does not follow on from the position — the object was
 * deleted and started again, or replaced by hand — the position speaks of
 * another outbox, and every event is given again (`restarted`): a duplicate
 * costs a consumer nothing, a skipped event is lost.
 */
export function eventsAfter(
  db: Database,
  position: OutboxPosition | undefined,
): { events: OutboxEvent[]; unreadable: number[]; restarted: boolean } {
  if (position === undefined) return { ...outboxEvents(db), restarted: false };
  const [at] = column(db, "SELECT commit_id FROM outbox WHERE seq = ?", [position.seq]);
  const [first] = column(db, "SELECT MIN(seq) FROM outbox");
  // Still there, or gone by age with everything before it.
  const followsOn =
    at === position.commit ||
    (at === undefined && (first === null || Number(first) > position.seq));
  if (followsOn) return { ...outboxEvents(db, position.seq), restarted: false };
  return { ...outboxEvents(db), restarted: true };
}

function eventOf(db: Database, row: repository.Row): OutboxEvent | undefined {
  const kind = String(row.kind) as EventKind;
  const commit = String(row.commit_id);
  const at = Number(row.at);
  const time = new Date(at).toISOString();
  const base = { seq: Number(row.seq), commit, at, detailType: DETAIL_TYPES[kind] };
  if (kind === "imported" || kind === "restored") {
    const summary = JSON.parse(String(row.body)) as Summary;
    const eventId = `${kind === "imported" ? "import" : "restore"}:${commit}`;
    const { fromVersion, ...counts } = summary;
    const detail = { eventId, ...counts, updatedBy: row.author, time, commit };
    return { ...base, detail: fromVersion === undefined ? detail : { ...detail, fromVersion } };
  }
  const id = String(row.record_id);
  const version = Number(row.version);
  const record = recordOf(db, row, id, version);
  if (record === undefined) return undefined;
  const changes = row.body === null ? {} : (JSON.parse(String(row.body)) as FieldChanges);
  const updatedBy = kind === "deleted" ? row.author : record.updatedBy;
  const detail = {
    eventId: `${id}:${version}`,
    id,
    reference: record.reference,
    version,
    record,
    changes,
    updatedBy,
    time,
    commit,
  };
  return { ...base, detail };
}

/** The record as the event speaks of it: kept in the row, or still the table's at that version. */
function recordOf(
  db: Database,
  row: repository.Row,
  id: string,
  version: number,
): Rapatriement | undefined {
  if (row.record !== null) return JSON.parse(String(row.record)) as Rapatriement;
  const live = repository.findById(db, id)?.record;
  return live?.version === version ? live : undefined;
}

/** Writes `record`, about to change or go, into the pending event of its current version. */
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
