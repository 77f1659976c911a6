/**
 * Forward-only migrations: each step runs in its own transaction, so a step
 * that fails leaves the database exactly at the step before, and the object
 * in S3 is refused (STORAGE_UNREADABLE) and never overwritten.
 */
import { describe, expect, test } from "vitest";
import {
  createDatabase,
  type DatabaseSchema,
  type Migration,
  migrate,
  readPragma,
} from "../../../lambda/storage/migrations.ts";
import { loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import { etagOf, getBytes, newEngine, newTarget, recordRequests } from "../../support/local-s3.ts";

const NOTES: Migration = {
  version: 1,
  description: "notes",
  up: (db) => db.run("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"),
};
const TAGS: Migration = {
  version: 2,
  description: "tags",
  up: (db) => db.run("CREATE TABLE tags (name TEXT PRIMARY KEY)"),
};
/** Changes a table, then fails: what it changed must not stay. */
const BROKEN: Migration = {
  version: 3,
  description: "notes get a colour",
  up: (db) => {
    db.run("ALTER TABLE notes ADD COLUMN colour TEXT");
    db.run("UPDATE notes SET colour = 'red'");
    db.run("INSERT INTO no_such_table VALUES (1)");
  },
};

function schema(...migrations: Migration[]): DatabaseSchema {
  return { name: "notes", applicationId: 0x4e4f5445, migrations };
}

function columnsOf(db: ReturnType<typeof createDatabase>, table: string): string[] {
  return (db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((row) => String(row[1]));
}

describe("migrations", () => {
  test("run in the order of their versions, whatever the order they are listed in", async () => {
    const SQL = await loadSqlJs();
    /** Needs the table of migration 1. */
    const INDEX: Migration = {
      version: 2,
      description: "notes by text",
      up: (db) => db.run("CREATE INDEX notes_by_text ON notes (text)"),
    };
    const db = createDatabase(SQL, schema(INDEX, NOTES));
    expect(readPragma(db, "user_version")).toBe(2);
    expect(columnsOf(db, "notes")).toEqual(["id", "text"]);
    db.close();

    // An older file moves up from its own version: the steps it has are not run again.
    const older = createDatabase(SQL, schema(NOTES), 1);
    migrate(older, schema(TAGS, NOTES), 1);
    expect(readPragma(older, "user_version")).toBe(2);
    expect(columnsOf(older, "tags")).toEqual(["name"]);
    older.close();
  });
});

describe("a new database", () => {
  test("overwrites what a delete frees from its very first save: the object keeps no deleted text", async () => {
    const target = await newTarget("sqlite");
    const { store } = await newEngine(target, { schema: schema(NOTES) });
    await store.write((db) => {
      db.run("INSERT INTO notes (text) VALUES ('kept')");
      db.run("INSERT INTO notes (text) VALUES ('secret-9f1c: written, then deleted')");
      db.run("DELETE FROM notes WHERE text LIKE 'secret-%'");
    });
    const text = new TextDecoder("latin1").decode(await getBytes(target));
    expect(text).toContain("kept");
    expect(text).not.toContain("secret-9f1c");
  });
});

describe("a migration that fails", () => {
  test("is rolled back alone: the steps before it stay, the database is left at the last good version", async () => {
    const SQL = await loadSqlJs();
    const db = createDatabase(SQL, schema(NOTES), 1);
    db.run("INSERT INTO notes (text) VALUES ('kept')");

    expect(() => migrate(db, schema(NOTES, TAGS, BROKEN), 1)).toThrow(
      expect.objectContaining({
        code: "STORAGE_UNREADABLE",
        message: "la migration 3 (notes get a colour) de la base notes a échoué",
        // SQLite's own reason stays attached, for the logs.
        cause: expect.objectContaining({ message: expect.stringMatching(/no such table/) }),
      }),
    );

    expect(readPragma(db, "user_version")).toBe(2);
    expect(columnsOf(db, "tags")).toEqual(["name"]);
    expect(columnsOf(db, "notes")).toEqual(["id", "text"]);
    expect(db.exec("SELECT text FROM notes")[0]?.values).toEqual([["kept"]]);
    db.close();
  });

  test("on the object in S3: refused with STORAGE_UNREADABLE, and left as the older code wrote it", async () => {
    const target = await newTarget("sqlite");
    const { store: old } = await newEngine(target, { schema: schema(NOTES) });
    await old.write((db) => db.run("INSERT INTO notes (text) VALUES ('first')"));
    const etag = await etagOf(target);

    const { store, s3 } = await newEngine(target, { schema: schema(NOTES, TAGS, BROKEN) });
    const requests = recordRequests(s3);
    await expect(
      store.write((db) => db.run("INSERT INTO notes (text) VALUES ('second')")),
    ).rejects.toMatchObject({
      status: 500,
      code: "STORAGE_UNREADABLE",
      message: "la migration 3 (notes get a colour) de la base notes a échoué",
    });
    expect(requests.map((r) => r.command)).toEqual(["GetObject"]);
    expect(await etagOf(target)).toBe(etag);

    // The code that wrote it still reads it, unchanged.
    const { store: again } = await newEngine(target, { schema: schema(NOTES) });
    expect(await again.read((db) => db.exec("SELECT text FROM notes")[0]?.values)).toEqual([
      ["first"],
    ]);
  });
});
