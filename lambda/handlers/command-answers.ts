/**
 * Entry adapter: what the commands function answers for each command — what
 * became of it (applied, or refused with its status, code and message), as
 * much of it as a caller may see, and, for a direct invocation, within
 * Lambda's 6 MB response.
 */
import { AppError } from "../errors.ts";
import type { Rule, Text } from "../messages/keys.ts";
import { text } from "../messages/render.ts";
import type { CommandResult } from "../rapatriements/commands.ts";
import { MAX_PAGE_BYTES } from "../rapatriements/page-budget.ts";
import type { Refusal, RefusalKeys } from "./commands-queue.ts";
import { codeOf } from "./log-line.ts";

export type CommandOutcome =
  | ({ ok: true; recordOmitted?: true } & CommandResult)
  | { ok: false; error: Refusal & { errorsOmitted?: number } };

/** What a command came to: its result, or the error that stopped it. */
export type Settled = { ok: true; value: CommandResult } | { ok: false; error: unknown };

/** A settled command as its caller sees it. */
export function toOutcome(settled: Settled): CommandOutcome {
  return settled.ok
    ? { ok: true, ...settled.value }
    : { ok: false, error: summarise(settled.error) };
}

/**
 * The answer of a direct invocation within Lambda's 6 MB: each outcome whole
 * while they fit in MAX_PAGE_BYTES, then without its record (id, version
 * and outcome stay; `recordOmitted` says so) and with at most a few field
 * errors (`errorsOmitted` counts the rest). A command's record can always be
 * read with GET.
 */
export function withinAnswerBudget(outcomes: readonly CommandOutcome[]): CommandOutcome[] {
  let bytes = 2;
  return outcomes.map((outcome) => {
    const whole = Buffer.byteLength(JSON.stringify(outcome), "utf8") + 1;
    if (bytes + whole <= MAX_PAGE_BYTES) {
      bytes += whole;
      return outcome;
    }
    const short = shortened(outcome);
    bytes += Buffer.byteLength(JSON.stringify(short), "utf8") + 1;
    return short;
  });
}

const ERRORS_KEPT_WHEN_SHORT = 5;

function shortened(outcome: CommandOutcome): CommandOutcome {
  if (outcome.ok) {
    const { record: _record, ...rest } = outcome;
    return { ...rest, recordOmitted: true };
  }
  const { errors, ...error } = outcome.error;
  if (!Array.isArray(errors) || errors.length <= ERRORS_KEPT_WHEN_SHORT) return outcome;
  return {
    ok: false,
    error: {
      ...error,
      errors: errors.slice(0, ERRORS_KEPT_WHEN_SHORT),
      errorsOmitted: errors.length - ERRORS_KEPT_WHEN_SHORT,
    },
  };
}

/** An error as a caller of the commands may see it: detail only for errors meant for them. */
export function summarise(error: unknown): Refusal {
  if (error instanceof AppError && error.expose) {
    const summary: Refusal = { status: error.status, code: error.code, message: error.message };
    // Stryker disable next-line ConditionalExpression: Lambda answers in JSON, where a field set to undefined is absent, as an unset one
    if (error.errors !== undefined) {
      summary.errors = error.errors.map(({ path, message }) => ({ path, message }));
    }
    return summary;
  }
  return { status: 500, code: codeOf(error), message: text("en", INTERNAL) };
}

const INTERNAL: Text = { key: "commandInternalError", params: {} };

/** The keys of what `summarise` says of `error`. */
export function refusalKeys(error: unknown): RefusalKeys {
  if (error instanceof AppError && error.expose && error.text !== undefined) {
    return {
      text: error.text,
      rules: (error.errors ?? []).map(({ rule, params }) => ({ rule, params }) as Rule),
    };
  }
  return { text: INTERNAL, rules: [] };
}
