/**
 * Local tools: the rapatriements as CSV for a spreadsheet — one row per
 * rapatriement, its lines flattened into one cell, UTF-8 with a byte order
 * mark so that Excel reads the accents, CRLF line ends and RFC 4180 quoting.
 * Two forms: the machine's (the API's names and values, ISO dates, a decimal
 * point), which the import reads back exactly, and the French one
 * (csv-french.ts) for a spreadsheet in French settings, which it reads back
 * to the second.
 */
import type { Line, Rapatriement } from "../../lambda/rapatriements/model.ts";
import { frenchColumns, frenchDate, frenchNumber, frenchStatus } from "./csv-french.ts";

/** `,` by default (RFC 4180); `;` is what Excel expects in French settings. */
export const SEPARATORS: Readonly<Record<string, string>> = { ",": ",", ";": ";", tab: "\t" };

export const CSV_COLUMNS = [
  "id",
  "reference",
  "status",
  "origin",
  "destination",
  "requestedAt",
  "expectedAt",
  "comment",
  "lineCount",
  "totalQuantity",
  "lines",
  "createdAt",
  "updatedAt",
  "version",
  // Last, so that a sheet reading the earlier columns by position still does.
  "createdBy",
  "updatedBy",
] as const;

const BOM = "\uFEFF";

export type CsvStyle = "machine" | "fr";

export interface CsvOptions {
  separator: string;
  style: CsvStyle;
  /** The zone of the French form's dates. */
  timeZone: string;
}

/** `SKU-1 (3 palette) | SKU-2 (1)`: readable in one cell, in the record's order. */
export function flattenLines(
  lines: readonly Line[],
  number: (n: number) => string = String,
): string {
  return lines
    .map((l) => `${l.sku} (${number(l.quantity)}${l.unit === undefined ? "" : ` ${l.unit}`})`)
    .join(" | ");
}

const DATE_COLUMNS = new Set(["requestedAt", "expectedAt", "createdAt", "updatedAt"]);

function cell(value: string | number | null | undefined, separator: string): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  return text.includes(separator) || /["\r\n]/.test(text)
    ? `"${text.replaceAll('"', '""')}"`
    : text;
}

export function toCsv(records: readonly Rapatriement[], options: CsvOptions): string {
  const { separator, style, timeZone } = options;
  const french = style === "fr";
  const names = frenchColumns(timeZone);
  const rows = [CSV_COLUMNS.map((column) => (french ? names[column] : column)).join(separator)];
  for (const r of records) {
    // rounded: 0.1 + 0.2 palettes is 0.3 in a spreadsheet, not 0.30000000000000004
    const total = Math.round(r.lines.reduce((sum, l) => sum + l.quantity, 0) * 1e6) / 1e6;
    const values: Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>> = {
      ...r,
      lineCount: r.lines.length,
      totalQuantity: french ? frenchNumber(total) : total,
      lines: flattenLines(r.lines, french ? frenchNumber : String),
    };
    if (french) {
      values.status = frenchStatus(r.status);
      for (const column of DATE_COLUMNS) {
        const value = values[column as keyof typeof values];
        if (typeof value === "string") {
          values[column as keyof typeof values] = frenchDate(value, timeZone);
        }
      }
    }
    rows.push(CSV_COLUMNS.map((column) => cell(values[column], separator)).join(separator));
  }
  return `${BOM}${rows.join("\r\n")}\r\n`;
}
