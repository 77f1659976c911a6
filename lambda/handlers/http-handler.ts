/**
 * Entry adapters: the one middy stack every HTTP handler shares, for API
 * Gateway HTTP API payload v2. Header names are lower-cased, JSON bodies
 * parsed within the size and content-type limits, errors answered as
 * problem+json (only errors meant for the caller show their detail), and one
 * structured JSON line logged per invocation.
 */
import middy, { type MiddlewareObj, type Request } from "@middy/core";
import type { Context } from "aws-lambda";
import {
  fieldError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from "../errors.ts";
import { monotonicMs } from "../storage/monotonic-clock.ts";
import {
  emptyReport,
  type StorageReport,
  type TransactionOptions,
} from "../storage/transaction-options.ts";
import { callerOf } from "./caller.ts";
import type { HandlerDeps, Service } from "./composition-root.ts";
import { type HttpEvent, header } from "./http-request.ts";
import { type HttpResult, problemResponse, requestLanguage } from "./http-response.ts";
import { jsonErrorPosition } from "./json-error.ts";
import { codeOf, invocationLine, levelOf, outcomeOf, round } from "./log-line.ts";
import { metricFields, type ObjectGauge } from "./metrics.ts";
import { transactionOptions } from "./storage-options.ts";

export const MAX_BODY_BYTES = 256 * 1024;

/** What a route's function gets besides the event. */
export interface HttpCall {
  service: Service;
  /** Passed to every service call: the invocation's deadline and its storage report. */
  storage: TransactionOptions;
}

/** What the middlewares share (middy's `request.internal`): the log line's measures. */
interface Internal extends Record<string, unknown> {
  started: number;
  /** What the storage cost, filled by the route's service calls. */
  report: StorageReport;
  /** The container's data-object gauge, for the metrics, once the dependencies are built. */
  gauge?: ObjectGauge | undefined;
}

/** The Lambda context as `routeCall` leaves it for the handler, as middy's middlewares do. */
interface HttpContext extends Context {
  call?: HttpCall;
}

type Middleware = MiddlewareObj<HttpEvent, HttpResult, Error, HttpContext, Internal>;
type HttpRequest = Request<HttpEvent, HttpResult, Error, HttpContext, Internal>;

export function httpHandler(
  route: string,
  deps: HandlerDeps,
  fn: (event: HttpEvent, call: HttpCall) => Promise<HttpResult>,
) {
  return middy<HttpEvent, HttpResult, Error, HttpContext, Internal>()
    .use(accessLog(route, deps))
    .use(problemErrors())
    .use(normaliseHeaders())
    .use(jsonBody(takesBody(route)))
    .use(routeCall(deps))
    .handler(async (event, { call }) => {
      // Stryker disable next-line ConditionalExpression,StringLiteral: routeCall, the last middleware before the handler, always sets it; the guard is for the type checker
      if (call === undefined) throw new Error("internal: the route's call was not set");
      return fn(event, call);
    });
}

/**
 * What the route's function needs, last before it runs: the container's
 * dependencies (built on first use, so that a configuration error is
 * answered like any other) and the storage options of this invocation.
 */
function routeCall(deps: HandlerDeps): Middleware {
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "routeCall",
    before: async (request: HttpRequest) => {
      const { service, gauge } = await deps.dependencies();
      request.internal.gauge = gauge;
      // API Gateway's own clock says when the request arrived (timeEpoch).
      const storage = transactionOptions(
        request.context,
        request.internal.report,
        // Stryker disable next-line OptionalChaining: without requestContext the invocation fails anyway: every log line reads the caller from it (callerOf)
        request.event.requestContext?.timeEpoch,
      );
      request.context.call = { service, storage };
    },
  };
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
        throw new PayloadTooLargeError({
          key: "payloadTooLarge",
          params: { kib: MAX_BODY_BYTES / 1024 },
        });
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
        throw new UnsupportedMediaTypeError({
          key: "unsupportedMediaType",
          params: { contentType },
        });
      }
      try {
        event.jsonBody = JSON.parse(text);
      } catch (error) {
        throw new ValidationError([
          fieldError("", {
            rule: "bodyNotJson",
            params: { position: jsonErrorPosition(error, text) },
          }),
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
    throw new ValidationError([fieldError("", { rule: "notUtf8", params: {} })]);
  }
}

function problemErrors(): Middleware {
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "problemErrors",
    onError: (request: HttpRequest) => {
      request.response = problemResponse(
        request.error,
        request.context.awsRequestId,
        requestLanguage(request.event.headers),
      );
    },
  };
}

function accessLog(route: string, deps: HandlerDeps): Middleware {
  const write = (request: HttpRequest) => {
    // Stryker disable next-line OptionalChaining: accessLog's after and onError run last, when the handler or problemErrors has set the response
    const status = request.response?.statusCode ?? 500;
    const { report, gauge } = request.internal;
    const error = request.error;
    // Stryker disable next-line ArrayDeclaration: only the STORAGE_BUSY and STORAGE_OUTCOME_UNKNOWN codes are counted; any other, or none, counts nothing
    const codes = error ? [codeOf(error)] : [];
    deps.log(
      invocationLine({
        level: levelOf(status),
        requestId: request.context.awsRequestId,
        route,
        fields: {
          path: request.event.rawPath,
          status,
          outcome: outcomeOf(status),
          durationMs: round(monotonicMs() - request.internal.started),
          // Who asked, as the authorizer says: a delete leaves no record, only this line.
          caller: callerOf(request.event),
        },
        report,
        error: error || undefined,
        closing: metricFields({ report, codes, gauge }),
      }),
    );
  };
  return {
    // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
    name: "accessLog",
    before: (request: HttpRequest) => {
      request.internal.started = monotonicMs();
      request.internal.report = emptyReport();
    },
    after: write,
    onError: write,
  };
}
