/**
 * Entry adapters: what an HTTP route answers — JSON, a record's ETag, and an
 * error as problem+json (RFC 9457), where only an error meant for the caller
 * shows its detail: anything else is a generic 500 whose details are in the
 * log line, found by its request id.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { AppError, RetryLaterError } from "../errors.ts";
import { codeOf } from "./log-line.ts";

export type HttpResult = APIGatewayProxyStructuredResultV2;

const TITLES: Readonly<Record<number, string>> = {
  400: "Invalid request",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  412: "Precondition failed",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
  500: "Internal error",
  503: "Service busy",
};

/** The problem+json answer for an error; only errors meant for the caller show their detail. */
export function problemResponse(error: unknown, requestId: string): HttpResult {
  const known = error instanceof AppError ? error : undefined;
  const shown = known?.expose === true ? known : undefined;
  const status = shown?.status ?? 500;
  const code = codeOf(error);
  const body: Record<string, unknown> = {
    type: `urn:rapatriements:problem:${code.toLowerCase().replaceAll("_", "-")}`,
    // Stryker disable next-line StringLiteral: every status an error of ours has is in TITLES; the fallback is for the type only
    title: TITLES[status] ?? "Error",
    status,
    detail:
      shown?.message ??
      `An internal error occurred (${code}); quote request id ${requestId} to the operators.`,
    code,
    requestId,
  };
  // A field error carries its rule and params; the answer says its words.
  if (shown?.errors !== undefined) {
    body.errors = shown.errors.map(({ path, message }) => ({ path, message }));
  }
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (known instanceof RetryLaterError) headers["retry-after"] = String(known.retryAfterSeconds);
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

/** A JSON answer. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult {
  return {
    statusCode,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}

/** The ETag of a record: its version in quotes, e.g. `"3"`. */
export function etagOf(record: { version: number }): string {
  return `"${record.version}"`;
}
