/**
 * Local tools: the rapatriements as CSV for a spreadsheet — one row per
 * rapatriement, its lines flattened into one cell, UTF-8 with a byte order
 * mark so that Excel reads the accents, CRLF line ends and RFC 4180 quoting.
 */
// @ts-nocheck

import type { Line, Rapatriement } from "../../lambda/rapatriements/model.ts";

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

/** `SKU-1 (3 palette) | SKU-2 (1)`: readable in one cell, in the record's order. */
export function flattenLines(lines: readonly Line[]): string {
  return lines
    .map((l) => `${l.sku} (${l.quantity}${l.unit === undefined ? "" : ` ${l.unit}`})`)
    .join(" | ");
}

function cell(value: string | number | null | undefined, separator: string): string {
  if (value === undefined || value === null) return "";
  const text = String(value);
  return text.includes(separator) || /["\r\n]/.test(text)
    ? `"${text.replaceAll('"', '""')}"`
    : text;
}

export function toCsv(records: readonly Rapatriement[], separator: string): string {
  const rows = [CSV_COLUMNS.join(separator)];
  for (const r of records) {
    const values: Partial<Record<(typeof CSV_COLUMNS)[number], string | number | null>> = {
      ...r,
      lineCount: r.lines.length,
      // rounded: 0.1 + 0.2 palettes is 0.3 in a spreadsheet, not 0.30000000000000004
      totalQuantity: Math.round(r.lines.reduce((sum, l) => sum + l.quantity, 0) * 1e6) / 1e6,
      lines: flattenLines(r.lines),
    };
    rows.push(CSV_COLUMNS.map((column) => cell(values[column], separator)).join(separator));
  }
  return `${BOM}${rows.join("\r\n")}\r\n`;
}
