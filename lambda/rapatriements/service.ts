/**
 * Domain: the operations on rapatriements that the API and the commands use.
 * Input is validated before the store is touched, so bad input costs no S3
 * call and changes nothing. Each operation is one transaction of the store.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Database } from "sql.js";
import {
  DuplicateReferenceError,
  type FieldError,
  ForbiddenTransitionError,
  IdempotencyKeyReuseError,
  ImportRefusedError,
  NotFoundError,
  ValidationError,
  VersionMismatchError,
} from "../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { allowedTransitions, canTransition, isFinal, type Rapatriement } from "./model.ts";
import * as repository from "./repository.ts";
import {
  type CreateInput,
  crossFieldErrors,
  type ImportedRecord,
  type PatchInput,
  parseCreate,
  parseId,
  parseImportedRecord,
  parseListQuery,
  parsePatch,
} from "./validation.ts";

/** A database kept somewhere, changed only through transactions (see lambda/storage). */
export interface TransactionalStore<Options> {
  read<T>(fn: (db: Database) => T, options?: Options): Promise<T>;
  write<T>(fn: (db: Database) => T, options?: Options): Promise<T>;
}

export interface ServiceDeps<Options> {
  store: TransactionalStore<Options>;
  now?: () => Date;
  newId?: () => string;
}

export interface CreateOptions {
  idempotencyKey?: string;
}

export interface VersionOptions {
  /** The version the caller last saw; a mismatch is refused (412). */
  expectedVersion?: number;
}

export interface Page {
  items: Rapatriement[];
  nextCursor: string | null;
}

export class RapatriementService<Options = unknown> {
  private readonly store: TransactionalStore<Options>;
  private readonly now: () => Date;
  private readonly newId: () => string;

  constructor(deps: ServiceDeps<Options>) {
    this.store = deps.store;
    this.now = deps.now ?? (() => new Date());
    this.newId = deps.newId ?? randomUUID;
  }

  /** Prepares a create; `apply` runs inside a transaction (alone or in a batch). */
  prepareCreate(input: unknown, options: CreateOptions = {}): (db: Database) => Rapatriement {
    const fields = parseCreate(input);
    const key = checkIdempotencyKey(options.idempotencyKey);
    const requestHash = key === undefined ? "" : hashRequest(fields);
    return (db) => this.applyCreate(db, fields, key, requestHash);
  }

  prepareUpdate(
    id: unknown,
    patch: unknown,
    options: VersionOptions = {},
  ): (db: Database) => Rapatriement {
    const checkedId = checkId(id);
    const changes = parsePatch(patch);
    const expected = checkExpectedVersion(options.expectedVersion);
    return (db) => this.applyUpdate(db, checkedId, changes, expected);
  }

  prepareDelete(id: unknown, options: VersionOptions = {}): (db: Database) => Rapatriement {
    const checkedId = checkId(id);
    const expected = checkExpectedVersion(options.expectedVersion);
    return (db) => {
      const current = this.mustFind(db, checkedId, expected);
      repository.remove(db, checkedId);
      return current;
    };
  }

  /**
   * Prepares the import of whole records (an export, the old local storage).
   * Every record is checked first and the file is refused whole on any error;
   * existing data is kept unless `replace`, and then the import replaces it.
   */
  prepareImport(
    raws: readonly unknown[],
    options: { replace?: boolean } = {},
  ): (db: Database) => { imported: number; replaced: number } {
    const errors: FieldError[] = [];
    const records: ImportedRecord[] = [];
    raws.forEach((raw, index) => {
      try {
        records.push(parseImportedRecord(raw, index));
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        errors.push(...(error.errors ?? []));
      }
    });
    const seen = { id: new Map<string, number>(), reference: new Map<string, number>() };
    records.forEach((record, index) => {
      for (const [kind, value] of [
        ["id", record.id],
        ["reference", record.fields.reference],
      ] as const) {
        if (value === undefined) continue;
        const first = seen[kind].get(value);
        if (first !== undefined) {
          errors.push({ path: `[${index}].${kind}`, message: `repeats [${first}].${kind}` });
        } else {
          seen[kind].set(value, index);
        }
      }
    });
    if (errors.length > 0) throw new ValidationError(errors, "The file holds invalid records.");
    return (db) => {
      const existing = repository.count(db);
      if (existing > 0 && options.replace !== true) {
        throw new ImportRefusedError(existing);
      }
      repository.removeAll(db);
      for (const record of records) {
        const at = this.now().toISOString();
        repository.insert(db, {
          id: record.id ?? this.newId(),
          ...record.fields,
          createdAt: record.createdAt ?? at,
          updatedAt: record.updatedAt ?? record.createdAt ?? at,
          version: record.version ?? 1,
        });
      }
      return { imported: records.length, replaced: existing };
    };
  }

  // async: a bad input rejects the returned promise rather than throwing.
  async create(
    input: unknown,
    options: CreateOptions = {},
    storeOptions?: Options,
  ): Promise<Rapatriement> {
    return this.store.write(this.prepareCreate(input, options), storeOptions);
  }

  async update(
    id: unknown,
    patch: unknown,
    options: VersionOptions = {},
    storeOptions?: Options,
  ): Promise<Rapatriement> {
    return this.store.write(this.prepareUpdate(id, patch, options), storeOptions);
  }

  /** Deletes and returns the record as it was. */
  async delete(
    id: unknown,
    options: VersionOptions = {},
    storeOptions?: Options,
  ): Promise<Rapatriement> {
    return this.store.write(this.prepareDelete(id, options), storeOptions);
  }

  async get(id: unknown, storeOptions?: Options): Promise<Rapatriement> {
    const checkedId = checkId(id);
    return this.store.read((db) => this.mustFind(db, checkedId, undefined), storeOptions);
  }

  async list(
    query: Readonly<Record<string, string | undefined>>,
    storeOptions?: Options,
  ): Promise<Page> {
    const parsed = parseListQuery(query);
    const beforeSeq = parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor);
    return this.store.read((db) => {
      const { items, nextSeq } = repository.list(db, { ...parsed, beforeSeq }, parsed.limit);
      return { items, nextCursor: nextSeq === undefined ? null : encodeCursor(nextSeq) };
    }, storeOptions);
  }

  /** Every record, oldest first. */
  async listAll(storeOptions?: Options): Promise<Rapatriement[]> {
    return this.store.read((db) => repository.listAll(db), storeOptions);
  }

  /** Replaces or fills the data with whole records; see `prepareImport`. */
  async import(
    raws: readonly unknown[],
    options: { replace?: boolean } = {},
    storeOptions?: Options,
  ) {
    return this.store.write(this.prepareImport(raws, options), storeOptions);
  }

  private applyCreate(
    db: Database,
    fields: CreateInput,
    key: string | undefined,
    requestHash: string,
  ): Rapatriement {
    if (key !== undefined) {
      const seen = repository.findIdempotencyKey(db, key);
      if (seen !== undefined) {
        if (seen.requestHash !== requestHash) {
          throw new IdempotencyKeyReuseError(
            "This Idempotency-Key was already used with a different request body.",
          );
        }
        return JSON.parse(seen.response) as Rapatriement;
      }
    }
    if (repository.findIdByReference(db, fields.reference) !== undefined) {
      throw new DuplicateReferenceError(
        `A rapatriement with reference "${fields.reference}" already exists.`,
      );
    }
    const at = this.now().toISOString();
    const record: Rapatriement = {
      id: this.newId(),
      ...fields,
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    repository.insert(db, record);
    if (key !== undefined) repository.saveIdempotencyKey(db, key, requestHash, record);
    return record;
  }

  private applyUpdate(
    db: Database,
    id: string,
    changes: PatchInput,
    expectedVersion: number | undefined,
  ): Rapatriement {
    const current = this.mustFind(db, id, expectedVersion);
    if (isFinal(current.status)) {
      throw new ForbiddenTransitionError(
        `The rapatriement is ${current.status}; a ${current.status} rapatriement cannot change.`,
      );
    }
    if (changes.status !== undefined && changes.status !== current.status) {
      if (!canTransition(current.status, changes.status)) {
        const allowed = allowedTransitions(current.status);
        throw new ForbiddenTransitionError(
          `A ${current.status} rapatriement cannot become ${changes.status}; allowed: ${allowed.join(", ")}.`,
        );
      }
    }
    const next: Rapatriement = { ...current };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      if (value === null) delete (next as unknown as Record<string, unknown>)[field];
      else (next as unknown as Record<string, unknown>)[field] = value;
    }
    const errors = crossFieldErrors(next);
    if (errors.length > 0) throw new ValidationError(errors);
    if (JSON.stringify(next) === JSON.stringify(current)) return current; // nothing changes
    if (next.reference !== current.reference) {
      const holder = repository.findIdByReference(db, next.reference);
      if (holder !== undefined && holder !== id) {
        throw new DuplicateReferenceError(
          `A rapatriement with reference "${next.reference}" already exists.`,
        );
      }
    }
    next.version = current.version + 1;
    next.updatedAt = this.now().toISOString();
    repository.update(db, next, changes.lines !== undefined);
    return next;
  }

  private mustFind(db: Database, id: string, expectedVersion: number | undefined): Rapatriement {
    const found = repository.findById(db, id);
    if (found === undefined) throw new NotFoundError(`No rapatriement has id "${id}".`);
    if (expectedVersion !== undefined && found.record.version !== expectedVersion) {
      throw new VersionMismatchError(
        `The rapatriement is at version ${found.record.version}, not ${expectedVersion}; reload it and retry.`,
      );
    }
    return found.record;
  }
}

function checkId(id: unknown): string {
  return parseId(id);
}

function checkExpectedVersion(version: number | undefined): number | undefined {
  if (version === undefined) return undefined;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError([{ path: "expectedVersion", message: "must be an integer >= 1" }]);
  }
  return version;
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError([
      { path: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" },
    ]);
  }
  return key;
}

/** The same body with its keys in another order is the same request. */
function hashRequest(fields: CreateInput): string {
  return createHash("sha256").update(canonicalJson(fields)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
