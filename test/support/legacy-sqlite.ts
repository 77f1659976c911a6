/**
 * Test support: SQLite files as the earlier application left them, written to
 * disk by SQLite itself — Node.js's built-in `node:sqlite` — so that no
 * `sqlite3` program is needed, and read back the same way, independently of
 * sql.js (the reader under test).
 */
import { DatabaseSync } from "node:sqlite";

/**
 * Runs `sql` (any number of statements, each committed as the `sqlite3` tool
 * commits it) into a new file at `file`.
 */
export function writeSqliteFile(file: string, sql: string): void {
  const db = new DatabaseSync(file);
  try {
    // Debian's SQLite, behind the sqlite3 tool and Python's sqlite3 module, is
    // built with SQLITE_SECURE_DELETE (free space zeroed). With it the file is
    // byte for byte the one that tool writes, but for the library version
    // stamped in the header.
    db.exec("PRAGMA secure_delete = ON");
    db.exec(sql);
  } finally {
    db.close();
  }
}

/** The rows a query returns from the file at `file`, opened read-only. */
export function readSqliteRows(file: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}
