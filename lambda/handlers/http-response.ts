/**
 * Entry adapters: what an HTTP route answers — JSON, a record's ETag, and an
 * error as problem+json (RFC 9457), where only an error meant for the caller
 * shows its detail: anything else is a generic 500 whose details are in the
 * log line, found by its request id. An error's words are said in the
 * language the request asks for (`Accept-Language`: French or English), the
 * answer saying which (`Content-Language`) and that it depends on that
 * header (`Vary`); its status, code and paths are the same in every language.
 */
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { AppError, RetryLaterError } from "../errors.ts";
import type { Language } from "../messages/keys.ts";
import { languageOf, ruleText, text } from "../messages/render.ts";
import { codeOf } from "./log-line.ts";

export type HttpResult = APIGatewayProxyStructuredResultV2;

/**
 * The language a request asks for, from its `Accept-Language` header (any
 * case: the error middleware may run before the names are lower-cased).
 */
export function requestLanguage(
  headers: Readonly<Record<string, string | undefined>> | undefined,
): Language {
  const name = Object.keys(headers ?? {}).find((key) => key.toLowerCase() === "accept-language");
  return languageOf(name === undefined ? undefined : headers?.[name]);
}

/** The problem+json answer for an error, in `language`; only errors meant for the caller show their detail. */
export function problemResponse(
  error: unknown,
  requestId: string,
  language: Language = "en",
): HttpResult {
  const known = error instanceof AppError ? error : undefined;
  const shown = known?.expose === true ? known : undefined;
  const status = shown?.status ?? 500;
  const code = codeOf(error);
  const body: Record<string, unknown> = {
    type: `urn:rapatriements:problem:${code.toLowerCase().replaceAll("_", "-")}`,
    title: text(language, { key: "title", params: { status } }),
    status,
    detail:
      shown === undefined
        ? text(language, { key: "internalError", params: { code, requestId } })
        : shown.text === undefined
          ? shown.message
          : text(language, shown.text),
    code,
    requestId,
  };
  if (shown?.errors !== undefined) {
    body.errors = shown.errors.map((e) => ({ path: e.path, message: ruleText(language, e) }));
  }
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "content-language": language,
    vary: "Accept-Language",
  };
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
