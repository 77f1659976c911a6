/**
 * Domain: zod's issues as field errors keyed by rule. zod carries one message
 * string per issue; each check here is given its rule and params, as JSON,
 * in that string, and read back below — so a field error leaves the domain
 * as `{ path, rule, params }`, never as words to be matched.
 */
import type * as z from "zod";
import { type FieldError, fieldError } from "../errors.ts";
import type { Kind, Rule } from "../messages/keys.ts";

/** The `error` option of a zod check that breaks `rule`. */
export function rule(broken: Rule): string {
  return JSON.stringify(broken);
}

/** `required` for a missing field, `type` for a value of the wrong kind. */
export function expected(kind: Kind) {
  return (issue: { input: unknown }) =>
    rule(
      issue.input === undefined
        ? { rule: "required", params: {} }
        : { rule: "type", params: { kind } },
    );
}

/**
 * What the server sets on a record: sent by a client, it is refused (400) and
 * named as such — silently ignoring it would let a client believe it had set
 * who made a change. Identity comes from the authorizer's context only.
 */
const READ_ONLY: ReadonlyMap<string, Rule> = new Map([
  ["id", { rule: "readOnly", params: {} }],
  ["createdAt", { rule: "readOnly", params: {} }],
  ["updatedAt", { rule: "readOnly", params: {} }],
  ["version", { rule: "readOnly", params: {} }],
  ["createdBy", { rule: "readOnlyIdentity", params: {} }],
  ["updatedBy", { rule: "readOnlyIdentity", params: {} }],
]);

/**
 * The field errors of a failed parse. An unknown key is `unknownField`, or
 * read-only at the top level when `readOnly` says so.
 */
export function toFieldErrors(error: z.ZodError, readOnly = true): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        // A Map, not an object: a client's key may be "__proto__" or "constructor".
        const broken = (readOnly && base === "" ? READ_ONLY.get(key) : undefined) ?? {
          rule: "unknownField",
          params: {},
        };
        errors.push(fieldError(base === "" ? key : `${base}.${key}`, broken));
      }
    } else {
      errors.push(fieldError(base, ruleOf(issue.message)));
    }
  }
  return errors;
}

/** The rule a check was given; a check given none (a slip) is said to be `invalid`. */
function ruleOf(message: string): Rule {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === "object" && parsed !== null && "rule" in parsed) return parsed as Rule;
  } catch {
    // zod's own words: no rule was given to this check
  }
  return { rule: "invalid", params: {} };
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
