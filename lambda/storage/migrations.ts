/**
 * Storage layer: forward-only schema migrations keyed by `PRAGMA user_version`,
 * and the storage's own bookkeeping table. The storage knows nothing of what
 * the tables hold: the domain hands it a `DatabaseSchema`.
 */
import { StorageUnreadableError } from "../errors.ts";
import type { Database, SqlJsStatic } from "./sql-js.ts";

export interface Migration {
  /** The schema version this migration produces: 1, 2, 3… in order. */
  version: number;
  description: string;
  up(db: Database): void;
}

export interface DatabaseSchema {
  /** Human name used in error messages, e.g. "rapatriements". */
  name: string;
  /** `PRAGMA application_id` stamped on every file, so a foreign SQLite file is recognised. */
  applicationId: number;
  migrations: readonly Migration[];
  /**
   * Run in every save, inside the round's transaction, just before it is
   * encoded: forgets what the data no longer needs (expired receipts, say),
   * so that what the object keeps for itself stays bounded by age, not by
   * traffic, and stamps what the save adds with the save's commit id (the
   * outbox's events name the commit they landed in).
   */
  housekeeping?(db: Database, save: SaveStamp): void;
  /**
   * Tables the JSON codec writes as `{"columns": […], "rows": [[…], …]}`, one
   * row per line, rather than one object per row: bookkeeping of many small
   * rows, where the column names repeated on every row would cost more than
   * the values. The decoder reads either form for any table.
   */
  compactTables?: readonly string[];
}

/** The save being made: its time and its commit id. */
export interface SaveStamp {
  now: Date;
  commitId: string;
}

/** Commit ids of recent saves: how a PUT whose response was lost is recognised. */
export const COMMITS_TABLE = "storage_commits";
/**
 * How long a commit id is kept. A writer looks for its own commit ids only
 * while its invocation runs, and no Lambda invocation outlives 15 minutes;
 * keeping them by age (not by count) means no burst of other writers can
 * push one out before its writer has looked.
 */
export const COMMIT_RETENTION_MS = 20 * 60 * 1000;

export function currentVersion(schema: DatabaseSchema): number {
  return schema.migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

export function readPragma(db: Database, pragma: string): number {
  // Stryker disable next-line OptionalChaining: the pragmas asked for (user_version, application_id, page and freelist counts) always answer one row
  const value = db.exec(`PRAGMA ${pragma}`)[0]?.values[0]?.[0];
  return typeof value === "number" ? value : 0;
}

/** A new database at `version` (default: current), stamped with the application id. */
export function createDatabase(
  SQL: SqlJsStatic,
  schema: DatabaseSchema,
  version = currentVersion(schema),
): Database {
  const db = new SQL.Database();
  db.run(`PRAGMA application_id = ${schema.applicationId | 0}`);
  openConnection(db);
  ensureCommitsTable(db);
  migrate(db, schema, 0, version);
  return db;
}

/** Applies each migration after `from` up to `to`, each in its own transaction. */
export function migrate(
  db: Database,
  schema: DatabaseSchema,
  from: number,
  to = currentVersion(schema),
): void {
  const steps = [...schema.migrations]
    .filter((m) => m.version > from && m.version <= to)
    .sort((a, b) => a.version - b.version);
  for (const step of steps) {
    db.run("BEGIN");
    try {
      step.up(db);
      db.run(`PRAGMA user_version = ${step.version | 0}`);
      db.run("COMMIT");
    } catch (error) {
      db.run("ROLLBACK");
      throw new StorageUnreadableError(
        {
          key: "storageUnreadable",
          params: {
            problem: "migrationFailed",
            name: schema.name,
            version: step.version,
            description: step.description,
          },
        },
        { cause: error },
      );
    }
  }
}

/**
 * Settings of the connection, not of the file, so they are set on each
 * database opened (older sql.js releases also reopened it in `export()`;
 * 1.16 copies through the backup API and keeps them: "a record deleted after
 * keyed writes leaves none of its text in the object" fails if they are lost).
 * `secure_delete` overwrites what a delete frees, so a deleted record's text
 * is not left in the object's free space.
 */
export function openConnection(db: Database): void {
  db.run("PRAGMA secure_delete = ON");
}

export function ensureCommitsTable(db: Database): void {
  db.run(
    `CREATE TABLE IF NOT EXISTS ${COMMITS_TABLE} (
       seq INTEGER PRIMARY KEY,
       id TEXT NOT NULL UNIQUE,
       committed_at TEXT NOT NULL
     )`,
  );
}

/** Records this save's commit id and forgets those older than the retention. */
export function recordCommit(db: Database, commitId: string, at: Date): void {
  db.run(`DELETE FROM ${COMMITS_TABLE} WHERE committed_at < ?`, [
    new Date(at.getTime() - COMMIT_RETENTION_MS).toISOString(),
  ]);
  db.run(`INSERT INTO ${COMMITS_TABLE} (id, committed_at) VALUES (?, ?)`, [
    commitId,
    at.toISOString(),
  ]);
}

/**
 * Readies a database for its save under `commitId`: the schema's
 * housekeeping, then the commit id. Every writer of the object calls it (the
 * engine, and the CLI's restore and conversion), so each save is stamped.
 */
export function sealSave(db: Database, schema: DatabaseSchema, save: SaveStamp): void {
  schema.housekeeping?.(db, save);
  recordCommit(db, save.commitId, save.now);
}

/** Which of `commitIds` the database holds (at most one, since they are one save's attempts). */
export function findCommit(db: Database, commitIds: readonly string[]): string | undefined {
  if (commitIds.length === 0) return undefined;
  const placeholders = commitIds.map(() => "?").join(", ");
  const found = db.exec(`SELECT id FROM ${COMMITS_TABLE} WHERE id IN (${placeholders})`, [
    ...commitIds,
  ]);
  const id = found[0]?.values[0]?.[0];
  return typeof id === "string" ? id : undefined;
}
