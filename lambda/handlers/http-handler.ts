/**
 * Entry adapters: the one middy stack every HTTP handler shares, for API
 * Gateway HTTP API payload v2. Header names are lower-cased, JSON bodies
 * parsed within the size and content-type limits, errors answered as
 * problem+json (only errors meant for the caller show their detail), and one
 * structured JSON line logged per invocation.
 */
import middy, { type MiddlewareObj, type Request } from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import {
  AppError,
  PayloadTooLargeError,
  RetryLaterError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../errors.ts";
import type { VersionOptions } from "../rapatriements/service.ts";
import { monotonicMs } from "../storage/monotonic-clock.ts";
import {
  emptyReport,
  type StorageReport,
  type TransactionOptions,
} from "../storage/transaction-options.ts";
import { callerOf } from "./caller.ts";
import { type HandlerDeps, type Service, transactionOptions } from "./dependencies.ts";
import { codeOf, describeError, round, storageFields } from "./log-line.ts";
import { metricFields, type ObjectGauge } from "./metrics.ts";

/**
 * The API Gateway v2 event as the middlewares leave it: header names
 * lower-cased, the parsed JSON body beside the raw one, and the report that
 * the storage fills for the log line.
 */
export type HttpEvent = APIGatewayProxyEventV2 & {
  jsonBody?: unknown;
  storageReport?: StorageReport;
  /** The container's data-object gauge, for the metrics, once the dependencies are built. */
  objectGauge?: ObjectGauge | undefined;
};
export type HttpResult = APIGatewayProxyStructuredResultV2;

export const MAX_BODY_BYTES = 256 * 1024;

/** What a route's function gets besides the event. */
export interface HttpCall {
  service: Service;
  /** Passed to every service call: the invocation's deadline and its storage report. */
  storage: TransactionOptions;
}

interface Internal extends Record<string, unknown> {
  started: number;
}

type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, Context, Internal>;
type HttpRequest = Request<HttpEvent, HttpResult, Error, Context, Internal>;

export function httpHandler(
  route: string,
  deps: HandlerDeps,
  fn: (event: HttpEvent, call: HttpCall) => Promise<HttpResult>,
) {
  return middy<HttpEvent, HttpResult, Error, Context, Internal>()
    .use(accessLog(route, deps))
    .use(problemErrors())
    .use(normaliseHeaders())
    .use(jsonBody(takesBody(route)))
    .handler(async (event, context) => {
      const { service, gauge } = await deps.dependencies();
      event.objectGauge = gauge;
      // API Gateway's own clock says when the request arrived (timeEpoch).
      const storage = transactionOptions(
        context,
        event.storageReport,
        // Stryker disable next-line OptionalChaining: without requestContext the invocation fails anyway: every log line reads the caller from it (callerOf)
        event.requestContext?.timeEpoch,
      );
      return fn(event, { service, storage });
    });
}

/** A header of the normalised event. */
export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers[name.toLowerCase()];
}

function normaliseHeaders(): Middleware {
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "normaliseHeaders",
    before: (request: HttpRequest) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.event.headers ?? {})) {
        headers[name.toLowerCase()] = value;
      }
      request.event.headers = headers;
    },
  };
}

/** Only POST and PATCH take a body; on other routes one is ignored, whatever its type. */
function takesBody(route: string): boolean {
  return route.startsWith("POST ") || route.startsWith("PATCH ");
}

function jsonBody(enabled: boolean): Middleware {
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "jsonBody",
    before: (request: HttpRequest) => {
      const { event } = request;
      // A missing, null or empty body is no body: serverless-offline and other
      // event sources send `"body": null` for every request without one.
      if (!enabled || event.body === undefined || event.body === null || event.body === "") {
        return;
      }
      const text = event.isBase64Encoded ? decodeUtf8(event.body) : event.body;
      // Stryker disable next-line StringLiteral: "" is Buffer.byteLength's default, UTF-8, too
      if (Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES) {
        throw new PayloadTooLargeError(`The body is larger than ${MAX_BODY_BYTES / 1024} KiB.`);
      }
      const contentType = header(event, "content-type") ?? "";
      // Stryker disable next-line StringLiteral: split always gives a first part; the default is for the type only
      const [mediaType = "", ...parameters] = contentType
        .split(";")
        .map((part) => part.trim().toLowerCase());
      const charset = parameters
        .find((part) => part.startsWith("charset="))
        ?.slice("charset=".length)
        .replaceAll('"', "");
      const isJson =
        mediaType === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
      if (!isJson || (charset !== undefined && charset !== "utf-8")) {
        throw new UnsupportedMediaTypeError(
          `The body must be JSON sent with "Content-Type: application/json" (got "${contentType}").`,
        );
      }
      try {
        event.jsonBody = JSON.parse(text);
      } catch (error) {
        throw new ValidationError([
          { path: "", message: `the body is not valid JSON (${(error as Error).message})` },
        ]);
      }
    },
  };
}

/**
 * The bytes of a base64 body as UTF-8 text. Invalid UTF-8 is refused: decoded
 * leniently, each bad byte would become U+FFFD and be stored as if sent.
 */
function decodeUtf8(base64: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(base64, "base64"));
  } catch {
    throw new ValidationError([{ path: "", message: "the body is not valid UTF-8" }]);
  }
}

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

function problemErrors(): Middleware {
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "problemErrors",
    onError: (request: HttpRequest) => {
      request.response = problemResponse(request.error, request.context.awsRequestId);
    },
  };
}

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
  if (shown?.errors !== undefined) body.errors = shown.errors;
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (known instanceof RetryLaterError) headers["retry-after"] = String(known.retryAfterSeconds);
  return { statusCode: status, headers, body: JSON.stringify(body) };
}

function accessLog(route: string, deps: HandlerDeps): Middleware {
  const write = (request: HttpRequest) => {
    // Stryker disable next-line OptionalChaining: accessLog's after and onError run last, when the handler or problemErrors has set the response
    const status = request.response?.statusCode ?? 500;
    const report = request.event.storageReport ?? emptyReport();
    const error = request.error;
    const line: Record<string, unknown> = {
      level: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
      time: new Date().toISOString(),
      requestId: request.context.awsRequestId,
      route,
      path: request.event.rawPath,
      status,
      outcome: status >= 500 ? "server_error" : status >= 400 ? "client_error" : "success",
      durationMs: round(monotonicMs() - request.internal.started),
      // Who asked, as the authorizer says: a delete leaves no record, only this line.
      caller: callerOf(request.event),
      ...storageFields(report),
    };
    if (error) {
      line.code = codeOf(error);
      line.error = describeError(error);
    }
    // Stryker disable next-line ArrayDeclaration: only the STORAGE_BUSY and STORAGE_OUTCOME_UNKNOWN codes are counted; any other, or none, counts nothing
    const codes = error ? [codeOf(error)] : [];
    deps.log({ ...line, ...metricFields({ report, codes, gauge: request.event.objectGauge }) });
  };
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "accessLog",
    before: (request: HttpRequest) => {
      request.internal.started = monotonicMs();
      request.event.storageReport = emptyReport();
    },
    after: write,
    onError: write,
  };
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

/** The `{id}` of the route; API Gateway always sets it, a hand-made event may not. */
export function pathId(event: HttpEvent): string {
  const id = event.pathParameters?.id;
  if (id === undefined || id === "") {
    throw new ValidationError([{ path: "id", message: "is required in the path" }]);
  }
  return id;
}

/**
 * What a write asks: `Idempotency-Key`, the version `If-Match` names, and who
 * asks (from the authorizer's context, never from a header).
 */
export function writeOptions(event: HttpEvent): VersionOptions {
  const options: VersionOptions = { actor: callerOf(event) };
  const idempotencyKey = header(event, "idempotency-key");
  // Stryker disable next-line ConditionalExpression: an idempotencyKey set to undefined is no key, as an absent one
  if (idempotencyKey !== undefined) options.idempotencyKey = idempotencyKey;
  const version = expectedVersion(event);
  // Stryker disable next-line ConditionalExpression: an expectedVersion set to undefined is no condition, as an absent one
  if (version !== undefined) options.expectedVersion = version;
  return options;
}

/**
 * The version an `If-Match` header names: `"3"` → 3, absent or `*` → no
 * condition. Anything else is refused rather than silently ignored.
 */
export function expectedVersion(event: HttpEvent): number | undefined {
  const value = header(event, "if-match")?.trim();
  if (value === undefined || value === "" || value === "*") return undefined;
  const match = /^"([1-9]\d{0,15})"$/.exec(value);
  if (match?.[1] === undefined) {
    throw new ValidationError([
      {
        path: "If-Match",
        message: 'must be the ETag of the record as returned, e.g. "3", or *',
      },
    ]);
  }
  return Number(match[1]);
}
