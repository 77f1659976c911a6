/**
 * Local tools: reads the records of an existing local file — an export of
 * this product (SQLite, JSON, or CSV in either form), the users' old local
 * SQLite storage, or a JSON list of records — as raw objects for the import, which
 * validates every one of them. Old files are taken as they are: integer ids
 * become their text, zone-less dates are read in the operator's zone, and an
 * old table's extra columns are reported and left out.
 */
import { readFile } from "node:fs/promises";
import { CLIENT_FIELDS } from "../../lambda/rapatriements/model.ts";
import { listAll } from "../../lambda/rapatriements/repository.ts";
import { APPLICATION_ID, rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { looksLikeSqlite } from "../../lambda/storage/file-codec.ts";
import { JSON_FORMAT, jsonCodec } from "../../lambda/storage/json-codec.ts";
import { readPragma } from "../../lambda/storage/migrations.ts";
import type { Database, SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import { sqliteCodec } from "../../lambda/storage/sqlite-codec.ts";
import { CsvError, type CsvRecords, looksLikeCsv, readCsv } from "./csv-import.ts";
import { jsonElementLines } from "./json-lines.ts";
import { readZonelessDate } from "./time-zone.ts";

export class RecordsFileError extends Error {
  override readonly name = "RecordsFileError";
}

export interface RecordsFile {
  format: "sqlite" | "json" | "csv";
  /** How the file was understood, for the operator. */
  source: string;
  records: unknown[];
  /** Where each record sits in the file, for messages: "ligne 3 de la table rapatriements". */
  locations: string[];
  /** Columns of an old table that are no field of a rapatriement: left out. */
  ignoredColumns: string[];
  /** What was taken as it is from an old file. */
  normalised: { integerIds: number; zonelessDates: number };
}

export interface ReadOptions {
  /** The IANA zone of dates written without one (SQLite's CURRENT_TIMESTAMP form). */
  timeZone?: string;
  /** Called as records are read, for a progress line. */
  onRecord?: (read: number, total: number) => void;
}

/** SQLite's CURRENT_TIMESTAMP is in UTC, so zone-less dates are UTC unless told otherwise. */
export const DEFAULT_TIME_ZONE = "UTC";

const FIELDS = new Set<string>([
  "id",
  ...CLIENT_FIELDS,
  "createdAt",
  "updatedAt",
  "version",
  "createdBy",
  "updatedBy",
]);
const DATE_FIELDS = ["requestedAt", "expectedAt", "createdAt", "updatedAt"];

export async function readRecordsFile(
  path: string,
  SQL: SqlJsStatic,
  options: ReadOptions = {},
): Promise<RecordsFile> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new RecordsFileError(
      code === "ENOENT"
        ? `${path} introuvable (aucun fichier à ce chemin)`
        : `impossible de lire ${path} : ${message}`,
    );
  }
  return readRecordsBytes(bytes, SQL, path, options);
}

/** The same, from bytes already read (an object on S3); `path` names them in errors. */
export function readRecordsBytes(
  bytes: Uint8Array,
  SQL: SqlJsStatic,
  path: string,
  options: ReadOptions = {},
): RecordsFile {
  if (looksLikeSqlite(bytes)) return fromSqlite(bytes, SQL, path, options);
  // A CSV export announces itself in its first bytes: `id,` or `Identifiant;`.
  if (looksLikeCsv(new TextDecoder().decode(bytes.subarray(0, 16)))) {
    return fromCsv(bytes, path, options);
  }
  return fromJson(bytes, SQL, path, options);
}

/** A CSV export of this product, in either form (csv-import.ts). */
function fromCsv(bytes: Uint8Array, path: string, options: ReadOptions): RecordsFile {
  let read: CsvRecords;
  try {
    read = readCsv(new TextDecoder("utf-8", { fatal: true }).decode(bytes), path);
  } catch (error) {
    if (error instanceof CsvError) throw new RecordsFileError(error.message, { cause: error });
    throw new RecordsFileError(`${path} : texte UTF-8 invalide`, { cause: error });
  }
  const normalise = normaliser(options.timeZone);
  const records = read.records.map((record, i) => {
    options.onRecord?.(i + 1, read.records.length);
    return normalise.record(record);
  });
  const separator = read.separator === "\t" ? "tab" : `"${read.separator}"`;
  return {
    format: "csv",
    source:
      read.style === "fr"
        ? `csv français : séparateur ${separator}, dates en ${read.timeZone ?? ""}, à la seconde`
        : `csv : séparateur ${separator}`,
    records,
    locations: read.locations,
    ignoredColumns: read.ignoredColumns,
    normalised: normalise.counts,
  };
}

/** Whether the file was written by this product (in either format), not by an earlier application. */
export function isOwnFormat(file: RecordsFile): boolean {
  return file.source.endsWith(OWN_SOURCE);
}

const OWN_SOURCE = "rapatriements-s3";

function fromSqlite(
  bytes: Uint8Array,
  SQL: SqlJsStatic,
  path: string,
  options: ReadOptions,
): RecordsFile {
  let db: Database;
  const unreadable = (error: unknown) =>
    // SQLite's own words (English) stay out of the operator's message.
    new RecordsFileError(
      `${path} n'est pas un fichier SQLite lisible (en-tête ou pages invalides)`,
      {
        cause: error,
      },
    );
  try {
    db = new SQL.Database(bytes);
  } catch (error) {
    throw unreadable(error);
  }
  try {
    // sql.js opens lazily: reading the schema is what finds a broken file.
    db.exec("SELECT COUNT(*) FROM sqlite_master");
  } catch (error) {
    db.close();
    throw unreadable(error);
  }
  try {
    if (readPragma(db, "application_id") === APPLICATION_ID) {
      db.close();
      const ours = sqliteCodec.decode(bytes, SQL, rapatriementsSchema);
      try {
        return ownRecords("sqlite", `sqlite: ${OWN_SOURCE}`, listAll(ours));
      } finally {
        ours.close();
      }
    }
    return { format: "sqlite", ...legacyTable(db, path, options) };
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
 * snake_case, lines as a JSON text column. Rows are read in their table
 * order (rowid), which is the row number given in messages.
 */
function legacyTable(
  db: Database,
  path: string,
  options: ReadOptions,
): Omit<RecordsFile, "format"> {
  const tables = (
    db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []
  ).map(([name]) => String(name));
  const table = tables.find((name) => /^rapp?atriements$/i.test(name));
  if (table === undefined) {
    throw new RecordsFileError(
      `${path} : aucune table rapatriements ni rappatriements (tables : ${tables.join(", ") || "aucune"})`,
    );
  }
  const quoted = `"${table.replaceAll('"', '""')}"`;
  const total = Number(db.exec(`SELECT count(*) FROM ${quoted}`)[0]?.values[0]?.[0] ?? 0);
  const statement = db.prepare(`SELECT * FROM ${quoted}`);
  const columns = statement.getColumnNames();
  const fieldOf = columns.map((column) =>
    column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
  );
  const normalise = normaliser(options.timeZone);
  const records: unknown[] = [];
  const locations: string[] = [];
  try {
    while (statement.step()) {
      const values = statement.get();
      const record: Record<string, unknown> = {};
      fieldOf.forEach((field, i) => {
        const value = values[i];
        if (value === null || value === undefined || !FIELDS.has(field)) return;
        record[field] = field === "lines" && typeof value === "string" ? parseLines(value) : value;
      });
      records.push(normalise.record(record));
      locations.push(`ligne ${records.length} de la table ${table}`);
      options.onRecord?.(records.length, total);
    }
  } finally {
    statement.free();
  }
  return {
    source: `sqlite: table ${table}`,
    records,
    locations,
    ignoredColumns: columns.filter((_, i) => !FIELDS.has(fieldOf[i] ?? "")),
    normalised: normalise.counts,
  };
}

/** Integer ids kept as their text, zone-less dates read in the operator's zone. */
function normaliser(timeZone = DEFAULT_TIME_ZONE) {
  const counts = { integerIds: 0, zonelessDates: 0 };
  return {
    counts,
    record(record: Record<string, unknown>): Record<string, unknown> {
      if (typeof record.id === "number" && Number.isSafeInteger(record.id)) {
        record.id = String(record.id);
        counts.integerIds++;
      }
      // An earlier application's created_by may be a user number, or empty:
      // its text, or unknown — never a reason to refuse the file.
      for (const field of ["createdBy", "updatedBy"]) {
        const value = record[field];
        if (typeof value === "number") record[field] = String(value);
        else if (typeof value === "string" && value.trim() === "") delete record[field];
      }
      for (const field of DATE_FIELDS) {
        const value = record[field];
        if (typeof value !== "string") continue;
        const read = readZonelessDate(value, timeZone);
        if (read !== undefined) {
          record[field] = read;
          counts.zonelessDates++;
        }
      }
      return record;
    },
  };
}

function ownRecords(
  format: RecordsFile["format"],
  source: string,
  records: unknown[],
): RecordsFile {
  return {
    format,
    source,
    records,
    locations: records.map((_, i) => `n° ${i + 1} du fichier`),
    ignoredColumns: [],
    normalised: { integerIds: 0, zonelessDates: 0 },
  };
}

function parseLines(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // reported by the validation as "must be an array of lines"
  }
}

function fromJson(
  bytes: Uint8Array,
  SQL: SqlJsStatic,
  path: string,
  options: ReadOptions,
): RecordsFile {
  let text: string;
  let document: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    document = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new RecordsFileError(
      `${path} n'est ni un fichier SQLite ni du JSON valide${at === undefined ? " (texte UTF-8 invalide ou JSON malformé)" : ` (JSON malformé vers le caractère ${at})`}`,
      { cause: error },
    );
  }
  if (Array.isArray(document)) return jsonList(text, document, undefined, options);
  if (typeof document === "object" && document !== null) {
    const object = document as Record<string, unknown>;
    if (object.format === JSON_FORMAT) {
      const db = jsonCodec.decode(bytes, SQL, rapatriementsSchema);
      try {
        return ownRecords("json", `json: ${OWN_SOURCE}`, listAll(db));
      } finally {
        db.close();
      }
    }
    for (const key of ["rapatriements", "rappatriements", "items"]) {
      const list = object[key];
      if (Array.isArray(list)) return jsonList(text, list, key, options);
    }
  }
  throw new RecordsFileError(
    `${path} : attendu une liste d'enregistrements, {"rapatriements": [...]} ou un document rapatriements-s3`,
  );
}

/** A JSON list written by hand or by another program: named by its line in the text. */
function jsonList(
  text: string,
  list: unknown[],
  key: string | undefined,
  options: ReadOptions,
): RecordsFile {
  const lines = jsonElementLines(text, key);
  const normalise = normaliser(options.timeZone);
  const records = list.map((record, i) => {
    options.onRecord?.(i + 1, list.length);
    return typeof record === "object" && record !== null && !Array.isArray(record)
      ? normalise.record({ ...(record as Record<string, unknown>) })
      : record;
  });
  return {
    format: "json",
    source: key === undefined ? "json: [ … ]" : `json: { "${key}": [ … ] }`,
    records,
    locations: records.map((_, i) =>
      lines[i] === undefined ? `n° ${i + 1} de la liste` : `ligne ${lines[i]}`,
    ),
    ignoredColumns: [],
    normalised: normalise.counts,
  };
}
