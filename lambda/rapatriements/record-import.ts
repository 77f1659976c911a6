/**
 * Domain: the import of whole records (an export, the old local storage).
 * Every record is checked first and the file is refused whole on any error,
 * a repeated id or reference named by the records' places in the file;
 * existing data is kept unless the import replaces it.
 */
import type { Database } from "sql.js";
import { type FieldError, fieldError, ImportRefusedError, ValidationError } from "../errors.ts";
import type { Actor } from "./model.ts";
import { keepAllVersions, recordSummary } from "./outbox.ts";
import * as repository from "./repository.ts";
import { type ImportedRecord, parseImportedRecord } from "./validation.ts";

/** What an import stamps on a record that does not say: the time, and a new id. */
export interface ImportClock {
  now: () => Date;
  newId: () => string;
}

export interface ImportOptions {
  /** Replace the data there is (else an import is refused where records exist). */
  replace?: boolean;
  /** Who imports, named by the import's event. */
  actor?: Actor;
}

/** Checks every record now; the returned function writes them inside a transaction. */
export function prepareRecordImport(
  raws: readonly unknown[],
  options: ImportOptions,
  clock: ImportClock,
): (db: Database) => { imported: number; replaced: number } {
  const errors: FieldError[] = [];
  const records: ImportedRecord[] = [];
  const seen = { id: new Map<string, number>(), reference: new Map<string, number>() };
  raws.forEach((raw, index) => {
    let record: ImportedRecord;
    try {
      record = parseImportedRecord(raw, index);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      errors.push(...(error.errors ?? []));
      return;
    }
    records.push(record);
    // A repeat is named by the records' places in the file, invalid ones counted.
    for (const [kind, value] of [
      ["id", record.id],
      ["reference", record.fields.reference],
    ] as const) {
      if (value === undefined) continue;
      const first = seen[kind].get(value);
      if (first !== undefined) {
        errors.push(
          fieldError(`[${index}].${kind}`, {
            rule: "repeats",
            params: { index: first, field: kind },
          }),
        );
      } else {
        seen[kind].set(value, index);
      }
    }
  });
  if (errors.length > 0) {
    throw new ValidationError(errors, { key: "invalidFile", params: {} });
  }
  return (db) => {
    const existing = repository.count(db);
    if (existing > 0 && options.replace !== true) {
      throw new ImportRefusedError(existing);
    }
    // The records' pending events keep the versions the import removes.
    keepAllVersions(db);
    const before = new Set(repository.all(db, "SELECT id FROM rapatriements").map((r) => r.id));
    repository.removeAll(db);
    let updated = 0;
    for (const record of records) {
      const at = clock.now().toISOString();
      const id = record.id ?? clock.newId();
      if (before.has(id)) updated += 1;
      repository.insert(db, {
        id,
        ...record.fields,
        createdAt: record.createdAt ?? at,
        updatedAt: record.updatedAt ?? record.createdAt ?? at,
        version: record.version ?? 1,
        // An import keeps who wrote the records; a file that does not say is unknown.
        createdBy: record.createdBy ?? null,
        updatedBy: record.updatedBy ?? null,
      });
    }
    const created = records.length - updated;
    const summary = { count: records.length, created, updated, deleted: existing - updated };
    recordSummary(db, "imported", clock.now(), options.actor ?? null, summary);
    return { imported: records.length, replaced: existing };
  };
}
