/**
 * Local tools: reads the records of an existing local file — an export of
 * this product (SQLite or JSON, either format), the users' old local SQLite
 * storage, or a JSON list of records — as raw objects for the import, which
 * validates every one of them.
 */
import { readFile } from "node:fs/promises";
import { listAll } from "../../lambda/rapatriements/repository.ts";
import { APPLICATION_ID, rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { looksLikeSqlite } from "../../lambda/storage/codec.ts";
import { JSON_FORMAT, jsonCodec } from "../../lambda/storage/json-codec.ts";
import { readPragma } from "../../lambda/storage/schema.ts";
import type { Database, SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import { sqliteCodec } from "../../lambda/storage/sqlite-codec.ts";

export class RecordsFileError extends Error {
  override readonly name = "RecordsFileError";
}

export interface RecordsFile {
  format: "sqlite" | "json";
  /** How the file was understood, for the operator. */
  source: string;
  records: unknown[];
}

export async function readRecordsFile(path: string, SQL: SqlJsStatic): Promise<RecordsFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new RecordsFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return readRecordsBytes(bytes, SQL, path);
}

/** The same, from bytes already read (an object on S3); `path` names them in errors. */
export function readRecordsBytes(bytes: Uint8Array, SQL: SqlJsStatic, path: string): RecordsFile {
  return looksLikeSqlite(bytes) ? fromSqlite(bytes, SQL, path) : fromJson(bytes, SQL, path);
}

/** Whether the file was written by this product (in either format), not by an earlier application. */
export function isOwnFormat(file: RecordsFile): boolean {
  return file.source.endsWith(OWN_SOURCE);
}

const OWN_SOURCE = "rapatriements-s3";

function fromSqlite(bytes: Uint8Array, SQL: SqlJsStatic, path: string): RecordsFile {
  let db: Database;
  try {
    db = new SQL.Database(bytes);
  } catch (error) {
    throw new RecordsFileError(
      `${path} is not a readable SQLite file: ${(error as Error).message}`,
    );
  }
  try {
    if (readPragma(db, "application_id") === APPLICATION_ID) {
      db.close();
      const ours = sqliteCodec.decode(bytes, SQL, rapatriementsSchema);
      try {
        return {
          format: "sqlite",
          source: `sqlite: ${OWN_SOURCE}`,
          records: listAll(ours),
        };
      } finally {
        ours.close();
      }
    }
    return { format: "sqlite", ...legacyTable(db, path) };
  } finally {
    try {
      db.close();
    } catch {
      // already closed
    }
  }
}

/**
 * The old local storage: a table named rapatriements (or the old spelling
 * rappatriements), columns named as the API's fields in camelCase or
 * snake_case, lines as a JSON text column.
 */
function legacyTable(db: Database, path: string): { source: string; records: unknown[] } {
  const tables = (
    db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []
  ).map(([name]) => String(name));
  const table = tables.find((name) => /^rapp?atriements$/i.test(name));
  if (table === undefined) {
    throw new RecordsFileError(
      `${path}: no table named rapatriements or rappatriements (tables: ${tables.join(", ") || "none"})`,
    );
  }
  const result = db.exec(`SELECT * FROM "${table.replaceAll('"', '""')}"`)[0];
  const records = (result?.values ?? []).map((values) => {
    const record: Record<string, unknown> = {};
    result?.columns.forEach((column, i) => {
      const value = values[i];
      if (value === null || value === undefined) return;
      const field = column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
      record[field] = field === "lines" && typeof value === "string" ? parseLines(value) : value;
    });
    return record;
  });
  return { source: `sqlite: table ${table}`, records };
}

function parseLines(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // reported by the validation as "must be an array of lines"
  }
}

function fromJson(bytes: Uint8Array, SQL: SqlJsStatic, path: string): RecordsFile {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    throw new RecordsFileError(
      `${path} is neither a SQLite file nor valid JSON: ${(error as Error).message}`,
    );
  }
  if (Array.isArray(document)) return { format: "json", source: "json: [ … ]", records: document };
  if (typeof document === "object" && document !== null) {
    const object = document as Record<string, unknown>;
    if (object.format === JSON_FORMAT) {
      const db = jsonCodec.decode(bytes, SQL, rapatriementsSchema);
      try {
        return { format: "json", source: `json: ${OWN_SOURCE}`, records: listAll(db) };
      } finally {
        db.close();
      }
    }
    for (const key of ["rapatriements", "rappatriements", "items"]) {
      const list = object[key];
      if (Array.isArray(list)) {
        return { format: "json", source: `json: { "${key}": [ … ] }`, records: list };
      }
    }
  }
  throw new RecordsFileError(
    `${path}: expected a list of records, {"rapatriements": [...]}, or a rapatriements-s3 document`,
  );
}
