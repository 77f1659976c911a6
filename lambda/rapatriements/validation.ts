/**
 * Domain: validation of what clients send, by zod rules. Every bad field is
 * reported, with its path; unknown fields are rejected, not ignored.
 */
import * as z from "zod";
import { type FieldError, ValidationError } from "../errors.ts";
import { type Line, type RapatriementFields, STATUSES, type Status } from "./model.ts";

const REFERENCE = /^[A-Za-z0-9._\-/]{1,64}$/;

/** "is required" for a missing field, "must be …" for a value of the wrong type. */
function expected(what: string) {
  return (issue: { input: unknown }) =>
    issue.input === undefined ? "is required" : `must be ${what}`;
}

/**
 * Characters as a person counts them, and as JSON Schema's `maxLength` does:
 * code points, not UTF-16 units (an emoji is one character, not two).
 */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}

/**
 * A lone UTF-16 surrogate cannot be written as UTF-8: stored, it would become
 * U+FFFD and come back other than it was sent (a 64-character sku as 192
 * bytes, two different site codes as equal ones). Refused, never repaired.
 */
export const LONE_SURROGATE = "must be valid Unicode text (it holds a lone UTF-16 surrogate)";

/** A string of `min` to `max` characters of well-formed Unicode. */
function text(max: number, min = 1) {
  // (A comment inside the chain below would not reach its lines: Stryker reads
  // a directive from the node it leads, here the whole chain.)
  // Stryker disable BooleanLiteral: `abort: true` forced false adds issues on the same path after the first, and only a field's first issue is reported (dedupe)
  return z
    .string({ error: expected("a string") })
    .refine((value) => value.isWellFormed(), { error: LONE_SURROGATE, abort: true })
    .refine((value) => characterCount(value) >= min, { error: "must not be empty", abort: true })
    .refine((value) => characterCount(value) <= max, {
      error: `must be at most ${max} characters`,
    });
}
// Stryker restore BooleanLiteral

/**
 * The zod rules, built on first use rather than at import: building them costs
 * tens of milliseconds in a fresh process (measured in a bundle of this
 * module: 30–40 ms beyond zod's own import), which a cold start serving a
 * read — a GET or a list, that never parses a body — need not pay.
 */
function buildRules() {
  const siteCode = text(64).refine((value) => value.trim() === value, {
    error: "must not start or end with spaces",
  });

  const dateTime = z.iso.datetime({
    offset: true,
    error: "must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T08:00:00Z",
  });

  const line = z.strictObject(
    {
      sku: text(64),
      quantity: z
        .number({ error: expected("a number") })
        .refine((value) => Number.isFinite(value) && value > 0, {
          error: "must be a number greater than 0",
        }),
      unit: text(32).optional(),
    },
    { error: "must be an object" },
  );

  const fields = {
    reference: z
      .string({ error: expected("a string") })
      .regex(REFERENCE, { error: "must be 1 to 64 of A-Z a-z 0-9 . _ - /" }),
    origin: siteCode,
    destination: siteCode,
    lines: z
      .array(line, { error: expected("an array of lines") })
      .min(1, { error: "must hold at least 1 line" })
      .max(500, { error: "must hold at most 500 lines" }),
    status: z.enum(STATUSES, { error: `must be one of ${STATUSES.join(", ")}` }),
    requestedAt: dateTime,
    expectedAt: dateTime,
    comment: text(2000, 0),
  };

  const createRules = z.strictObject(
    {
      reference: fields.reference,
      origin: fields.origin,
      destination: fields.destination,
      lines: fields.lines,
      status: fields.status.optional(),
      requestedAt: fields.requestedAt.optional(),
      expectedAt: fields.expectedAt.optional(),
      comment: fields.comment.optional(),
    },
    { error: "the body must be a JSON object" },
  );

  const patchRules = z.strictObject(
    {
      reference: fields.reference.optional(),
      origin: fields.origin.optional(),
      destination: fields.destination.optional(),
      lines: fields.lines.optional(),
      status: fields.status.optional(),
      // null clears an optional field
      requestedAt: fields.requestedAt.nullable().optional(),
      expectedAt: fields.expectedAt.nullable().optional(),
      comment: fields.comment.nullable().optional(),
    },
    { error: "the body must be a JSON object" },
  );

  const storedFields = z.object({
    id: text(MAX_ID_CHARACTERS).optional(),
    createdAt: dateTime.optional(),
    updatedAt: dateTime.optional(),
    version: z
      .number({ error: expected("an integer") })
      .int()
      .min(1)
      .optional(),
    createdBy: text(MAX_ACTOR_CHARACTERS).nullable().optional(),
    updatedBy: text(MAX_ACTOR_CHARACTERS).nullable().optional(),
  });

  return { createRules, patchRules, storedFields };
}

let built: ReturnType<typeof buildRules> | undefined;
function rules(): ReturnType<typeof buildRules> {
  built ??= buildRules();
  return built;
}

export type CreateInput = RapatriementFields;
export type PatchInput = z.infer<ReturnType<typeof buildRules>["patchRules"]>;

export function parseCreate(input: unknown): CreateInput {
  const result = rules().createRules.safeParse(input);
  const errors = result.success ? [] : toFieldErrors(result.error);
  if (typeof input === "object" && input !== null) errors.push(...crossFieldErrors(input));
  if (!result.success || errors.length > 0) throw new ValidationError(dedupe(errors));
  const { status, lines, ...rest } = result.data;
  return { ...rest, lines: lines.map(cleanLine), status: status ?? "draft" };
}

export function parsePatch(input: unknown): PatchInput {
  const result = rules().patchRules.safeParse(input);
  if (!result.success) throw new ValidationError(dedupe(toFieldErrors(result.error)));
  if (Object.keys(result.data).length === 0) {
    throw new ValidationError([{ path: "", message: "the patch changes no field" }]);
  }
  return result.data;
}

/** The rules that span fields, checked on a whole record (after a patch is merged too). */
export function crossFieldErrors(record: {
  origin?: unknown;
  destination?: unknown;
  requestedAt?: unknown;
  expectedAt?: unknown;
}): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof record.origin === "string" && record.origin === record.destination) {
    errors.push({ path: "destination", message: "must differ from origin" });
  }
  if (typeof record.requestedAt === "string" && typeof record.expectedAt === "string") {
    const requested = Date.parse(record.requestedAt);
    const expected = Date.parse(record.expectedAt);
    if (!Number.isNaN(requested) && !Number.isNaN(expected) && expected < requested) {
      errors.push({ path: "expectedAt", message: "must not be before requestedAt" });
    }
  }
  return errors;
}

export interface ListQuery {
  statuses?: Status[];
  origin?: string;
  destination?: string;
  reference?: string;
  limit: number;
  cursor?: string;
}

const LIST_PARAMETERS = ["status", "origin", "destination", "reference", "limit", "cursor"];

/** Query-string parameters of a list, as strings. */
export function parseListQuery(query: Readonly<Record<string, string | undefined>>): ListQuery {
  const errors: FieldError[] = [];
  const result: ListQuery = { limit: 20 };
  for (const name of Object.keys(query)) {
    if (!LIST_PARAMETERS.includes(name)) {
      errors.push({
        path: name,
        message: `unknown parameter; allowed: ${LIST_PARAMETERS.join(", ")}`,
      });
    }
  }
  if (query.status !== undefined) {
    const statuses = query.status.split(",").map((s) => s.trim());
    const unknown = statuses.filter((s) => !(STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      errors.push({ path: "status", message: `must be a comma list of ${STATUSES.join(", ")}` });
    } else {
      result.statuses = [...new Set(statuses as Status[])];
    }
  }
  for (const name of ["origin", "destination", "reference"] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (!value.isWellFormed()) {
      errors.push({ path: name, message: LONE_SURROGATE });
    } else if (value === "" || characterCount(value) > 64) {
      errors.push({ path: name, message: "must be 1 to 64 characters" });
    } else {
      result[name] = value;
    }
  }
  if (query.limit !== undefined) {
    const limit = /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= 100)) {
      errors.push({ path: "limit", message: "must be an integer from 1 to 100" });
    } else {
      result.limit = limit;
    }
  }
  if (query.cursor !== undefined) result.cursor = query.cursor;
  if (errors.length > 0) throw new ValidationError(errors);
  return result;
}

function cleanLine(value: { sku: string; quantity: number; unit?: string | undefined }): Line {
  return value.unit === undefined
    ? { sku: value.sku, quantity: value.quantity }
    : { sku: value.sku, quantity: value.quantity, unit: value.unit };
}

/**
 * What the server sets on a record: sent by a client, it is refused (400) and
 * named as such — silently ignoring it would let a client believe it had set
 * who made a change. Identity comes from the authorizer's context only.
 */
const READ_ONLY: Readonly<Record<string, string>> = {
  id: "is read-only: the server sets it",
  createdAt: "is read-only: the server sets it",
  updatedAt: "is read-only: the server sets it",
  version: "is read-only: the server sets it",
  createdBy: "is read-only: the server takes it from the caller's authenticated identity",
  updatedBy: "is read-only: the server takes it from the caller's authenticated identity",
};

function toFieldErrors(error: z.ZodError): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const message = (base === "" ? READ_ONLY[key] : undefined) ?? "unknown field";
        errors.push({ path: base === "" ? key : `${base}.${key}`, message });
      }
    } else {
      errors.push({ path: base, message: issue.message });
    }
  }
  return errors;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** One message per field: the first problem found is the one to fix first. */
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    if (seen.has(e.path)) return false;
    seen.add(e.path);
    return true;
  });
}
/** Ids are opaque: 1 to 128 characters, as the API reference says. */
export const MAX_ID_CHARACTERS = 128;

/** A record's id as a caller gives it (a path, a command). */
export function parseId(value: unknown): string {
  if (typeof value !== "string") {
    throw new ValidationError([{ path: "id", message: "must be a string" }]);
  }
  const message = !value.isWellFormed()
    ? LONE_SURROGATE
    : value === "" || characterCount(value) > MAX_ID_CHARACTERS
      ? `must be 1 to ${MAX_ID_CHARACTERS} characters, an id as this API returned it`
      : undefined;
  if (message !== undefined) throw new ValidationError([{ path: "id", message }]);
  return value;
}

/** An IAM role session ARN is at most about 2,100 characters; a JWT `sub` is shorter. */
const MAX_ACTOR_CHARACTERS = 2048;

export interface ImportedRecord {
  fields: CreateInput;
  id?: string;
  createdAt?: string;
  updatedAt?: string;
  version?: number;
  createdBy?: string | null;
  updatedBy?: string | null;
}

/**
 * A whole record from an existing file (an export, the old local storage):
 * the client fields as on create, plus the server fields when present.
 * Errors carry the record's index, e.g. `[12].lines[0].quantity`.
 */
export function parseImportedRecord(raw: unknown, index: number): ImportedRecord {
  const prefix = (path: string) => (path === "" ? `[${index}]` : `[${index}].${path}`);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ValidationError([{ path: prefix(""), message: "must be an object" }]);
  }
  const { id, createdAt, updatedAt, version, createdBy, updatedBy, ...client } = raw as Record<
    string,
    unknown
  >;
  const errors: FieldError[] = [];
  let fields: CreateInput | undefined;
  try {
    fields = parseCreate(client);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    errors.push(...(error.errors ?? []));
  }
  const stored = rules().storedFields.safeParse({
    id,
    createdAt,
    updatedAt,
    version,
    createdBy,
    updatedBy,
  });
  if (!stored.success) errors.push(...toFieldErrors(stored.error));
  if (errors.length > 0 || fields === undefined || !stored.success) {
    throw new ValidationError(errors.map((e) => ({ ...e, path: prefix(e.path) })));
  }
  const record: ImportedRecord = { fields };
  for (const [name, value] of Object.entries(stored.data)) {
    if (value !== undefined) Object.assign(record, { [name]: value });
  }
  return record;
}
