/**
 * Entry adapters: the one JSON log line of an invocation, built here for
 * every function — the HTTP routes, the router's refusals, the commands —
 * from the fields they all share (level, time, request id, route), their
 * own, what the storage cost, and what went wrong.
 */
import { AppError } from "../errors.ts";
import type { StorageReport } from "../storage/transaction-options.ts";

export type LogLine = Record<string, unknown>;

export type LogLevel = "info" | "warn" | "error";

/** What one invocation's line says, in the order the line says it. */
export interface Invocation {
  level: LogLevel;
  requestId: string;
  route: string | null;
  /** The function's own fields, after the route. */
  fields: LogLine;
  /** What the storage cost, when the invocation used it. */
  report?: StorageReport;
  /** What went wrong, if anything: logged as its stable code and its description. */
  error?: unknown;
  /** Fields that close the line (the metrics, a refusal's details). */
  closing?: LogLine;
}

export function invocationLine(invocation: Invocation): LogLine {
  const { level, requestId, route, fields, report, error, closing } = invocation;
  const line: LogLine = { level, time: new Date().toISOString(), requestId, route, ...fields };
  if (report !== undefined) Object.assign(line, storageFields(report));
  if (error !== undefined) {
    line.code = codeOf(error);
    line.error = describeError(error);
  }
  return { ...line, ...closing };
}

/** The level of an HTTP answer's line: an error for a 5xx, a warning for a 4xx. */
export function levelOf(status: number): LogLevel {
  return status >= 500 ? "error" : status >= 400 ? "warn" : "info";
}

/** Whose failure an HTTP answer is, if anyone's. */
export function outcomeOf(status: number): "server_error" | "client_error" | "success" {
  return status >= 500 ? "server_error" : status >= 400 ? "client_error" : "success";
}

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
