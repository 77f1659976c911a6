/**
 * Domain: a write — create, update or delete — as input checked before any
 * storage is touched (so bad input costs no S3 call and changes nothing),
 * what each answers, and the receipt of an HTTP write sent with an
 * `Idempotency-Key`.
 */
import { fieldError, ValidationError } from "../errors.ts";
import type { Actor, Rapatriement } from "./model.ts";
import {
  type Action,
  API_KEY_WINDOW_MS,
  fingerprint,
  type ReceiptRequest,
  receiptKey,
} from "./receipts.ts";
import {
  type CreateInput,
  type PatchInput,
  parseCreate,
  parseId,
  parsePatch,
} from "./validation.ts";

export interface CreateOptions {
  /**
   * The API's `Idempotency-Key`: the same caller's same key and request are
   * applied once. Another caller's same key is another key.
   */
  idempotencyKey?: string;
  /**
   * Who asks, from the authorizer's context (see `Actor`); recorded as
   * `createdBy`/`updatedBy`, and the scope of its idempotency keys. Not part
   * of the request a receipt compares.
   */
  actor?: Actor;
}

export interface VersionOptions extends CreateOptions {
  /** The version the caller last saw; a mismatch is refused (412). */
  expectedVersion?: number;
}

/** A write, its input checked. */
export type Operation =
  | { action: "create"; fields: CreateInput }
  | { action: "update"; id: string; changes: PatchInput; expectedVersion: number | undefined }
  | { action: "delete"; id: string; expectedVersion: number | undefined };

/** What a write did, or did the first time when it is a replay. */
export interface Applied {
  action: Action;
  /**
   * The record's id. Absent only from the replay of a create whose record has
   * since been deleted: a receipt keeps the record's list position, not its
   * id, and the position names no record any more.
   */
  id?: string;
  /** The record's version the write produced (for a delete: the version deleted). */
  version: number;
  /** The record as it is now; absent once deleted. */
  record: Rapatriement | undefined;
  /** True when the write had been applied before and was not applied again. */
  replayed: boolean;
}

/** The part of a command or request that says which write it is. */
export interface OperationInput {
  action: Action;
  id?: unknown;
  data?: unknown;
  expectedVersion?: number | undefined;
}

/** Checks a write's input before any storage is touched; throws `ValidationError`. */
export function parseOperation(input: OperationInput): Operation {
  switch (input.action) {
    case "create":
      return { action: "create", fields: parseCreate(input.data) };
    case "update":
      return {
        action: "update",
        id: checkId(input.id),
        changes: parsePatch(input.data),
        expectedVersion: checkExpectedVersion(input.expectedVersion),
      };
    case "delete":
      return {
        action: "delete",
        id: checkId(input.id),
        expectedVersion: checkExpectedVersion(input.expectedVersion),
      };
  }
}

/** An id as the API and the commands take it; throws `ValidationError`. */
export function checkId(id: unknown): string {
  return parseId(id);
}

function checkExpectedVersion(version: number | undefined): number | undefined {
  if (version === undefined) return undefined;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError([
      fieldError("expectedVersion", { rule: "integerAtLeast", params: { min: 1 } }),
    ]);
  }
  return version;
}

function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.length > 255 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new ValidationError([
      fieldError("Idempotency-Key", { rule: "idempotencyKey", params: { max: 255 } }),
    ]);
  }
  return key;
}

/** The receipt of an HTTP write sent with an `Idempotency-Key`, if it was. */
export function apiReceipt(key: string | undefined, request: unknown): ReceiptRequest | undefined {
  const checked = checkIdempotencyKey(key);
  if (checked === undefined) return undefined;
  return {
    key: receiptKey.api(checked),
    fingerprint: fingerprint(request),
    windowMs: API_KEY_WINDOW_MS,
  };
}
