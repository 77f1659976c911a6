/**
 * Local tools: every record of a file validated before anything is sent, and
 * each bad one named as the operator can find it — by its id or reference and
 * its line in the file — rather than by its position in a list (`[3]`).
 * Shared by `npx rapatriements import` and `npm start -- --from`.
 */

import { type FieldError, ValidationError } from "../../lambda/errors.ts";
import { ruleText } from "../../lambda/messages/render.ts";
import type { ImportOptions } from "../../lambda/rapatriements/record-import.ts";
import { parseImportedRecord } from "../../lambda/rapatriements/validation.ts";
import type { Database } from "../../lambda/storage/sql-js.ts";
import { operatorActor } from "./operator.ts";
import { plural } from "./plural.ts";
import type { RecordsFile } from "./records-file.ts";

export type ApplyImport = (db: Database) => { imported: number; replaced: number };

export interface Importer {
  prepareImport(raws: readonly unknown[], options: ImportOptions): ApplyImport;
}

/** The file holds invalid records; `lines` names each error, record by record. */
export class InvalidRecordsError extends Error {
  override readonly name = "InvalidRecordsError";
  readonly invalidRecords: number;
  readonly lines: string[];

  constructor(file: string, invalidRecords: number, lines: string[]) {
    super(
      `refusé : ${plural(invalidRecords, "enregistrement invalide", "enregistrements invalides")} dans ${file} (${plural(lines.length, "erreur", "erreurs")}) ; rien n'a été envoyé.`,
    );
    this.invalidRecords = invalidRecords;
    this.lines = lines;
  }
}

const SHOWN_ERRORS = 20;

/** The report of a refused file, the same for `import` and `npm start -- --from`. */
export function invalidRecordsReport(error: InvalidRecordsError): string[] {
  const more = error.lines.length - SHOWN_ERRORS;
  return [
    error.message,
    ...error.lines.slice(0, SHOWN_ERRORS).map((line) => `  ${line}`),
    ...(more > 0 ? [`  … et ${plural(more, "autre erreur", "autres erreurs")}`] : []),
  ];
}

interface RecordError {
  index: number;
  field: string;
  /** What is wrong, in French. */
  message: string;
}

const PATH = /^\[(\d+)\](?:\.(.*))?$/;

/**
 * Validates every record of `read` (the file `file`), then prepares the
 * import. Throws InvalidRecordsError naming every bad record.
 */
export function prepareFileImport(
  importer: Importer,
  file: string,
  read: RecordsFile,
  options: { replace: boolean; onValidated?: (done: number, total: number) => void },
): ApplyImport {
  const errors: RecordError[] = [];
  const valid: unknown[] = [];
  const validIndex: number[] = [];
  read.records.forEach((raw, index) => {
    try {
      parseImportedRecord(raw, index);
      valid.push(raw);
      validIndex.push(index);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const e of error.errors ?? []) errors.push(recordError(e, (i) => i, ruleText("fr", e)));
    }
    options.onValidated?.(index + 1, read.records.length);
  });
  // Repeated ids and references are found across the records that are valid
  // one by one; their positions are in that list, mapped back to the file's.
  let apply: ApplyImport | undefined;
  try {
    apply = importer.prepareImport(valid, { replace: options.replace, actor: operatorActor() });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const e of error.errors ?? []) {
      // A repeat names the first record by its place in the file, not in the valid ones.
      const said =
        e.rule === "repeats"
          ? `même ${e.params.field === "id" ? "id" : "référence"} que ${nameOf(read, validIndex[e.params.index] ?? e.params.index)}`
          : ruleText("fr", e);
      errors.push(recordError(e, (i) => validIndex[i] ?? i, said));
    }
  }
  if (errors.length > 0 || apply === undefined) {
    errors.sort((a, b) => a.index - b.index);
    const lines = errors.map(
      (e) => `${nameOf(read, e.index)} : ${e.field === "" ? "" : `${e.field} : `}${e.message}`,
    );
    throw new InvalidRecordsError(file, new Set(errors.map((e) => e.index)).size, lines);
  }
  return apply;
}

function recordError(
  error: FieldError,
  toFileIndex: (index: number) => number,
  message: string,
): RecordError {
  const match = PATH.exec(error.path);
  return { index: toFileIndex(Number(match?.[1] ?? 0)), field: match?.[2] ?? "", message };
}

/** `id 42 (ligne 3 de la table rappatriements)`, else by reference, else by rank. */
export function nameOf(read: RecordsFile, index: number): string {
  const raw = read.records[index];
  const record = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const id = record.id;
  const reference = record.reference;
  const name =
    (typeof id === "string" && id !== "") || typeof id === "number"
      ? `id ${String(id)}`
      : typeof reference === "string" && reference !== ""
        ? `référence ${reference}`
        : `enregistrement n° ${index + 1}`;
  const location = read.locations[index];
  return location === undefined ? name : `${name} (${location})`;
}
