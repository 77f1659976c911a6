/**
 * Local tools: the French form of the CSV export, as Excel and LibreOffice
 * read it in French settings — French column names and statuses, a decimal
 * comma, dates as `dd/mm/yyyy hh:mm:ss` wall-clock time in a zone the column
 * names state — and the way back, for the import.
 */
import type { Status } from "../../lambda/rapatriements/model.ts";
import { readZonelessDate, wallClock } from "./time-zone.ts";

/** The zone of the French form's dates unless told otherwise. */
export const FRENCH_CSV_TIME_ZONE = "Europe/Paris";

const STATUSES: Readonly<Record<Status, string>> = {
  draft: "brouillon",
  requested: "demandé",
  in_transit: "en transit",
  received: "reçu",
  cancelled: "annulé",
};

export function frenchStatus(status: string): string {
  return STATUSES[status as Status] ?? status;
}

/** The API's status for a French one; anything else is left for the validation to name. */
export function statusFromFrench(text: string): string {
  const found = Object.entries(STATUSES).find(([, french]) => french === text.trim());
  return found === undefined ? text : found[0];
}

/** Column names; a date column says the zone its times are in. */
export function frenchColumns(timeZone: string): Readonly<Record<string, string>> {
  return {
    id: "Identifiant",
    reference: "Référence",
    status: "Statut",
    origin: "Origine",
    destination: "Destination",
    requestedAt: `Demandé le (${timeZone})`,
    expectedAt: `Attendu le (${timeZone})`,
    comment: "Commentaire",
    lineCount: "Nombre de lignes",
    totalQuantity: "Quantité totale",
    lines: "Lignes",
    createdAt: `Créé le (${timeZone})`,
    updatedAt: `Modifié le (${timeZone})`,
    version: "Version",
    createdBy: "Créé par",
    updatedBy: "Modifié par",
  };
}

/** The first column's name: how the import knows a French file. */
export const FRENCH_FIRST_COLUMN = "Identifiant";

/** The zone a French header states, from its first date column: `Demandé le (Europe/Paris)`. */
export function zoneOfFrenchHeader(header: readonly string[]): string | undefined {
  for (const name of header) {
    const zone = /^Demandé le \((.+)\)$/.exec(name)?.[1];
    if (zone !== undefined) return zone;
  }
  return undefined;
}

/**
 * A number with a decimal comma and no thousands separator (a separator
 * would be read as text by some settings): every digit the number has, never
 * an exponent — `41,5`, `0,00000015`.
 */
export function frenchNumber(value: number): string {
  return plainDecimal(value).replace(".", ",");
}

/** A French-written number back (`41,5`, `3`), or undefined when it is not one. */
export function numberFromFrench(text: string): number | undefined {
  return /^-?\d+(,\d+)?$/.test(text.trim()) ? Number(text.trim().replace(",", ".")) : undefined;
}

/** The shortest text that reads back as `value`, written without an exponent. */
function plainDecimal(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (match === null) return text;
  const [, sign = "", first = "", rest = "", exponent = "0"] = match;
  const digits = `${first}${rest}`;
  const point = 1 + Number(exponent);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** An ISO instant as `dd/mm/yyyy hh:mm:ss` in `timeZone` (to the second). */
export function frenchDate(iso: string, timeZone: string): string {
  const wall = wallClock(Date.parse(iso), timeZone);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, "0");
  return `${two(wall.day)}/${two(wall.month)}/${wall.year} ${two(wall.hour)}:${two(wall.minute)}:${two(wall.second)}`;
}

/**
 * A French date back to the ISO UTC form, read in `timeZone` (the first of
 * the two autumn hours that share a wall-clock time); anything else is left
 * as it is, for the validation to name.
 */
export function dateFromFrench(text: string, timeZone: string): string {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (match === null) return text;
  const [, day, month, year, hour = "00", minute = "00", second = "00"] = match;
  return readZonelessDate(`${year}-${month}-${day} ${hour}:${minute}:${second}`, timeZone) ?? text;
}
