/**
 * Storage layer: a file codec turns the object's bytes into an in-memory sql.js
 * database and back. Both formats load into the same schema, so every query is
 * the same SQL whichever format the object is kept in.
 */
import type { StorageStrategy } from "../config.ts";
import { StorageUnreadableError } from "../errors.ts";
import {
  currentVersion,
  type DatabaseSchema,
  ensureCommitsTable,
  migrate,
  openConnection,
} from "./migrations.ts";
import type { Database, SqlJsStatic } from "./sql-js.ts";

export interface DecodeOptions {
  /**
   * The bytes are proven to be the ones this engine wrote (see
   * object-fetch.ts): the file's full integrity check is skipped, since it
   * could only find what the engine itself would have written. Anything else
   * gets it.
   */
  verified?: boolean;
}

export interface FileCodec {
  readonly format: StorageStrategy;
  /** Content-Type written with the object, naming the format. */
  readonly contentType: string;
  /**
   * Opens the stored bytes at the schema's current version. Throws
   * `StorageUnreadableError` for anything that is not a valid file of this
   * format at a version this code knows.
   */
  decode(
    bytes: Uint8Array,
    SQL: SqlJsStatic,
    schema: DatabaseSchema,
    options?: DecodeOptions,
  ): Database;
  encode(db: Database, schema: DatabaseSchema): Uint8Array;
}

const SQLITE_HEADER = "SQLite format 3\0";

export function looksLikeSqlite(bytes: Uint8Array): boolean {
  if (bytes.length < SQLITE_HEADER.length) return false;
  for (let i = 0; i < SQLITE_HEADER.length; i++) {
    if (bytes[i] !== SQLITE_HEADER.charCodeAt(i)) return false;
  }
  return true;
}

export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    return byte === 0x7b || byte === 0x5b; // "{" or "["
  }
  return false;
}

/**
 * Brings an opened file of `version` to the current schema, or refuses it when
 * it comes from newer code. Closes `db` on refusal.
 */
export function upgradeOpened(
  db: Database,
  version: number,
  schema: DatabaseSchema,
  format: StorageStrategy,
): Database {
  const current = currentVersion(schema);
  try {
    if (version > current) {
      throw new StorageUnreadableError({
        key: "storageUnreadable",
        params: { problem: "newer", format, version, current },
      });
    }
    openConnection(db);
    ensureCommitsTable(db);
    migrate(db, schema, version, current);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
