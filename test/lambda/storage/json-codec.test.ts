/**
 * STORAGE_STRATEGY=json through the local S3 server: a data file edited by
 * hand is checked before anything is trusted. Whatever the edit broke, the
 * object is refused with STORAGE_UNREADABLE, the message says what is wrong
 * and where, and the object is left exactly as it is.
 */
import { describe, expect, test } from "vitest";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { JSON_FORMAT } from "../../../lambda/storage/json-codec.ts";
import { currentVersion, type DatabaseSchema } from "../../../lambda/storage/migrations.ts";
import {
  etagOf,
  expectStoredAndRefused,
  getBytes,
  newEngine,
  newTarget,
  putBytes,
  sampleInput,
} from "../../support/local-s3.ts";

type Document = {
  format: unknown;
  schema: unknown;
  schemaVersion: unknown;
  tables: Record<string, unknown[]>;
};

/** Each hand edit, and what the refusal must say (before "; l'objet n'a pas été modifié"). */
const EDITS: [string, (doc: Document) => unknown, string][] = [
  ["a list instead of the document", (doc) => [doc], "le document JSON n'est pas un objet"],
  ["null instead of the document", () => null, "le document JSON n'est pas un objet"],
  ["a number instead of the document", () => 4, "le document JSON n'est pas un objet"],
  [
    "tables as text",
    (doc) => ({ ...doc, tables: "rapatriements" }),
    "le document JSON n'a pas d'objet tables",
  ],
  ["tables null", (doc) => ({ ...doc, tables: null }), "le document JSON n'a pas d'objet tables"],
  [
    "a schema version this code does not know yet",
    (doc) => ({ ...doc, schemaVersion: currentVersion(rapatriementsSchema) + 1 }),
    `le document JSON est au schéma ${currentVersion(rapatriementsSchema) + 1}, plus récent que celui que ce code connaît (${currentVersion(rapatriementsSchema)}) : mettez à jour l'application`,
  ],
  [
    "a record replaced by null",
    (doc) => withRow(doc, () => null),
    "rapatriements[0] n'est pas un objet",
  ],
  [
    "another format",
    (doc) => ({ ...doc, format: "rapatriements/v1" }),
    `le document JSON n'est pas au format ${JSON_FORMAT}`,
  ],
  [
    "another schema",
    (doc) => ({ ...doc, schema: "commandes" }),
    `le document JSON n'est pas une base rapatriements (schema "commandes")`,
  ],
  [
    "a schemaVersion in quotes",
    (doc) => ({ ...doc, schemaVersion: String(doc.schemaVersion) }),
    "le document JSON n'a pas de schemaVersion entier",
  ],
  [
    "a fractional schemaVersion",
    (doc) => ({ ...doc, schemaVersion: 1.5 }),
    "le document JSON n'a pas de schemaVersion entier",
  ],
  [
    "a negative schemaVersion",
    (doc) => ({ ...doc, schemaVersion: -1 }),
    "le document JSON n'a pas de schemaVersion entier",
  ],
  [
    "tables as a list",
    (doc) => ({ ...doc, tables: Object.values(doc.tables) }),
    "le document JSON n'a pas d'objet tables",
  ],
  [
    "an unknown table",
    (doc) => ({ ...doc, tables: { ...doc.tables, notes: [] } }),
    'table inconnue "notes" dans le document JSON',
  ],
  [
    "one of SQLite's own tables",
    (doc) => ({ ...doc, tables: { ...doc.tables, sqlite_sequence: [] } }),
    'table inconnue "sqlite_sequence" dans le document JSON',
  ],
  [
    "a table that is neither a list nor a compact table",
    (doc) => ({ ...doc, tables: { ...doc.tables, rapatriements: "RAP-1" } }),
    'la table "rapatriements" n\'est ni une liste d\'objets ni un objet {"columns": […], "rows": […]}',
  ],
  [
    "a compact table with neither columns nor rows",
    (doc) => ({ ...doc, tables: { ...doc.tables, rapatriements: {} } }),
    'la table compacte "rapatriements" : "columns" n\'est pas une liste de noms de colonnes',
  ],
  [
    "a compact table with another key",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [], comment: "x" }),
    'la table compacte "receipts" : clé inconnue "comment" (attendues : columns, rows)',
  ],
  [
    "compact columns given as text",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS.join(","), rows: [] }),
    'la table compacte "receipts" : "columns" n\'est pas une liste de noms de colonnes',
  ],
  [
    "a compact column that is not a name",
    (doc) => withReceipts(doc, { columns: [...RECEIPT_COLUMNS.slice(1), 7], rows: [] }),
    'la table compacte "receipts" : "columns" n\'est pas une liste de noms de colonnes',
  ],
  [
    "an unknown compact column",
    (doc) => withReceipts(doc, { columns: [...RECEIPT_COLUMNS, "key"], rows: [] }),
    'la table compacte "receipts" : colonne inconnue "key"',
  ],
  [
    "a compact column named twice",
    (doc) => withReceipts(doc, { columns: [...RECEIPT_COLUMNS, "version"], rows: [] }),
    'la table compacte "receipts" : colonne "version" nommée deux fois',
  ],
  [
    "compact rows that are not a list",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: { 0: RECEIPT } }),
    'la table compacte "receipts" : "rows" n\'est pas une liste',
  ],
  [
    "a compact row that is an object",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [RECEIPT, { key_hash: 2 }] }),
    "receipts.rows[1] n'est pas une liste",
  ],
  [
    "a compact row with a value missing",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [RECEIPT.slice(1)] }),
    "receipts.rows[0] a 4 valeurs pour 5 colonnes",
  ],
  [
    "a compact value that is neither text, number nor null",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [[1, true, 0, 1, 2]] }),
    "receipts.rows[0].fingerprint : valeur ni texte, ni nombre, ni null",
  ],
  [
    "a compact row without a required value",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [[1, null, 0, 1, 2]] }),
    "receipts.rows[0] viole le schéma",
  ],
  [
    "a receipt copied twice in a compact table",
    (doc) => withReceipts(doc, { columns: RECEIPT_COLUMNS, rows: [RECEIPT, RECEIPT] }),
    "receipts.rows[1] viole le schéma",
  ],
  [
    "a row that is not an object",
    (doc) => withRow(doc, () => "RAP-1"),
    "rapatriements[0] n'est pas un objet",
  ],
  [
    "an unknown column",
    (doc) => withRow(doc, (row) => ({ ...row, colour: "red" })),
    'rapatriements[0] : colonne inconnue "colour"',
  ],
  [
    "a value that is neither text, number nor null",
    (doc) => withRow(doc, (row) => ({ ...row, comment: true })),
    "rapatriements[0].comment : valeur ni texte, ni nombre, ni null",
  ],
  [
    "a required value removed",
    (doc) => withRow(doc, ({ reference: _, ...row }) => row),
    "rapatriements[0] viole le schéma",
  ],
  [
    "a record copied twice",
    (doc) => ({
      ...doc,
      tables: { ...doc.tables, rapatriements: [...rows(doc), ...rows(doc)] },
    }),
    "rapatriements[1] viole le schéma",
  ],
];

const RECEIPT_COLUMNS = ["key_hash", "fingerprint", "record_seq", "version", "expires_minute"];
/** A receipt as the compact table holds it: one array of the columns' values. */
const RECEIPT = [1234567890123, 98765432101, 1, 1, 29_600_000];

function withReceipts(doc: Document, receipts: unknown): Document {
  return { ...doc, tables: { ...doc.tables, receipts } as Document["tables"] };
}

function rows(doc: Document): Record<string, unknown>[] {
  return doc.tables.rapatriements as Record<string, unknown>[];
}

function withRow(doc: Document, edit: (row: Record<string, unknown>) => unknown): Document {
  const [first, ...rest] = rows(doc);
  return { ...doc, tables: { ...doc.tables, rapatriements: [edit(first ?? {}), ...rest] } };
}

describe("a JSON data file edited by hand", () => {
  test("the file as written is read back: the edits below are the only difference", async () => {
    const target = await newTarget("json");
    await (await newEngine(target)).service.create(sampleInput(1));
    const doc = JSON.parse(Buffer.from(await getBytes(target)).toString("utf8")) as Document;
    await putBytes(target, JSON.stringify(doc));

    expect(doc.format).toBe(JSON_FORMAT);
    expect(rows(doc)).toHaveLength(1);
    expect((await (await newEngine(target)).service.listAll()).map((r) => r.reference)).toEqual([
      "RAP-1",
    ]);
  });

  test.each(EDITS)(
    "%s: STORAGE_UNREADABLE saying what is wrong, and the object left as it is",
    async (_label, edit, message) => {
      const target = await newTarget("json");
      await (await newEngine(target)).service.create(sampleInput(1));
      const doc = JSON.parse(Buffer.from(await getBytes(target)).toString("utf8")) as Document;
      await expectStoredAndRefused(
        target,
        JSON.stringify(edit(doc), null, 2),
        `${message} ; l'objet n'a pas été modifié`,
      );
    },
  );

  test("either form is read for any table, and the next save writes each table in its own form", async () => {
    const target = await newTarget("json");
    const { service } = await newEngine(target);
    const record = await service.create(sampleInput(1), { idempotencyKey: "k-1", actor: "alice" });
    const doc = JSON.parse(Buffer.from(await getBytes(target)).toString("utf8")) as Document;
    const receipts = doc.tables.receipts as unknown as { columns: string[]; rows: unknown[][] };
    expect(receipts.columns).toEqual(RECEIPT_COLUMNS);
    // Records as a compact table, receipts as a list of objects: the other form each.
    const columns = Object.keys(rows(doc)[0] ?? {});
    const swapped = {
      ...doc,
      tables: {
        ...doc.tables,
        rapatriements: { columns, rows: rows(doc).map((row) => columns.map((c) => row[c])) },
        receipts: receipts.rows.map((row) =>
          Object.fromEntries(receipts.columns.map((c, i) => [c, row[i]])),
        ),
      },
    };
    await putBytes(target, JSON.stringify(swapped));

    const { service: other } = await newEngine(target);
    expect(await other.get(record.id)).toEqual(record);
    // The receipt read from its objects still answers Alice's retry.
    expect(await other.create(sampleInput(1), { idempotencyKey: "k-1", actor: "alice" })).toEqual(
      record,
    );
    await other.create(sampleInput(2));
    const written = JSON.parse(Buffer.from(await getBytes(target)).toString("utf8")) as Document;
    expect(written.tables.rapatriements).toHaveLength(2);
    expect(written.tables.receipts).toEqual({ columns: RECEIPT_COLUMNS, rows: receipts.rows });
  });

  test("a byte that is not UTF-8, inside a text value, is refused rather than read as U+FFFD", async () => {
    const target = await newTarget("json");
    await (await newEngine(target)).service.create(sampleInput(1, { comment: "AB" }));
    const bytes = await getBytes(target);
    const at = Buffer.from(bytes).indexOf('"AB"') + 1;
    expect(at).toBeGreaterThan(0);
    const edited = Uint8Array.from(bytes);
    edited[at] = 0xff; // "AB" becomes "\xffB": valid JSON around an invalid byte
    const etag = await putBytes(target, edited);
    const { service } = await newEngine(target);

    const refused = await service.listAll().catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: "STORAGE_UNREADABLE",
      message: "l'objet n'est pas un document JSON valide ; l'objet n'a pas été modifié",
    });
    // The decoder's own reason is kept for the log line.
    expect((refused as Error).cause).toBeInstanceOf(TypeError);
    expect(await etagOf(target)).toBe(etag);
  });

  test("a document at schema version 0, with no tables yet, opens as an empty base and takes writes", async () => {
    const target = await newTarget("json");
    await putBytes(
      target,
      JSON.stringify({
        format: JSON_FORMAT,
        schema: rapatriementsSchema.name,
        schemaVersion: 0,
        tables: {},
      }),
    );
    const { service } = await newEngine(target);

    expect(await service.listAll()).toEqual([]);
    await service.create(sampleInput(1));
    const written = JSON.parse(Buffer.from(await getBytes(target)).toString("utf8")) as Document;
    expect(written.schemaVersion).toBe(currentVersion(rapatriementsSchema));
    expect(rows(written).map((row) => row.reference)).toEqual(["RAP-1"]);
  });
});

describe("a JSON data file written by the engine", () => {
  test("a table the schema names compact holds its columns once, then a row of values per line", async () => {
    const tagged: DatabaseSchema = {
      name: "tagged",
      applicationId: 0x54414753,
      migrations: [
        {
          version: 1,
          description: "notes and their tags",
          up: (db) =>
            db.run(`
              CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
              CREATE TABLE tags (note INTEGER NOT NULL, tag TEXT NOT NULL, weight REAL);
            `),
        },
      ],
      compactTables: ["tags"],
    };
    const target = await newTarget("json");
    const { store } = await newEngine(target, { schema: tagged });
    await store.write((db) =>
      db.run(`
        INSERT INTO notes VALUES (1, 'quai "4"');
        INSERT INTO tags VALUES (1, 'urgent', 0.5), (1, 'fragile', NULL);
      `),
    );

    const text = Buffer.from(await getBytes(target)).toString("utf8");
    expect(text).toContain(
      '\n"tags":{"columns":["note","tag","weight"],"rows":[\n[1,"urgent",0.5],\n[1,"fragile",null]\n]}',
    );
    expect((JSON.parse(text) as Document).tables.notes).toEqual([{ id: 1, text: 'quai "4"' }]);
    const { store: other } = await newEngine(target, { schema: tagged });
    expect(await other.read((db) => db.exec("SELECT * FROM tags")[0]?.values)).toEqual([
      [1, "urgent", 0.5],
      [1, "fragile", null],
    ]);
  });

  test("a value JSON cannot hold (a BLOB) fails the write, names its table, and leaves the object as it was", async () => {
    const files: DatabaseSchema = {
      name: "files",
      applicationId: 0x46494c45,
      migrations: [
        {
          version: 1,
          description: "files",
          up: (db) => db.run("CREATE TABLE files (name TEXT PRIMARY KEY, data)"),
        },
      ],
    };
    const target = await newTarget("json");
    const { store } = await newEngine(target, { schema: files });
    await store.write((db) => db.run("INSERT INTO files VALUES ('readme', 'text is fine')"));
    const etag = await etagOf(target);

    const refused = await store
      .write((db) => db.run("INSERT INTO files VALUES ('logo', x'89504e47')"))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe("files: a value cannot be written as JSON");
    // SQLite's own reason is kept for the log line.
    expect(String((refused as Error).cause)).toMatch(/BLOB/i);
    expect(await etagOf(target)).toBe(etag);
    expect(await store.read((db) => db.exec("SELECT name FROM files")[0]?.values)).toEqual([
      ["readme"],
    ]);
  });
});
