/**
 * Storage layer: `STORAGE_STRATEGY=sqlite`. The object is the SQLite file
 * itself, so an operator can download it and open it with `sqlite3`.
 */
import { StorageUnreadableError } from "../errors.ts";
import { type FileCodec, looksLikeJson, looksLikeSqlite, upgradeOpened } from "./file-codec.ts";
import { readPragma } from "./migrations.ts";
import type { Database } from "./sql-js.ts";

export const sqliteCodec: FileCodec = {
  format: "sqlite",
  contentType: "application/vnd.sqlite3",

  decode(bytes, SQL, schema, options = {}) {
    if (!looksLikeSqlite(bytes)) {
      throw new StorageUnreadableError({
        key: "storageUnreadable",
        params: { problem: looksLikeJson(bytes) ? "jsonInSqlite" : "noSqliteHeader" },
      });
    }
    let db: Database;
    try {
      db = new SQL.Database(bytes);
      // Stryker disable BlockStatement,StringLiteral,ObjectLiteral: sql.js opens any bytes without reading them (a file that is not a database fails at its first query, the check below); kept for a sql.js that would read on open
    } catch (error) {
      throw new StorageUnreadableError(
        { key: "storageUnreadable", params: { problem: "sqliteWontOpen" } },
        { cause: error },
      );
    }
    // Stryker restore BlockStatement,StringLiteral,ObjectLiteral
    try {
      // The check reads every page: at 100,000 records it costs more than the
      // download. Bytes proven to be this engine's own need no second opinion.
      const check =
        options.verified === true ? "ok" : db.exec("PRAGMA quick_check")[0]?.values[0]?.[0];
      if (check !== "ok") throw new Error(String(check));
    } catch (error) {
      // Stryker disable next-line CallExpression: the refused copy is freed; sql.js gives no count of open databases to test
      db.close();
      throw new StorageUnreadableError(
        { key: "storageUnreadable", params: { problem: "sqliteCorrupt" } },
        { cause: error },
      );
    }
    const applicationId = readPragma(db, "application_id");
    if (applicationId !== schema.applicationId) {
      // Stryker disable next-line CallExpression: as above, a leak no test can see
      db.close();
      throw new StorageUnreadableError({
        key: "storageUnreadable",
        params: { problem: "notApplication", name: schema.name, applicationId },
      });
    }
    return upgradeOpened(db, readPragma(db, "user_version"), schema, "sqlite");
  },

  encode(db) {
    // Deleting many records leaves free pages that every later GET and PUT
    // would carry. VACUUM rewrites the file (58 ms at 10,000 records, 4.8 MB),
    // about what an eighth of that file costs to carry both ways a few times:
    // past an eighth free, the file is compacted, and with it the
    // half-empty pages that updates leave in the records' tables.
    if (readPragma(db, "freelist_count") * 8 > readPragma(db, "page_count")) db.run("VACUUM");
    // sql.js 1.16 exports through SQLite's backup API: the connection, and its
    // settings (openConnection in migrations.ts), stay as they were.
    return db.export();
  },
};
