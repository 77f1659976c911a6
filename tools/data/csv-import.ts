/**
 * Local tools: reads back a CSV export of this product, in either form — the
 * machine's (`id,reference,…`, exact) or the French one (`Identifiant;…`,
 * dates to the second) — as raw records for the import, which validates them.
 * Quoting is RFC 4180's; the separator is the header's (`,`, `;` or a tab).
 */
import { CSV_COLUMNS } from "./csv-export.ts";
import {
  dateFromFrench,
  FRENCH_FIRST_COLUMN,
  frenchColumns,
  numberFromFrench,
  statusFromFrench,
  zoneOfFrenchHeader,
} from "./csv-french.ts";

export interface CsvRecords {
  style: "machine" | "fr";
  separator: string;
  /** The French form's zone, as its header states it. */
  timeZone?: string;
  records: Record<string, unknown>[];
  /** "ligne 3 du fichier": the text line where each record starts. */
  locations: string[];
  ignoredColumns: string[];
}

/** A refused CSV, with what to do about it. */
export class CsvError extends Error {
  override readonly name = "CsvError";
}

const FIRST_LINE = /^\uFEFF?(id|Identifiant)([,;\t])/;

/** Whether `text` starts as this product's CSV export does. */
export function looksLikeCsv(text: string): boolean {
  return FIRST_LINE.test(text);
}

const DATES = new Set(["requestedAt", "expectedAt", "createdAt", "updatedAt"]);
const DERIVED = new Set(["lineCount", "totalQuantity"]);

export function readCsv(text: string, path: string): CsvRecords {
  const [, first = "", separator = ","] = FIRST_LINE.exec(text) ?? [];
  const rows = parseCsv(text.replace(/^\uFEFF/, ""), separator, path);
  const header = rows.shift()?.cells ?? [];
  const french = first === FRENCH_FIRST_COLUMN;
  const timeZone = french ? zoneOfFrenchHeader(header) : undefined;
  if (french && timeZone === undefined) {
    throw new CsvError(
      `${path} : colonne « Demandé le (fuseau) » absente, le fuseau des dates manque`,
    );
  }
  const names: Readonly<Record<string, string>> = french
    ? frenchColumns(timeZone ?? "")
    : Object.fromEntries(CSV_COLUMNS.map((column) => [column, column]));
  const fieldOf = header.map(
    (name) => Object.entries(names).find(([, written]) => written === name)?.[0],
  );
  const number = french ? numberFromFrench : machineNumber;
  const records: Record<string, unknown>[] = [];
  const locations: string[] = [];
  for (const row of rows) {
    if (row.cells.length === 1 && row.cells[0] === "") continue; // a blank line
    const record: Record<string, unknown> = {};
    const derived: Record<string, string> = {};
    fieldOf.forEach((field, i) => {
      const value = row.cells[i] ?? "";
      if (field === undefined || value === "") return;
      if (DERIVED.has(field)) derived[field] = value;
      else if (field === "lines") {
        record.lines = linesFrom(value, number);
        if (record.lines === undefined) {
          throw new CsvError(
            `${path}, ligne ${row.line} du fichier : la colonne ${names.lines} « ${value} » n'a pas la forme ${french ? "SKU (3,5 unité) | SKU (1)" : "SKU (3.5 unit) | SKU (1)"} : corrigez-la, ou importez plutôt un export .json ou .db`,
          );
        }
      } else if (field === "version") record.version = number(value) ?? value;
      else if (field === "status") record.status = french ? statusFromFrench(value) : value;
      else if (DATES.has(field) && timeZone !== undefined) {
        record[field] = dateFromFrench(value, timeZone);
      } else record[field] = value;
    });
    const where = `ligne ${row.line} du fichier`;
    const announced = derived.lineCount === undefined ? undefined : number(derived.lineCount);
    if (
      Array.isArray(record.lines) &&
      announced !== undefined &&
      announced !== record.lines.length
    ) {
      throw new CsvError(
        `${path}, ${where} : la colonne ${names.lines} donne ${record.lines.length} lignes, ${names.lineCount} en annonce ${announced} (un « | » dans un SKU ou une unité ?) ; importez plutôt un export .json ou .db`,
      );
    }
    records.push(record);
    locations.push(where);
  }
  return {
    style: french ? "fr" : "machine",
    separator,
    ...(timeZone === undefined ? {} : { timeZone }),
    records,
    locations,
    ignoredColumns: header.filter((_, i) => fieldOf[i] === undefined),
  };
}

function machineNumber(text: string): number | undefined {
  return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : undefined;
}

/** `A (3 palette) | B (1.5)` back to lines; undefined when a piece is not `SKU (QUANTITY[ UNIT])`. */
function linesFrom(
  text: string,
  number: (text: string) => number | undefined,
): { sku: string; quantity: number; unit?: string }[] | undefined {
  const lines: { sku: string; quantity: number; unit?: string }[] = [];
  for (const piece of text.split(" | ")) {
    // The SKU is greedy: the last parenthesis of the piece holds the quantity.
    const match = /^(.+) \((\S+?)(?: (.+))?\)$/s.exec(piece);
    const quantity = match?.[2] === undefined ? undefined : number(match[2]);
    if (match === null || quantity === undefined) return undefined;
    lines.push({
      sku: match[1] ?? "",
      quantity,
      ...(match[3] === undefined ? {} : { unit: match[3] }),
    });
  }
  return lines;
}

/** RFC 4180 rows, each with the text line it starts on (the header is line 1). */
function parseCsv(text: string, separator: string, path: string) {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let line = 1;
  let rowLine = 1;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        cell += c;
      }
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++;
      cells.push(cell);
      rows.push({ line: rowLine, cells });
      cells = [];
      cell = "";
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (quoted)
    throw new CsvError(`${path} : un guillemet ouvert ligne ${rowLine} n'est jamais fermé`);
  if (cell !== "" || cells.length > 0) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  return rows;
}
