/**
 * Domain: the SQL that stores rapatriements in a sql.js database. Bound
 * parameters only; the only text joined into SQL is from fixed fragments here.
 */
import type { Database, SqlValue } from "sql.js";
import type { Actor, Line, Rapatriement, RapatriementFields, Status } from "./model.ts";
import { fittingCount, MAX_PAGE_BYTES } from "./page-budget.ts";
import { minuteOf, PRUNE_INTERVAL_MINUTES } from "./receipts.ts";

export type Row = Record<string, SqlValue>;

/** Every row `sql` answers, as objects keyed by column. */
export function all(db: Database, sql: string, params: SqlValue[] = []): Row[] {
  const statement = db.prepare(sql);
  try {
    statement.bind(params);
    const rows: Row[] = [];
    while (statement.step()) rows.push(statement.getAsObject());
    return rows;
  } finally {
    // Stryker disable next-line CallExpression: sql.js frees a statement only when told, and exposes no count of them: a leak no test can observe
    statement.free();
  }
}

const COLUMNS = `seq, id, reference, origin, destination, status, requested_at, expected_at,
  comment, created_at, updated_at, version,
  (SELECT name FROM actors WHERE actors.id = rapatriements.created_by) AS created_by_name,
  (SELECT name FROM actors WHERE actors.id = rapatriements.updated_by) AS updated_by_name`;

export interface StoredRapatriement {
  seq: number;
  record: Rapatriement;
}

export function findById(db: Database, id: string): StoredRapatriement | undefined {
  return findOne(db, "id", id);
}

/** The record at a list position; positions are never reused, so it is the one that was there. */
export function findBySeq(db: Database, seq: number): StoredRapatriement | undefined {
  return findOne(db, "seq", seq);
}

function findOne(
  db: Database,
  column: "id" | "seq",
  value: SqlValue,
): StoredRapatriement | undefined {
  const row = all(db, `SELECT ${COLUMNS} FROM rapatriements WHERE ${column} = ?`, [value])[0];
  if (row === undefined) return undefined;
  const id = String(row.id);
  return { seq: Number(row.seq), record: toRecord(row, linesOf(db, [id]).get(id) ?? []) };
}

export function findIdByReference(db: Database, reference: string): string | undefined {
  const row = all(db, "SELECT id FROM rapatriements WHERE reference = ?", [reference])[0];
  return row === undefined ? undefined : String(row.id);
}

export interface ListFilter {
  statuses?: Status[];
  origin?: string;
  destination?: string;
  reference?: string;
  /** Only records older than this position (the cursor). */
  beforeSeq?: number;
}

/**
 * Newest first; returns up to `limit` records, no more than `maxBytes` of
 * response payload (see page-budget.ts), and the position to continue from.
 */
export function list(
  db: Database,
  filter: ListFilter,
  limit: number,
  maxBytes: number = MAX_PAGE_BYTES,
): { items: Rapatriement[]; nextSeq: number | undefined } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.statuses !== undefined && filter.statuses.length > 0) {
    where.push(`status IN (${filter.statuses.map(() => "?").join(", ")})`);
    params.push(...filter.statuses);
  }
  for (const [column, value] of [
    ["origin", filter.origin],
    ["destination", filter.destination],
    ["reference", filter.reference],
  ] as const) {
    if (value !== undefined) {
      where.push(`${column} = ?`);
      params.push(value);
    }
  }
  if (filter.beforeSeq !== undefined) {
    where.push("seq < ?");
    params.push(filter.beforeSeq);
  }
  const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
  const rows = all(db, `SELECT ${COLUMNS} FROM rapatriements ${clause} ORDER BY seq DESC LIMIT ?`, [
    ...params,
    limit + 1,
  ]);
  const page = rows.slice(0, limit);
  const lines = linesOf(
    db,
    page.map((row) => String(row.id)),
  );
  // Stryker disable next-line ArrayDeclaration: every record has at least one line (1 to 500), so the fallback is for the type checker
  const items = page.map((row) => toRecord(row, lines.get(String(row.id)) ?? []));
  const kept = fittingCount(items, maxBytes);
  const last = page[kept - 1];
  const more = rows.length > kept;
  return {
    items: items.slice(0, kept),
    nextSeq: more && last !== undefined ? Number(last.seq) : undefined,
  };
}

export function count(db: Database): number {
  return Number(all(db, "SELECT COUNT(*) AS n FROM rapatriements")[0]?.n ?? 0);
}

/** Records whose author is not known: written before schema 4, or imported from a file that did not say. */
export function countWithoutAuthor(db: Database): number {
  return Number(
    all(db, "SELECT COUNT(*) AS n FROM rapatriements WHERE created_by IS NULL")[0]?.n ?? 0,
  );
}

/**
 * Adds a record at the next list position, and returns that position.
 * Positions are never reused, not even the last one after its record is
 * deleted, so a list cursor (a position) never lets a newer record into a
 * later page, and a receipt's position never names another record.
 */
export function insert(db: Database, record: Rapatriement): number {
  // The counter starts past the positions a file from before it already holds.
  db.run(
    `INSERT INTO counters (name, value)
     VALUES ('rapatriements.seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM rapatriements))
     ON CONFLICT (name) DO UPDATE SET value = value + 1`,
  );
  db.run(
    `INSERT INTO rapatriements (seq, id, reference, origin, destination, status, requested_at,
       expected_at, comment, created_at, updated_at, version, created_by, updated_by)
     VALUES ((SELECT value FROM counters WHERE name = 'rapatriements.seq'),
       ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      record.id,
      record.reference,
      record.origin,
      record.destination,
      record.status,
      record.requestedAt ?? null,
      record.expectedAt ?? null,
      record.comment ?? null,
      record.createdAt,
      record.updatedAt,
      record.version,
      actorId(db, record.createdBy),
      actorId(db, record.updatedBy),
    ],
  );
  insertLines(db, record.id, record.lines);
  // Stryker disable next-line OptionalChaining: the counter was written just before, so the row is there
  return Number(all(db, "SELECT value FROM counters WHERE name = 'rapatriements.seq'")[0]?.value);
}

export function update(db: Database, record: Rapatriement, linesChanged: boolean): void {
  const [, previousUpdater = null] = actorsOfRecord(db, record.id);
  const updater = actorId(db, record.updatedBy);
  db.run(
    `UPDATE rapatriements SET reference = ?, origin = ?, destination = ?, status = ?,
       requested_at = ?, expected_at = ?, comment = ?, updated_at = ?, version = ?,
       updated_by = ?
     WHERE id = ?`,
    [
      record.reference,
      record.origin,
      record.destination,
      record.status,
      record.requestedAt ?? null,
      record.expectedAt ?? null,
      record.comment ?? null,
      record.updatedAt,
      record.version,
      updater,
      record.id,
    ],
  );
  if (linesChanged) {
    db.run("DELETE FROM rapatriement_lines WHERE rapatriement_id = ?", [record.id]);
    insertLines(db, record.id, record.lines);
  }
  // The same caller again is still named by this very record: no scan.
  if (previousUpdater !== updater) forgetUnusedActors(db, [previousUpdater]);
}

/**
 * Empties the rapatriements and their lines, and the receipts: they speak of
 * records that are gone, and a command redelivered after the data was
 * replaced must be applied to the new data, not answered from the old.
 */
export function removeAll(db: Database): void {
  db.run("DELETE FROM rapatriement_lines");
  db.run("DELETE FROM rapatriements");
  db.run("DELETE FROM actors");
  db.run("DELETE FROM receipts");
}

/** Every record, oldest first (exports, imports). */
export function listAll(db: Database): Rapatriement[] {
  const rows = all(db, `SELECT ${COLUMNS} FROM rapatriements ORDER BY seq`);
  const lines = groupLines(
    all(
      db,
      "SELECT rapatriement_id, sku, quantity, unit FROM rapatriement_lines ORDER BY rapatriement_id, position",
    ),
  );
  // Stryker disable next-line ArrayDeclaration: every record has at least one line (1 to 500), so the fallback is for the type checker
  return rows.map((row) => toRecord(row, lines.get(String(row.id)) ?? []));
}

export function remove(db: Database, id: string): void {
  const actors = actorsOfRecord(db, id);
  db.run("DELETE FROM rapatriement_lines WHERE rapatriement_id = ?", [id]);
  db.run("DELETE FROM rapatriements WHERE id = ?", [id]);
  forgetUnusedActors(db, actors);
}

/** The id of a caller's name in `actors`, added on its first write. */
function actorId(db: Database, name: Actor): number | null {
  if (name === null) return null;
  db.run("INSERT INTO actors (name) VALUES (?) ON CONFLICT (name) DO NOTHING", [name]);
  // Stryker disable next-line OptionalChaining: the name was inserted just before, so the row is there
  return Number(all(db, "SELECT id FROM actors WHERE name = ?", [name])[0]?.id);
}

/** `[created_by, updated_by]` of a record, as ids in `actors`. */
function actorsOfRecord(db: Database, id: string): (number | null)[] {
  const row = all(db, "SELECT created_by, updated_by FROM rapatriements WHERE id = ?", [id])[0];
  return [row?.created_by, row?.updated_by].map((v) => (typeof v === "number" ? v : null));
}

/**
 * Forgets the names no record points at any more: a caller's name is
 * personal data, and a deleted record leaves none behind. The scan stops at
 * the first record that still names the caller, so it is short unless the
 * name is going.
 */
function forgetUnusedActors(db: Database, ids: readonly (number | null)[]): void {
  for (const id of new Set(ids)) {
    if (id === null) continue;
    db.run(
      `DELETE FROM actors WHERE id = ?
         AND NOT EXISTS (SELECT 1 FROM rapatriements WHERE created_by = ? OR updated_by = ?)`,
      [id, id, id],
    );
  }
}

function insertLines(db: Database, id: string, lines: readonly Line[]): void {
  const statement = db.prepare(
    "INSERT INTO rapatriement_lines (rapatriement_id, position, sku, quantity, unit) VALUES (?, ?, ?, ?, ?)",
  );
  try {
    lines.forEach((line, position) => {
      statement.run([id, position, line.sku, line.quantity, line.unit ?? null]);
    });
  } finally {
    // Stryker disable next-line CallExpression: sql.js frees a statement only when told, and exposes no count of them: a leak no test can observe
    statement.free();
  }
}

function linesOf(db: Database, ids: readonly string[]): Map<string, Line[]> {
  if (ids.length === 0) return new Map();
  const rows = all(
    db,
    `SELECT rapatriement_id, sku, quantity, unit FROM rapatriement_lines
     WHERE rapatriement_id IN (${ids.map(() => "?").join(", ")})
     ORDER BY rapatriement_id, position`,
    [...ids],
  );
  return groupLines(rows);
}

function groupLines(rows: Row[]): Map<string, Line[]> {
  const byId = new Map<string, Line[]>();
  for (const row of rows) {
    const id = String(row.rapatriement_id);
    const line: Line = { sku: String(row.sku), quantity: Number(row.quantity) };
    if (row.unit !== null && row.unit !== undefined) line.unit = String(row.unit);
    const lines = byId.get(id);
    if (lines === undefined) byId.set(id, [line]);
    else lines.push(line);
  }
  return byId;
}

function toRecord(row: Row, lines: Line[]): Rapatriement {
  const fields: RapatriementFields = {
    reference: String(row.reference),
    origin: String(row.origin),
    destination: String(row.destination),
    lines,
    status: String(row.status) as Status,
  };
  if (row.requested_at !== null) fields.requestedAt = String(row.requested_at);
  if (row.expected_at !== null) fields.expectedAt = String(row.expected_at);
  if (row.comment !== null) fields.comment = String(row.comment);
  return {
    id: String(row.id),
    ...fields,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
    version: Number(row.version),
    createdBy: row.created_by_name === null ? null : String(row.created_by_name),
    updatedBy: row.updated_by_name === null ? null : String(row.updated_by_name),
  };
}

export interface StoredReceipt {
  /** 48 bits of the request's fingerprint, or one of `ANY_REQUEST` (schema 2's, which kept none). */
  fingerprint: number;
  /** The record's list position (`rapatriements.seq`, never reused); 0 when not known. */
  recordSeq: number;
  /** The record's version the write produced (for a delete: the version deleted). */
  version: number;
}

/**
 * The first of the receipts under `keyHashes` (see `receiptHash`) still alive
 * at `nowMinute`: one expired but not yet pruned is not answered from.
 */
export function findReceipt(
  db: Database,
  keyHashes: readonly number[],
  nowMinute: number,
): StoredReceipt | undefined {
  for (const keyHash of keyHashes) {
    const row = all(
      db,
      `SELECT fingerprint, record_seq, version FROM receipts
       WHERE key_hash = ? AND expires_minute > ?`,
      [keyHash, nowMinute],
    )[0];
    if (row !== undefined) {
      return {
        fingerprint: Number(row.fingerprint),
        recordSeq: Number(row.record_seq),
        version: Number(row.version),
      };
    }
  }
  return undefined;
}

export function saveReceipt(
  db: Database,
  keyHash: number,
  receipt: StoredReceipt,
  expiresMinute: number,
): void {
  // Replaces an expired receipt under the same key, not yet pruned.
  db.run(
    `INSERT OR REPLACE INTO receipts (key_hash, fingerprint, record_seq, version, expires_minute)
     VALUES (?, ?, ?, ?, ?)`,
    [keyHash, receipt.fingerprint, receipt.recordSeq, receipt.version, expiresMinute],
  );
}

const PRUNED_COUNTER = "receipts.pruned_minute";

/**
 * Forgets the receipts whose window has passed, at most once an hour (see
 * `PRUNE_INTERVAL_MINUTES`): the minute of the last pass is kept in
 * `counters`. A clock that went back (another container's) prunes at once.
 */
export function pruneReceipts(db: Database, now: Date): void {
  const minute = minuteOf(now.getTime());
  const last = all(db, "SELECT value FROM counters WHERE name = ?", [PRUNED_COUNTER])[0];
  if (last !== undefined) {
    const since = minute - Number(last.value);
    if (since >= 0 && since < PRUNE_INTERVAL_MINUTES) return;
  }
  db.run("DELETE FROM receipts WHERE expires_minute <= ?", [minute]);
  db.run(
    `INSERT INTO counters (name, value) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
    [PRUNED_COUNTER, minute],
  );
}
