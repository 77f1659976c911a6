/**
 * Storage layer: `STORAGE_STRATEGY=json`. The object is a JSON document holding
 * the same tables as the SQLite file, one row per line, loaded into the same
 * in-memory schema. `schemaVersion` mirrors `PRAGMA user_version`. A table is
 * a list of objects (`[{"column": value, …}, …]`), or, for the tables the
 * schema names compact, `{"columns": [names], "rows": [[values], …]}`; either
 * form is read for any table.
 */
import { StorageUnreadableError } from "../errors.ts";
import type { Unreadable } from "../messages/keys.ts";
import { type FileCodec, looksLikeSqlite, upgradeOpened } from "./file-codec.ts";
import { createDatabase, currentVersion, readPragma } from "./migrations.ts";
import type { Database } from "./sql-js.ts";

export const JSON_FORMAT = "rapatriements-s3/tables";

type Cell = string | number | null;

export const jsonCodec: FileCodec = {
  format: "json",
  contentType: "application/json",

  decode(bytes, SQL, schema) {
    const document = parseDocument(bytes);
    if (document.schema !== schema.name) {
      throw unreadable({
        problem: "notSchema",
        name: schema.name,
        schema: String(document.schema),
      });
    }
    const version = document.schemaVersion;
    const current = currentVersion(schema);
    if (version > current) {
      throw unreadable({ problem: "jsonNewer", version, current });
    }
    const db = createDatabase(SQL, schema, version);
    try {
      db.run("BEGIN");
      const known = new Set(tableNames(db));
      for (const [table, content] of Object.entries(document.tables)) {
        insertRows(db, known, table, content);
      }
      db.run("COMMIT");
    } catch (error) {
      // Stryker disable next-line CallExpression: sql.js frees a statement or database only when told, and exposes no count of them: a leak no test can observe
      db.close();
      throw error instanceof StorageUnreadableError
        ? error
        : unreadable({ problem: "jsonMismatch" }, error);
    }
    return upgradeOpened(db, readPragma(db, "user_version"), schema, "json");
  },

  // One row per line, written by SQLite's json_object (json_array for a
  // compact table): the same document as JSON.stringify wrote row by row,
  // without a JavaScript object per row.
  encode(db, schema) {
    const version = readPragma(db, "user_version");
    const encoder = new TextEncoder();
    const parts: Uint8Array[] = [
      encoder.encode(
        `{"format":${JSON.stringify(JSON_FORMAT)},"schema":${JSON.stringify(schema.name)},"schemaVersion":${version},"tables":{`,
      ),
    ];
    const tables = tableNames(db);
    const compact = new Set(schema.compactTables ?? []);
    tables.forEach((table, t) => {
      const columns = columnList(db, table);
      const isCompact = compact.has(table);
      const row = isCompact
        ? `json_array(${columns.map(quote).join(", ")})`
        : `json_object(${columns.map((c) => `${literal(c)}, ${quote(c)}`).join(", ")})`;
      let rows: Uint8Array | undefined;
      try {
        const value = db.exec(
          `SELECT CAST(group_concat(${row}, ${literal(",\n")}) AS BLOB) FROM ${quote(table)}`,
        )[0]?.values[0]?.[0];
        rows = value instanceof Uint8Array && value.length > 0 ? value : undefined;
      } catch (error) {
        throw new Error(`${table}: a value cannot be written as JSON`, { cause: error });
      }
      const [open, close] = isCompact ? [`{"columns":${JSON.stringify(columns)},"rows":`, "}"] : [];
      parts.push(encoder.encode(`\n${JSON.stringify(table)}:${open ?? ""}`));
      if (rows === undefined) parts.push(encoder.encode("[]"));
      else parts.push(encoder.encode("[\n"), rows, encoder.encode("\n]"));
      parts.push(encoder.encode(`${close ?? ""}${t < tables.length - 1 ? "," : ""}`));
    });
    parts.push(encoder.encode("\n}}\n"));
    return concat(parts);
  },
};

interface Document {
  schema: unknown;
  schemaVersion: number;
  tables: Record<string, unknown>;
}

function parseDocument(bytes: Uint8Array): Document {
  if (looksLikeSqlite(bytes)) {
    throw unreadable({ problem: "sqliteInJson" });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw unreadable({ problem: "notJson" }, error);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw unreadable({ problem: "jsonNotObject" });
  }
  const document = parsed as Record<string, unknown>;
  if (document.format !== JSON_FORMAT) {
    throw unreadable({ problem: "notFormat", format: JSON_FORMAT });
  }
  const { schemaVersion, tables } = document;
  if (typeof schemaVersion !== "number" || !Number.isInteger(schemaVersion) || schemaVersion < 0) {
    throw unreadable({ problem: "noSchemaVersion" });
  }
  if (typeof tables !== "object" || tables === null || Array.isArray(tables)) {
    throw unreadable({ problem: "noTables" });
  }
  return { schema: document.schema, schemaVersion, tables: tables as Record<string, unknown> };
}

/** One row of a table as the document holds it: where it is, its columns, its values. */
interface DocumentRow {
  /** How a message names the row: `table[3]`, or `table.rows[3]` in a compact table. */
  at: string;
  names: readonly string[];
  values: readonly unknown[];
}

function insertRows(
  db: Database,
  known: ReadonlySet<string>,
  table: string,
  content: unknown,
): void {
  const columns = columnNames(db, known, table);
  if (columns === undefined) throw unreadable({ problem: "unknownTable", table });
  const rows = Array.isArray(content)
    ? objectRows(table, columns, content)
    : compactRows(table, columns, content);
  const statements = new Map<string, ReturnType<Database["prepare"]>>();
  try {
    for (const { at, names, values } of rows) {
      values.forEach((value, i) => {
        if (value !== null && typeof value !== "string" && typeof value !== "number") {
          throw unreadable({ problem: "badValue", at, column: String(names[i]) });
        }
      });
      // Stryker disable next-line StringLiteral: with no separator two column lists could only read alike if their names ran together ("ab","c" and "a","bc"); no table of a schema here has such names
      const signature = names.join("\u0000");
      let statement = statements.get(signature);
      if (statement === undefined) {
        statement = db.prepare(
          `INSERT INTO ${quote(table)} (${names.map(quote).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`,
        );
        // Stryker disable next-line CallExpression: sql.js frees a statement or database only when told, and exposes no count of them: a leak no test can observe (a statement prepared per row instead of per column list)
        statements.set(signature, statement);
      }
      try {
        statement.run(values as Cell[]);
      } catch (error) {
        throw unreadable({ problem: "violates", at }, error);
      }
    }
    // Stryker disable next-line BlockStatement: sql.js frees a statement or database only when told, and exposes no count of them: a leak no test can observe
  } finally {
    // Stryker disable next-line CallExpression: sql.js frees a statement or database only when told, and exposes no count of them: a leak no test can observe
    for (const statement of statements.values()) statement.free();
  }
}

/** `[{"column": value, …}, …]`: each row names its columns. */
function* objectRows(
  table: string,
  columns: ReadonlySet<string>,
  rows: readonly unknown[],
): Generator<DocumentRow> {
  for (const [index, row] of rows.entries()) {
    const at = `${table}[${index}]`;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw unreadable({ problem: "rowNotObject", at });
    }
    const entries = Object.entries(row);
    for (const [column] of entries) {
      if (!columns.has(column)) throw unreadable({ problem: "unknownColumn", at, column });
    }
    yield { at, names: entries.map(([column]) => column), values: entries.map(([, v]) => v) };
  }
}

/** `{"columns": [names], "rows": [[values], …]}`: the columns named once. */
function* compactRows(
  table: string,
  columns: ReadonlySet<string>,
  content: unknown,
): Generator<DocumentRow> {
  if (typeof content !== "object" || content === null) {
    throw unreadable({ problem: "tableShape", table });
  }
  for (const key of Object.keys(content)) {
    if (key !== "columns" && key !== "rows")
      throw unreadable({ problem: "compactKey", table, key });
  }
  const { columns: names, rows } = content as { columns?: unknown; rows?: unknown };
  if (
    !Array.isArray(names) ||
    names.length === 0 ||
    !names.every((name) => typeof name === "string")
  ) {
    throw unreadable({ problem: "compactColumns", table });
  }
  const seen = new Set<string>();
  for (const name of names as string[]) {
    if (!columns.has(name)) {
      throw unreadable({ problem: "compactUnknownColumn", table, column: name });
    }
    if (seen.has(name)) throw unreadable({ problem: "columnTwice", table, column: name });
    seen.add(name);
  }
  if (!Array.isArray(rows)) throw unreadable({ problem: "compactRows", table });
  for (const [index, row] of rows.entries()) {
    const at = `${table}.rows[${index}]`;
    if (!Array.isArray(row)) throw unreadable({ problem: "rowNotList", at });
    if (row.length !== names.length) {
      throw unreadable({ problem: "rowLength", at, values: row.length, columns: names.length });
    }
    yield { at, names: names as string[], values: row };
  }
}

function tableNames(db: Database): string[] {
  const result = db.exec(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
  )[0];
  // Stryker disable next-line OptionalChaining: every database of the engine has a table (its commits), so the query always answers rows
  return (result?.values ?? []).map(([name]) => String(name));
}

function columnNames(
  db: Database,
  known: ReadonlySet<string>,
  table: string,
): Set<string> | undefined {
  // Stryker disable next-line MethodExpression: `known` never holds SQLite's own tables (tableNames leaves them out), so a sqlite_ name is refused either way
  if (table.startsWith("sqlite_") || !known.has(table)) return undefined;
  return new Set(columnList(db, table));
}

function columnList(db: Database, table: string): string[] {
  const info = db.exec("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table])[0];
  // Stryker disable next-line OptionalChaining: asked only for tables the database has, which always have columns
  return (info?.values ?? []).map(([name]) => String(name));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** An SQL string literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function unreadable(problem: Unreadable, cause?: unknown): StorageUnreadableError {
  return new StorageUnreadableError({ key: "storageUnreadable", params: problem }, { cause });
}
