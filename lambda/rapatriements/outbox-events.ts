/**
 * Domain: the outbox's events as a rule's target receives them, built from
 * its rows (outbox.ts) for the publisher. A record event carries the record
 * after its change: kept whole in the row where the record went (a delete,
 * an import, a restore); the table's own for a record's latest change; and
 * for an earlier change, the next version with the next change's fields set
 * back to their old values, its own version, time and author.
 */
import type { Database } from "sql.js";
import type { Rapatriement } from "./model.ts";
import { DETAIL_TYPES, type EventKind, type FieldChanges, type Summary } from "./outbox.ts";
import * as repository from "./repository.ts";

/** An event as a rule's target receives it, less what EventBridge adds. */
export interface OutboxEvent {
  seq: number;
  commit: string;
  /** When the change was made (epoch ms). */
  at: number;
  detailType: string;
  detail: Record<string, unknown>;
}

/** How far the publisher got: the last event it published, by position and commit. */
export interface OutboxPosition {
  seq: number;
  commit: string;
}

/**
 * The saved events after outbox position `afterSeq` (all when undefined),
 * oldest first. A row whose record cannot be rebuilt (only a hand edit of
 * the file, or clocks far apart across the window's edge, make one) is left
 * out and named in `unreadable`.
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
  const records = recordsOf(db, rows);
  const events: OutboxEvent[] = [];
  const unreadable: number[] = [];
  for (const row of rows) {
    const event = eventOf(row, records.get(Number(row.seq)));
    if (event === undefined) unreadable.push(Number(row.seq));
    else events.push(event);
  }
  return { events, unreadable };
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
  const at = repository.all(db, "SELECT commit_id FROM outbox WHERE seq = ?", [position.seq])[0]
    ?.commit_id;
  const first = repository.all(db, "SELECT MIN(seq) AS first FROM outbox")[0]?.first ?? null;
  // Still there, or gone by age with everything before it.
  const followsOn =
    at === position.commit ||
    (at === undefined && (first === null || Number(first) > position.seq));
  if (followsOn) return { ...outboxEvents(db, position.seq), restarted: false };
  return { ...outboxEvents(db), restarted: true };
}

function eventOf(row: repository.Row, record: Rapatriement | undefined): OutboxEvent | undefined {
  const kind = String(row.kind) as EventKind;
  const commit = String(row.commit_id);
  const at = Number(row.at);
  const time = new Date(at).toISOString();
  const base = { seq: Number(row.seq), commit, at, detailType: DETAIL_TYPES[kind] };
  if (kind === "imported" || kind === "restored") {
    const { fromVersion, ...counts } = JSON.parse(String(row.body)) as Summary;
    const eventId = `${kind === "imported" ? "import" : "restore"}:${commit}`;
    const detail = { eventId, ...counts, updatedBy: row.author, time, commit };
    return { ...base, detail: fromVersion === undefined ? detail : { ...detail, fromVersion } };
  }
  if (record === undefined) return undefined;
  const id = String(row.record_id);
  const version = Number(row.version);
  const detail = {
    eventId: `${id}:${version}`,
    id,
    reference: record.reference,
    version,
    record,
    changes: changesIn(row),
    updatedBy: kind === "deleted" ? row.author : record.updatedBy,
    time,
    commit,
  };
  return { ...base, detail };
}

/**
 * The record each record event of `rows` speaks of, by position: each
 * record's rows are walked from its latest back, each version built from
 * the one after it.
 */
function recordsOf(db: Database, rows: readonly repository.Row[]): Map<number, Rapatriement> {
  const byRecord = new Map<string, repository.Row[]>();
  for (const row of rows) {
    if (row.record_id === null) continue;
    const id = String(row.record_id);
    byRecord.set(id, [...(byRecord.get(id) ?? []), row]);
  }
  const records = new Map<number, Rapatriement>();
  for (const [id, ofRecord] of byRecord) {
    let next: { row: repository.Row; record: Rapatriement | undefined } | undefined;
    for (const row of ofRecord.reverse()) {
      const record = rebuilt(db, id, row, next);
      if (record !== undefined) records.set(Number(row.seq), record);
      next = { row, record };
    }
  }
  return records;
}

function rebuilt(
  db: Database,
  id: string,
  row: repository.Row,
  next: { row: repository.Row; record: Rapatriement | undefined } | undefined,
): Rapatriement | undefined {
  // A delete's row holds the record as it was; so does the latest row of a record that went.
  if (row.record !== null) return JSON.parse(String(row.record)) as Rapatriement;
  const version = Number(row.version);
  if (next === undefined) {
    const live = repository.findById(db, id)?.record;
    return live?.version === version ? live : undefined;
  }
  if (next.record === undefined || Number(next.row.version) !== version + 1) return undefined;
  // The record a delete removed is the one this version left.
  if (next.row.kind === "deleted") return next.record;
  const before: Record<string, unknown> = { ...next.record };
  for (const [field, { from }] of Object.entries(changesIn(next.row))) {
    if (from === null) delete before[field];
    else before[field] = from;
  }
  before.version = version;
  before.updatedAt = new Date(Number(row.at)).toISOString();
  before.updatedBy = row.author;
  return before as unknown as Rapatriement;
}

function changesIn(row: repository.Row): FieldChanges {
  return row.body === null ? {} : (JSON.parse(String(row.body)) as FieldChanges);
}
