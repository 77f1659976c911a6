/**
 * Entry adapters: the parts of a handler's one JSON log line that every
 * handler shares — what the storage cost, and what went wrong.
 */
import { AppError } from "../errors.ts";
import type { StorageReport } from "../storage/transaction-options.ts";

/** S3 calls with their status and time, retries, and whether the cached database was reused. */
export function storageFields(report: StorageReport): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    s3: {
      calls: report.s3Calls.map(
        (c) => `${c.command} ${c.status ?? "no-response"} ${round(c.ms)}ms`,
      ),
      count: report.s3Calls.length,
      ms: round(report.s3Calls.reduce((sum, c) => sum + c.ms, 0)),
    },
    retries: Math.max(0, report.attempts - 1),
    cache: report.cache ?? null,
  };
  if (report.roundSize > 1) fields.roundSize = report.roundSize;
  if (report.warnings.length > 0) fields.warnings = report.warnings;
  return fields;
}

/** The stable code of an error: its own for ours, INTERNAL_ERROR for anything else. */
export function codeOf(error: unknown): string {
  return error instanceof AppError ? error.code : "INTERNAL_ERROR";
}

/** Error name, message and causes, for the log only. */
export function describeError(error: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (error instanceof Error) {
    out.name = error.name;
    out.message = error.message;
    if (error.cause !== undefined) out.cause = describeError(error.cause);
  } else {
    out.message = String(error);
  }
  return out;
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
