/**
 * Domain: validation of what clients send, by zod rules. Every bad field is
 * reported, with its path; unknown fields are rejected, not ignored.
 */
import * as z from "zod";
import { type FieldError, fieldError, ValidationError } from "../errors.ts";
import type { Rule } from "../messages/keys.ts";
import { ruleText } from "../messages/render.ts";
import { type Line, type RapatriementFields, STATUSES, type Status } from "./model.ts";
import { expected, rule, toFieldErrors } from "./zod-rules.ts";

const REFERENCE = /^[A-Za-z0-9._\-/]{1,64}$/;

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
const LONE: Rule = { rule: "loneSurrogate", params: {} };

/** The English of a lone surrogate's refusal. */
export const LONE_SURROGATE = ruleText("en", LONE);

/** A string of `min` to `max` characters of well-formed Unicode. */
function text(max: number, min = 1) {
  // (A comment inside the chain below would not reach its lines: Stryker reads
  // a directive from the node it leads, here the whole chain.)
  // Stryker disable BooleanLiteral: `abort: true` forced false adds issues on the same path after the first, and only a field's first issue is reported (dedupe)
  return z
    .string({ error: expected("string") })
    .refine((value) => value.isWellFormed(), { error: rule(LONE), abort: true })
    .refine((value) => characterCount(value) >= min, {
      error: rule({ rule: "empty", params: {} }),
      abort: true,
    })
    .refine((value) => characterCount(value) <= max, {
      error: rule({ rule: "maxCharacters", params: { max } }),
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
    error: rule({ rule: "spaces", params: {} }),
  });

  const dateTime = z.iso.datetime({
    offset: true,
    error: rule({ rule: "dateTime", params: { example: "2026-03-01T08:00:00Z" } }),
  });

  const line = z.strictObject(
    {
      sku: text(64),
      quantity: z
        .number({ error: expected("number") })
        .refine((value) => Number.isFinite(value) && value > 0, {
          error: rule({ rule: "positive", params: {} }),
        }),
      unit: text(32).optional(),
    },
    { error: rule({ rule: "type", params: { kind: "object" } }) },
  );

  const fields = {
    reference: z
      .string({ error: expected("string") })
      .regex(REFERENCE, { error: rule({ rule: "reference", params: {} }) }),
    origin: siteCode,
    destination: siteCode,
    lines: z
      .array(line, { error: expected("lines") })
      .min(1, { error: rule({ rule: "noLines", params: {} }) })
      .max(500, { error: rule({ rule: "maxLines", params: { max: 500 } }) }),
    status: z.enum(STATUSES, { error: rule({ rule: "oneOf", params: { allowed: STATUSES } }) }),
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
    { error: rule({ rule: "jsonObject", params: {} }) },
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
    { error: rule({ rule: "jsonObject", params: {} }) },
  );

  const storedFields = z.object({
    id: text(MAX_ID_CHARACTERS).optional(),
    createdAt: dateTime.optional(),
    updatedAt: dateTime.optional(),
    version: z
      .number({ error: expected("integer") })
      .int({ error: rule({ rule: "integerAtLeast", params: { min: 1 } }) })
      .min(1, { error: rule({ rule: "integerAtLeast", params: { min: 1 } }) })
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
    throw new ValidationError([fieldError("", { rule: "noChange", params: {} })]);
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
    errors.push(fieldError("destination", { rule: "differs", params: { other: "origin" } }));
  }
  if (typeof record.requestedAt === "string" && typeof record.expectedAt === "string") {
    const requested = Date.parse(record.requestedAt);
    const expected = Date.parse(record.expectedAt);
    if (!Number.isNaN(requested) && !Number.isNaN(expected) && expected < requested) {
      errors.push(
        fieldError("expectedAt", { rule: "notBefore", params: { other: "requestedAt" } }),
      );
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
      errors.push(
        fieldError(name, { rule: "unknownParameter", params: { allowed: LIST_PARAMETERS } }),
      );
    }
  }
  if (query.status !== undefined) {
    const statuses = query.status.split(",").map((s) => s.trim());
    const unknown = statuses.filter((s) => !(STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      errors.push(fieldError("status", { rule: "commaList", params: { allowed: STATUSES } }));
    } else {
      result.statuses = [...new Set(statuses as Status[])];
    }
  }
  for (const name of ["origin", "destination", "reference"] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (!value.isWellFormed()) {
      errors.push(fieldError(name, LONE));
    } else if (value === "" || characterCount(value) > 64) {
      errors.push(fieldError(name, { rule: "length", params: { max: 64 } }));
    } else {
      result[name] = value;
    }
  }
  if (query.limit !== undefined) {
    const limit = /^\d{1,4}$/.test(query.limit) ? Number(query.limit) : Number.NaN;
    if (!(limit >= 1 && limit <= 100)) {
      errors.push(fieldError("limit", { rule: "integerRange", params: { min: 1, max: 100 } }));
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
    throw new ValidationError([fieldError("id", { rule: "type", params: { kind: "string" } })]);
  }
  const broken: Rule | undefined = !value.isWellFormed()
    ? LONE
    : value === "" || characterCount(value) > MAX_ID_CHARACTERS
      ? { rule: "idLength", params: { max: MAX_ID_CHARACTERS } }
      : undefined;
  if (broken !== undefined) throw new ValidationError([fieldError("id", broken)]);
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
    throw new ValidationError([
      fieldError(prefix(""), { rule: "type", params: { kind: "object" } }),
    ]);
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
