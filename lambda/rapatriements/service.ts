/**
 * Domain: the operations on rapatriements that the API and the commands use.
 * Input is validated before the store is touched (operation.ts), so bad
 * input costs no S3 call and changes nothing. Each operation is one
 * transaction of the store.
 */
import { randomUUID } from "node:crypto";
import type { Database } from "sql.js";
import {
  DuplicateReferenceError,
  ForbiddenTransitionError,
  IdempotencyKeyReuseError,
  NotFoundError,
  ValidationError,
  VersionMismatchError,
} from "../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import {
  type Actor,
  allowedTransitions,
  canTransition,
  isFinal,
  type Rapatriement,
} from "./model.ts";
import {
  type Applied,
  apiReceipt,
  type CreateOptions,
  checkId,
  type Operation,
  parseOperation,
  type VersionOptions,
} from "./operation.ts";
import { recordChange } from "./outbox.ts";
import {
  ANY_REQUEST,
  expiryMinute,
  fingerprintBits,
  LEGACY_SCOPE,
  minuteOf,
  type ReceiptRequest,
  receiptHash,
  scopeOf,
} from "./receipts.ts";
import { type ImportOptions, prepareRecordImport } from "./record-import.ts";
import * as repository from "./repository.ts";
import {
  type CreateInput,
  crossFieldErrors,
  type PatchInput,
  parseCreate,
  parseListQuery,
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

  /**
   * Prepares a write; the returned function runs inside a transaction (alone
   * or in a batch). Under a receipt, a write already applied is answered from
   * its receipt and not applied again; the same key for another request is
   * refused (422). A receipt key is `actor`'s own: the same key from another
   * caller is another key.
   */
  prepare(
    operation: Operation,
    receipt?: ReceiptRequest,
    actor: Actor = null,
  ): (db: Database) => Applied {
    const keys =
      receipt === undefined
        ? undefined
        : {
            own: receiptHash(scopeOf(actor), receipt.key),
            // Receipts written before schema 5 were shared by every caller;
            // they are still answered from until they expire, within 15 days
            // of the upgrade (the longest window they had).
            legacy: receiptHash(LEGACY_SCOPE, receipt.key),
            fingerprint: fingerprintBits(receipt.fingerprint),
            windowMs: receipt.windowMs,
          };
    return (db) => {
      const now = this.now().getTime();
      if (keys !== undefined) {
        const seen = repository.findReceipt(db, [keys.own, keys.legacy], minuteOf(now));
        if (seen !== undefined) {
          // The fingerprint covers the action: the same fingerprint is the same request.
          const sameRequest =
            seen.fingerprint === keys.fingerprint ||
            seen.fingerprint === ANY_REQUEST[operation.action];
          if (!sameRequest) {
            throw new IdempotencyKeyReuseError({ key: "idempotencyKeyReused", params: {} });
          }
          return replay(db, operation, seen);
        }
      }
      const { applied, seq } = this.apply(db, operation, actor);
      if (keys !== undefined) {
        repository.saveReceipt(
          db,
          keys.own,
          { fingerprint: keys.fingerprint, recordSeq: seq, version: applied.version },
          expiryMinute(now, keys.windowMs),
        );
      }
      return applied;
    };
  }

  /** Prepares a create of the HTTP API; see `prepare`. */
  prepareCreate(input: unknown, options: CreateOptions = {}): (db: Database) => Rapatriement {
    const fields = parseCreate(input);
    // The fingerprint of a create is that of its fields alone, as schema 2 kept it.
    const apply = this.prepare(
      { action: "create", fields },
      apiReceipt(options.idempotencyKey, fields),
      options.actor,
    );
    return (db) => recordOf(apply(db));
  }

  prepareUpdate(
    id: unknown,
    patch: unknown,
    options: VersionOptions = {},
  ): (db: Database) => Rapatriement {
    const operation = parseOperation({
      action: "update",
      id,
      data: patch,
      expectedVersion: options.expectedVersion,
    });
    const apply = this.prepare(
      operation,
      apiReceipt(options.idempotencyKey, operation),
      options.actor,
    );
    return (db) => recordOf(apply(db));
  }

  prepareDelete(id: unknown, options: VersionOptions = {}): (db: Database) => Applied {
    const operation = parseOperation({
      action: "delete",
      id,
      expectedVersion: options.expectedVersion,
    });
    return this.prepare(operation, apiReceipt(options.idempotencyKey, operation), options.actor);
  }

  /**
   * Prepares the import of whole records (an export, the old local storage).
   * Every record is checked first and the file is refused whole on any error;
   * existing data is kept unless `replace`, and then the import replaces it.
   */
  prepareImport(
    raws: readonly unknown[],
    options: ImportOptions = {},
  ): (db: Database) => { imported: number; replaced: number } {
    return prepareRecordImport(raws, options, { now: this.now, newId: this.newId });
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

  /** Deletes the record; says which version was deleted. */
  async delete(
    id: unknown,
    options: VersionOptions = {},
    storeOptions?: Options,
  ): Promise<Applied> {
    return this.store.write(this.prepareDelete(id, options), storeOptions);
  }

  async get(id: unknown, storeOptions?: Options): Promise<Rapatriement> {
    const checkedId = checkId(id);
    return this.store.read((db) => mustFind(db, checkedId, undefined).record, storeOptions);
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
  async import(raws: readonly unknown[], options: ImportOptions = {}, storeOptions?: Options) {
    return this.store.write(this.prepareImport(raws, options), storeOptions);
  }

  /** Applies a write; says what it did, and the list position of the record it wrote. */
  private apply(
    db: Database,
    operation: Operation,
    actor: Actor,
  ): { applied: Applied; seq: number } {
    const done = ({ seq, record }: repository.StoredRapatriement, deleted = false) => {
      const { id, version } = record;
      const applied: Applied = { action: operation.action, id, version, record, replayed: false };
      if (deleted) applied.record = undefined;
      return { applied, seq };
    };
    switch (operation.action) {
      case "create":
        return done(this.applyCreate(db, operation.fields, actor));
      case "update": {
        const { id, changes, expectedVersion } = operation;
        return done(this.applyUpdate(db, id, changes, expectedVersion, actor));
      }
      case "delete": {
        const current = mustFind(db, operation.id, operation.expectedVersion);
        repository.remove(db, operation.id);
        recordChange(db, { kind: "deleted", before: current.record, actor, at: this.now() });
        return done(current, true);
      }
    }
  }

  private applyCreate(
    db: Database,
    fields: CreateInput,
    actor: Actor,
  ): repository.StoredRapatriement {
    if (repository.findIdByReference(db, fields.reference) !== undefined) {
      throw new DuplicateReferenceError({
        key: "duplicateReference",
        params: { reference: fields.reference },
      });
    }
    const at = this.now().toISOString();
    const record: Rapatriement = {
      id: this.newId(),
      ...fields,
      createdAt: at,
      updatedAt: at,
      version: 1,
      createdBy: actor,
      updatedBy: actor,
    };
    const seq = repository.insert(db, record);
    recordChange(db, { kind: "created", after: record });
    return { seq, record };
  }

  private applyUpdate(
    db: Database,
    id: string,
    changes: PatchInput,
    expectedVersion: number | undefined,
    actor: Actor,
  ): repository.StoredRapatriement {
    const { record: current, seq } = mustFind(db, id, expectedVersion);
    if (isFinal(current.status)) {
      throw new ForbiddenTransitionError(
        { key: "finalStatus", params: { status: current.status } },
        { final: true },
      );
    }
    if (changes.status !== undefined && changes.status !== current.status) {
      if (!canTransition(current.status, changes.status)) {
        const allowed = allowedTransitions(current.status);
        throw new ForbiddenTransitionError(
          {
            key: "forbiddenTransition",
            params: { from: current.status, to: changes.status, allowed },
          },
          { final: false },
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
    if (JSON.stringify(next) === JSON.stringify(current)) return { seq, record: current }; // nothing changes
    if (next.reference !== current.reference) {
      const holder = repository.findIdByReference(db, next.reference);
      if (holder !== undefined && holder !== id) {
        throw new DuplicateReferenceError({
          key: "duplicateReference",
          params: { reference: next.reference },
        });
      }
    }
    next.version = current.version + 1;
    next.updatedAt = this.now().toISOString();
    next.updatedBy = actor;
    repository.update(db, next, changes.lines !== undefined);
    recordChange(db, { kind: "updated", before: current, after: next });
    return { seq, record: next };
  }
}

function mustFind(
  db: Database,
  id: string,
  expectedVersion: number | undefined,
): repository.StoredRapatriement {
  const found = repository.findById(db, id);
  if (found === undefined) throw new NotFoundError({ key: "notFound", params: { id } });
  if (expectedVersion !== undefined && found.record.version !== expectedVersion) {
    throw new VersionMismatchError({ current: found.record.version, expected: expectedVersion });
  }
  return found;
}

/**
 * The answer to a write already applied, from its receipt: the version it
 * produced, and the record as it is now. A create's request does not name
 * the record it made: its receipt's list position does. An update's or a
 * delete's names it (the same fingerprint, the same id).
 */
function replay(db: Database, operation: Operation, seen: repository.StoredReceipt): Applied {
  const answer = { action: operation.action, version: seen.version, replayed: true };
  if (operation.action === "delete") {
    // A delete answers without its record, even where an import has since brought the id back.
    return { ...answer, id: operation.id, record: undefined };
  }
  // For an update, the position finds the record the first request changed
  // even under a schema-2 receipt (any request accepted), whose id may differ.
  const found = seen.recordSeq > 0 ? repository.findBySeq(db, seen.recordSeq) : undefined;
  const id = found?.record.id ?? (operation.action === "update" ? operation.id : undefined);
  return { ...answer, id, record: found?.record };
}

/** The record a create or an update answers with; a replay finds it gone once deleted. */
function recordOf(applied: Applied): Rapatriement {
  if (applied.record === undefined) {
    throw new NotFoundError(
      applied.id === undefined
        ? { key: "receiptRecordDeleted", params: {} }
        : { key: "receiptRecordDeletedId", params: { id: applied.id } },
    );
  }
  return applied.record;
}
