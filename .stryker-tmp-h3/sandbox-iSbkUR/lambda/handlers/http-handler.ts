/**
 * Entry adapters: the one middy stack every HTTP handler shares, for API
 * Gateway HTTP API payload v2. Header names are lower-cased, JSON bodies
 * parsed within the size and content-type limits, errors answered as
 * problem+json (only errors meant for the caller show their detail), and one
 * structured JSON line logged per invocation.
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import middy, { type MiddlewareObj, type Request } from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { AppError, PayloadTooLargeError, RetryLaterError, UnsupportedMediaTypeError, ValidationError } from "../errors.ts";
import type { VersionOptions } from "../rapatriements/service.ts";
import { emptyReport, type StorageReport, type TransactionOptions } from "../storage/database-object.ts";
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
export const MAX_BODY_BYTES = stryMutAct_9fa48("354") ? 256 / 1024 : (stryCov_9fa48("354"), 256 * 1024);

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
export function httpHandler(route: string, deps: HandlerDeps, fn: (event: HttpEvent, call: HttpCall) => Promise<HttpResult>) {
  if (stryMutAct_9fa48("355")) {
    {}
  } else {
    stryCov_9fa48("355");
    return middy<HttpEvent, HttpResult, Error, Context, Internal>().use(accessLog(route, deps)).use(problemErrors()).use(normaliseHeaders()).use(jsonBody(takesBody(route))).handler(async (event, context) => {
      if (stryMutAct_9fa48("356")) {
        {}
      } else {
        stryCov_9fa48("356");
        const {
          service,
          gauge
        } = await deps.dependencies();
        event.objectGauge = gauge;
        // API Gateway's own clock says when the request arrived (timeEpoch).
        const storage = transactionOptions(context, event.storageReport,
        // Stryker disable next-line OptionalChaining: without requestContext the invocation fails anyway: every log line reads the caller from it (callerOf)
        event.requestContext?.timeEpoch);
        return fn(event, stryMutAct_9fa48("358") ? {} : (stryCov_9fa48("358"), {
          service,
          storage
        }));
      }
    });
  }
}

/** A header of the normalised event. */
export function header(event: HttpEvent, name: string): string | undefined {
  if (stryMutAct_9fa48("359")) {
    {}
  } else {
    stryCov_9fa48("359");
    return event.headers[stryMutAct_9fa48("360") ? name.toUpperCase() : (stryCov_9fa48("360"), name.toLowerCase())];
  }
}
function normaliseHeaders(): Middleware {
  if (stryMutAct_9fa48("361")) {
    {}
  } else {
    stryCov_9fa48("361");
    return stryMutAct_9fa48("362") ? {} : (stryCov_9fa48("362"), {
      // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
      name: "normaliseHeaders",
      before: (request: HttpRequest) => {
        if (stryMutAct_9fa48("364")) {
          {}
        } else {
          stryCov_9fa48("364");
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(stryMutAct_9fa48("365") ? request.event.headers && {} : (stryCov_9fa48("365"), request.event.headers ?? {}))) {
            if (stryMutAct_9fa48("366")) {
              {}
            } else {
              stryCov_9fa48("366");
              headers[stryMutAct_9fa48("367") ? name.toUpperCase() : (stryCov_9fa48("367"), name.toLowerCase())] = value;
            }
          }
          request.event.headers = headers;
        }
      }
    });
  }
}

/** Only POST and PATCH take a body; on other routes one is ignored, whatever its type. */
function takesBody(route: string): boolean {
  if (stryMutAct_9fa48("368")) {
    {}
  } else {
    stryCov_9fa48("368");
    return stryMutAct_9fa48("371") ? route.startsWith("POST ") && route.startsWith("PATCH ") : stryMutAct_9fa48("370") ? false : stryMutAct_9fa48("369") ? true : (stryCov_9fa48("369", "370", "371"), (stryMutAct_9fa48("372") ? route.endsWith("POST ") : (stryCov_9fa48("372"), route.startsWith(stryMutAct_9fa48("373") ? "" : (stryCov_9fa48("373"), "POST ")))) || (stryMutAct_9fa48("374") ? route.endsWith("PATCH ") : (stryCov_9fa48("374"), route.startsWith(stryMutAct_9fa48("375") ? "" : (stryCov_9fa48("375"), "PATCH ")))));
  }
}
function jsonBody(enabled: boolean): Middleware {
  if (stryMutAct_9fa48("376")) {
    {}
  } else {
    stryCov_9fa48("376");
    return stryMutAct_9fa48("377") ? {} : (stryCov_9fa48("377"), {
      // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
      name: "jsonBody",
      before: (request: HttpRequest) => {
        if (stryMutAct_9fa48("379")) {
          {}
        } else {
          stryCov_9fa48("379");
          const {
            event
          } = request;
          // A missing, null or empty body is no body: serverless-offline and other
          // event sources send `"body": null` for every request without one.
          if (stryMutAct_9fa48("382") ? (!enabled || event.body === undefined || event.body === null) && event.body === "" : stryMutAct_9fa48("381") ? false : stryMutAct_9fa48("380") ? true : (stryCov_9fa48("380", "381", "382"), (stryMutAct_9fa48("384") ? (!enabled || event.body === undefined) && event.body === null : stryMutAct_9fa48("383") ? false : (stryCov_9fa48("383", "384"), (stryMutAct_9fa48("386") ? !enabled && event.body === undefined : stryMutAct_9fa48("385") ? false : (stryCov_9fa48("385", "386"), (stryMutAct_9fa48("387") ? enabled : (stryCov_9fa48("387"), !enabled)) || (stryMutAct_9fa48("389") ? event.body !== undefined : stryMutAct_9fa48("388") ? false : (stryCov_9fa48("388", "389"), event.body === undefined)))) || (stryMutAct_9fa48("391") ? event.body !== null : stryMutAct_9fa48("390") ? false : (stryCov_9fa48("390", "391"), event.body === null)))) || (stryMutAct_9fa48("393") ? event.body !== "" : stryMutAct_9fa48("392") ? false : (stryCov_9fa48("392", "393"), event.body === (stryMutAct_9fa48("394") ? "Stryker was here!" : (stryCov_9fa48("394"), "")))))) {
            if (stryMutAct_9fa48("395")) {
              {}
            } else {
              stryCov_9fa48("395");
              return;
            }
          }
          const text = event.isBase64Encoded ? decodeUtf8(event.body) : event.body;
          // Stryker disable next-line StringLiteral: "" is Buffer.byteLength's default, UTF-8, too
          if (stryMutAct_9fa48("399") ? Buffer.byteLength(text, "utf8") <= MAX_BODY_BYTES : stryMutAct_9fa48("398") ? Buffer.byteLength(text, "utf8") >= MAX_BODY_BYTES : stryMutAct_9fa48("397") ? false : stryMutAct_9fa48("396") ? true : (stryCov_9fa48("396", "397", "398", "399"), Buffer.byteLength(text, "utf8") > MAX_BODY_BYTES)) {
            if (stryMutAct_9fa48("401")) {
              {}
            } else {
              stryCov_9fa48("401");
              throw new PayloadTooLargeError(stryMutAct_9fa48("403") ? `` : (stryCov_9fa48("403"), `The body is larger than ${stryMutAct_9fa48("404") ? MAX_BODY_BYTES * 1024 : (stryCov_9fa48("404"), MAX_BODY_BYTES / 1024)} KiB.`));
            }
          }
          const contentType = stryMutAct_9fa48("405") ? header(event, "content-type") && "" : (stryCov_9fa48("405"), header(event, stryMutAct_9fa48("406") ? "" : (stryCov_9fa48("406"), "content-type")) ?? (stryMutAct_9fa48("407") ? "Stryker was here!" : (stryCov_9fa48("407"), "")));
          // Stryker disable next-line StringLiteral: split always gives a first part; the default is for the type only
          const [mediaType = "", ...parameters] = contentType.split(stryMutAct_9fa48("409") ? "" : (stryCov_9fa48("409"), ";")).map(stryMutAct_9fa48("410") ? () => undefined : (stryCov_9fa48("410"), part => stryMutAct_9fa48("412") ? part.toLowerCase() : stryMutAct_9fa48("411") ? part.trim().toUpperCase() : (stryCov_9fa48("411", "412"), part.trim().toLowerCase())));
          const charset = stryMutAct_9fa48("414") ? parameters.find(part => part.startsWith("charset=")).slice("charset=".length).replaceAll('"', "") : stryMutAct_9fa48("413") ? parameters.find(part => part.startsWith("charset=")).replaceAll('"', "") : (stryCov_9fa48("413", "414"), parameters.find(stryMutAct_9fa48("415") ? () => undefined : (stryCov_9fa48("415"), part => stryMutAct_9fa48("416") ? part.endsWith("charset=") : (stryCov_9fa48("416"), part.startsWith(stryMutAct_9fa48("417") ? "" : (stryCov_9fa48("417"), "charset=")))))?.slice((stryMutAct_9fa48("418") ? "" : (stryCov_9fa48("418"), "charset=")).length).replaceAll(stryMutAct_9fa48("419") ? "" : (stryCov_9fa48("419"), '"'), stryMutAct_9fa48("420") ? "Stryker was here!" : (stryCov_9fa48("420"), "")));
          const isJson = stryMutAct_9fa48("423") ? mediaType === "application/json" && /^application\/[a-z0-9.+-]+\+json$/.test(mediaType) : stryMutAct_9fa48("422") ? false : stryMutAct_9fa48("421") ? true : (stryCov_9fa48("421", "422", "423"), (stryMutAct_9fa48("425") ? mediaType !== "application/json" : stryMutAct_9fa48("424") ? false : (stryCov_9fa48("424", "425"), mediaType === (stryMutAct_9fa48("426") ? "" : (stryCov_9fa48("426"), "application/json")))) || (stryMutAct_9fa48("430") ? /^application\/[^a-z0-9.+-]+\+json$/ : stryMutAct_9fa48("429") ? /^application\/[a-z0-9.+-]\+json$/ : stryMutAct_9fa48("428") ? /^application\/[a-z0-9.+-]+\+json/ : stryMutAct_9fa48("427") ? /application\/[a-z0-9.+-]+\+json$/ : (stryCov_9fa48("427", "428", "429", "430"), /^application\/[a-z0-9.+-]+\+json$/)).test(mediaType));
          if (stryMutAct_9fa48("433") ? !isJson && charset !== undefined && charset !== "utf-8" : stryMutAct_9fa48("432") ? false : stryMutAct_9fa48("431") ? true : (stryCov_9fa48("431", "432", "433"), (stryMutAct_9fa48("434") ? isJson : (stryCov_9fa48("434"), !isJson)) || (stryMutAct_9fa48("436") ? charset !== undefined || charset !== "utf-8" : stryMutAct_9fa48("435") ? false : (stryCov_9fa48("435", "436"), (stryMutAct_9fa48("438") ? charset === undefined : stryMutAct_9fa48("437") ? true : (stryCov_9fa48("437", "438"), charset !== undefined)) && (stryMutAct_9fa48("440") ? charset === "utf-8" : stryMutAct_9fa48("439") ? true : (stryCov_9fa48("439", "440"), charset !== (stryMutAct_9fa48("441") ? "" : (stryCov_9fa48("441"), "utf-8")))))))) {
            if (stryMutAct_9fa48("442")) {
              {}
            } else {
              stryCov_9fa48("442");
              throw new UnsupportedMediaTypeError(stryMutAct_9fa48("444") ? `` : (stryCov_9fa48("444"), `The body must be JSON sent with "Content-Type: application/json" (got "${contentType}").`));
            }
          }
          try {
            if (stryMutAct_9fa48("445")) {
              {}
            } else {
              stryCov_9fa48("445");
              event.jsonBody = JSON.parse(text);
            }
          } catch (error) {
            if (stryMutAct_9fa48("446")) {
              {}
            } else {
              stryCov_9fa48("446");
              if (stryMutAct_9fa48("447")) {
                ;
              } else {
                stryCov_9fa48("447");
                throw new ValidationError(stryMutAct_9fa48("448") ? [] : (stryCov_9fa48("448"), [stryMutAct_9fa48("449") ? {} : (stryCov_9fa48("449"), {
                  path: stryMutAct_9fa48("450") ? "Stryker was here!" : (stryCov_9fa48("450"), ""),
                  message: stryMutAct_9fa48("451") ? `` : (stryCov_9fa48("451"), `the body is not valid JSON (${(error as Error).message})`)
                })]));
              }
            }
          }
        }
      }
    });
  }
}

/**
 * The bytes of a base64 body as UTF-8 text. Invalid UTF-8 is refused: decoded
 * leniently, each bad byte would become U+FFFD and be stored as if sent.
 */
function decodeUtf8(base64: string): string {
  if (stryMutAct_9fa48("452")) {
    {}
  } else {
    stryCov_9fa48("452");
    try {
      if (stryMutAct_9fa48("453")) {
        {}
      } else {
        stryCov_9fa48("453");
        return new TextDecoder(stryMutAct_9fa48("454") ? "" : (stryCov_9fa48("454"), "utf-8"), stryMutAct_9fa48("455") ? {} : (stryCov_9fa48("455"), {
          fatal: stryMutAct_9fa48("456") ? false : (stryCov_9fa48("456"), true)
        })).decode(Buffer.from(base64, stryMutAct_9fa48("457") ? "" : (stryCov_9fa48("457"), "base64")));
      }
    } catch {
      if (stryMutAct_9fa48("458")) {
        {}
      } else {
        stryCov_9fa48("458");
        throw new ValidationError(stryMutAct_9fa48("460") ? [] : (stryCov_9fa48("460"), [stryMutAct_9fa48("461") ? {} : (stryCov_9fa48("461"), {
          path: stryMutAct_9fa48("462") ? "Stryker was here!" : (stryCov_9fa48("462"), ""),
          message: stryMutAct_9fa48("463") ? "" : (stryCov_9fa48("463"), "the body is not valid UTF-8")
        })]));
      }
    }
  }
}
const TITLES: Readonly<Record<number, string>> = stryMutAct_9fa48("464") ? {} : (stryCov_9fa48("464"), {
  400: stryMutAct_9fa48("465") ? "" : (stryCov_9fa48("465"), "Invalid request"),
  404: stryMutAct_9fa48("466") ? "" : (stryCov_9fa48("466"), "Not found"),
  409: stryMutAct_9fa48("467") ? "" : (stryCov_9fa48("467"), "Conflict"),
  412: stryMutAct_9fa48("468") ? "" : (stryCov_9fa48("468"), "Precondition failed"),
  413: stryMutAct_9fa48("469") ? "" : (stryCov_9fa48("469"), "Payload too large"),
  415: stryMutAct_9fa48("470") ? "" : (stryCov_9fa48("470"), "Unsupported media type"),
  422: stryMutAct_9fa48("471") ? "" : (stryCov_9fa48("471"), "Unprocessable request"),
  500: stryMutAct_9fa48("472") ? "" : (stryCov_9fa48("472"), "Internal error"),
  503: stryMutAct_9fa48("473") ? "" : (stryCov_9fa48("473"), "Service busy")
});
function problemErrors(): Middleware {
  if (stryMutAct_9fa48("474")) {
    {}
  } else {
    stryCov_9fa48("474");
    return stryMutAct_9fa48("475") ? {} : (stryCov_9fa48("475"), {
      // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
      name: "problemErrors",
      onError: (request: HttpRequest) => {
        if (stryMutAct_9fa48("477")) {
          {}
        } else {
          stryCov_9fa48("477");
          request.response = problemResponse(request.error, request.context.awsRequestId);
        }
      }
    });
  }
}

/** The problem+json answer for an error; only errors meant for the caller show their detail. */
export function problemResponse(error: unknown, requestId: string): HttpResult {
  if (stryMutAct_9fa48("478")) {
    {}
  } else {
    stryCov_9fa48("478");
    const known = error instanceof AppError ? error : undefined;
    const shown = (stryMutAct_9fa48("481") ? known?.expose !== true : stryMutAct_9fa48("480") ? false : stryMutAct_9fa48("479") ? true : (stryCov_9fa48("479", "480", "481"), (stryMutAct_9fa48("482") ? known.expose : (stryCov_9fa48("482"), known?.expose)) === (stryMutAct_9fa48("483") ? false : (stryCov_9fa48("483"), true)))) ? known : undefined;
    const status = stryMutAct_9fa48("484") ? shown?.status && 500 : (stryCov_9fa48("484"), (stryMutAct_9fa48("485") ? shown.status : (stryCov_9fa48("485"), shown?.status)) ?? 500);
    const code = codeOf(error);
    const body: Record<string, unknown> = stryMutAct_9fa48("486") ? {} : (stryCov_9fa48("486"), {
      type: stryMutAct_9fa48("487") ? `` : (stryCov_9fa48("487"), `urn:rapatriements:problem:${stryMutAct_9fa48("488") ? code.toUpperCase().replaceAll("_", "-") : (stryCov_9fa48("488"), code.toLowerCase().replaceAll(stryMutAct_9fa48("489") ? "" : (stryCov_9fa48("489"), "_"), stryMutAct_9fa48("490") ? "" : (stryCov_9fa48("490"), "-")))}`),
      // Stryker disable next-line StringLiteral: every status an error of ours has is in TITLES; the fallback is for the type only
      title: stryMutAct_9fa48("491") ? TITLES[status] && "Error" : (stryCov_9fa48("491"), TITLES[status] ?? "Error"),
      status,
      detail: stryMutAct_9fa48("493") ? shown?.message && `An internal error occurred (${code}); quote request id ${requestId} to the operators.` : (stryCov_9fa48("493"), (stryMutAct_9fa48("494") ? shown.message : (stryCov_9fa48("494"), shown?.message)) ?? (stryMutAct_9fa48("495") ? `` : (stryCov_9fa48("495"), `An internal error occurred (${code}); quote request id ${requestId} to the operators.`))),
      code,
      requestId
    });
    if (stryMutAct_9fa48("498") ? shown?.errors === undefined : stryMutAct_9fa48("497") ? false : stryMutAct_9fa48("496") ? true : (stryCov_9fa48("496", "497", "498"), (stryMutAct_9fa48("499") ? shown.errors : (stryCov_9fa48("499"), shown?.errors)) !== undefined)) body.errors = shown.errors;
    const headers: Record<string, string> = stryMutAct_9fa48("500") ? {} : (stryCov_9fa48("500"), {
      "content-type": stryMutAct_9fa48("501") ? "" : (stryCov_9fa48("501"), "application/problem+json")
    });
    if (stryMutAct_9fa48("503") ? false : stryMutAct_9fa48("502") ? true : (stryCov_9fa48("502", "503"), known instanceof RetryLaterError)) headers[stryMutAct_9fa48("504") ? "" : (stryCov_9fa48("504"), "retry-after")] = String(known.retryAfterSeconds);
    return stryMutAct_9fa48("505") ? {} : (stryCov_9fa48("505"), {
      statusCode: status,
      headers,
      body: JSON.stringify(body)
    });
  }
}
function accessLog(route: string, deps: HandlerDeps): Middleware {
  if (stryMutAct_9fa48("506")) {
    {}
  } else {
    stryCov_9fa48("506");
    const write = (request: HttpRequest) => {
      if (stryMutAct_9fa48("507")) {
        {}
      } else {
        stryCov_9fa48("507");
        // Stryker disable next-line OptionalChaining: accessLog's after and onError run last, when the handler or problemErrors has set the response
        const status = stryMutAct_9fa48("508") ? request.response?.statusCode && 500 : (stryCov_9fa48("508"), request.response?.statusCode ?? 500);
        const report = stryMutAct_9fa48("510") ? request.event.storageReport && emptyReport() : (stryCov_9fa48("510"), request.event.storageReport ?? emptyReport());
        const error = request.error;
        const line: Record<string, unknown> = stryMutAct_9fa48("511") ? {} : (stryCov_9fa48("511"), {
          level: (stryMutAct_9fa48("515") ? status < 500 : stryMutAct_9fa48("514") ? status > 500 : stryMutAct_9fa48("513") ? false : stryMutAct_9fa48("512") ? true : (stryCov_9fa48("512", "513", "514", "515"), status >= 500)) ? stryMutAct_9fa48("516") ? "" : (stryCov_9fa48("516"), "error") : (stryMutAct_9fa48("520") ? status < 400 : stryMutAct_9fa48("519") ? status > 400 : stryMutAct_9fa48("518") ? false : stryMutAct_9fa48("517") ? true : (stryCov_9fa48("517", "518", "519", "520"), status >= 400)) ? stryMutAct_9fa48("521") ? "" : (stryCov_9fa48("521"), "warn") : stryMutAct_9fa48("522") ? "" : (stryCov_9fa48("522"), "info"),
          time: new Date().toISOString(),
          requestId: request.context.awsRequestId,
          route,
          path: request.event.rawPath,
          status,
          outcome: (stryMutAct_9fa48("526") ? status < 500 : stryMutAct_9fa48("525") ? status > 500 : stryMutAct_9fa48("524") ? false : stryMutAct_9fa48("523") ? true : (stryCov_9fa48("523", "524", "525", "526"), status >= 500)) ? stryMutAct_9fa48("527") ? "" : (stryCov_9fa48("527"), "server_error") : (stryMutAct_9fa48("531") ? status < 400 : stryMutAct_9fa48("530") ? status > 400 : stryMutAct_9fa48("529") ? false : stryMutAct_9fa48("528") ? true : (stryCov_9fa48("528", "529", "530", "531"), status >= 400)) ? stryMutAct_9fa48("532") ? "" : (stryCov_9fa48("532"), "client_error") : stryMutAct_9fa48("533") ? "" : (stryCov_9fa48("533"), "success"),
          durationMs: round(stryMutAct_9fa48("534") ? performance.now() + request.internal.started : (stryCov_9fa48("534"), performance.now() - request.internal.started)),
          // Who asked, as the authorizer says: a delete leaves no record, only this line.
          caller: callerOf(request.event),
          ...storageFields(report)
        });
        if (stryMutAct_9fa48("536") ? false : stryMutAct_9fa48("535") ? true : (stryCov_9fa48("535", "536"), error)) {
          if (stryMutAct_9fa48("537")) {
            {}
          } else {
            stryCov_9fa48("537");
            line.code = codeOf(error);
            line.error = describeError(error);
          }
        }
        // Stryker disable next-line ArrayDeclaration: only the STORAGE_BUSY and STORAGE_OUTCOME_UNKNOWN codes are counted; any other, or none, counts nothing
        const codes = error ? [codeOf(error)] : [];
        deps.log(stryMutAct_9fa48("541") ? {} : (stryCov_9fa48("541"), {
          ...line,
          ...metricFields(stryMutAct_9fa48("542") ? {} : (stryCov_9fa48("542"), {
            report,
            codes,
            gauge: request.event.objectGauge
          }))
        }));
      }
    };
    return stryMutAct_9fa48("543") ? {} : (stryCov_9fa48("543"), {
      // Stryker disable next-line StringLiteral: middy reads a middleware's name only in its own instrumentation hooks, which nothing here sets
      name: "accessLog",
      before: (request: HttpRequest) => {
        if (stryMutAct_9fa48("545")) {
          {}
        } else {
          stryCov_9fa48("545");
          request.internal.started = performance.now();
          request.event.storageReport = emptyReport();
        }
      },
      after: write,
      onError: write
    });
  }
}

/** A JSON answer. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  if (stryMutAct_9fa48("546")) {
    {}
  } else {
    stryCov_9fa48("546");
    return stryMutAct_9fa48("547") ? {} : (stryCov_9fa48("547"), {
      statusCode,
      headers: stryMutAct_9fa48("548") ? {} : (stryCov_9fa48("548"), {
        "content-type": stryMutAct_9fa48("549") ? "" : (stryCov_9fa48("549"), "application/json"),
        ...headers
      }),
      body: JSON.stringify(body)
    });
  }
}

/** The ETag of a record: its version in quotes, e.g. `"3"`. */
export function etagOf(record: {
  version: number;
}): string {
  if (stryMutAct_9fa48("550")) {
    {}
  } else {
    stryCov_9fa48("550");
    return stryMutAct_9fa48("551") ? `` : (stryCov_9fa48("551"), `"${record.version}"`);
  }
}

/** The `{id}` of the route; API Gateway always sets it, a hand-made event may not. */
export function pathId(event: HttpEvent): string {
  if (stryMutAct_9fa48("552")) {
    {}
  } else {
    stryCov_9fa48("552");
    const id = stryMutAct_9fa48("553") ? event.pathParameters.id : (stryCov_9fa48("553"), event.pathParameters?.id);
    if (stryMutAct_9fa48("556") ? id === undefined && id === "" : stryMutAct_9fa48("555") ? false : stryMutAct_9fa48("554") ? true : (stryCov_9fa48("554", "555", "556"), (stryMutAct_9fa48("558") ? id !== undefined : stryMutAct_9fa48("557") ? false : (stryCov_9fa48("557", "558"), id === undefined)) || (stryMutAct_9fa48("560") ? id !== "" : stryMutAct_9fa48("559") ? false : (stryCov_9fa48("559", "560"), id === (stryMutAct_9fa48("561") ? "Stryker was here!" : (stryCov_9fa48("561"), "")))))) {
      if (stryMutAct_9fa48("562")) {
        {}
      } else {
        stryCov_9fa48("562");
        throw new ValidationError(stryMutAct_9fa48("564") ? [] : (stryCov_9fa48("564"), [stryMutAct_9fa48("565") ? {} : (stryCov_9fa48("565"), {
          path: stryMutAct_9fa48("566") ? "" : (stryCov_9fa48("566"), "id"),
          message: stryMutAct_9fa48("567") ? "" : (stryCov_9fa48("567"), "is required in the path")
        })]));
      }
    }
    return id;
  }
}

/**
 * What a write asks: `Idempotency-Key`, the version `If-Match` names, and who
 * asks (from the authorizer's context, never from a header).
 */
export function writeOptions(event: HttpEvent): VersionOptions {
  if (stryMutAct_9fa48("568")) {
    {}
  } else {
    stryCov_9fa48("568");
    const options: VersionOptions = stryMutAct_9fa48("569") ? {} : (stryCov_9fa48("569"), {
      actor: callerOf(event)
    });
    const idempotencyKey = header(event, stryMutAct_9fa48("570") ? "" : (stryCov_9fa48("570"), "idempotency-key"));
    // Stryker disable next-line ConditionalExpression: an idempotencyKey set to undefined is no key, as an absent one
    if (stryMutAct_9fa48("573") ? idempotencyKey === undefined : (stryCov_9fa48("573"), idempotencyKey !== undefined)) options.idempotencyKey = idempotencyKey;
    const version = expectedVersion(event);
    // Stryker disable next-line ConditionalExpression: an expectedVersion set to undefined is no condition, as an absent one
    if (stryMutAct_9fa48("576") ? version === undefined : (stryCov_9fa48("576"), version !== undefined)) options.expectedVersion = version;
    return options;
  }
}

/**
 * The version an `If-Match` header names: `"3"` → 3, absent or `*` → no
 * condition. Anything else is refused rather than silently ignored.
 */
export function expectedVersion(event: HttpEvent): number | undefined {
  if (stryMutAct_9fa48("577")) {
    {}
  } else {
    stryCov_9fa48("577");
    const value = stryMutAct_9fa48("579") ? header(event, "if-match").trim() : stryMutAct_9fa48("578") ? header(event, "if-match") : (stryCov_9fa48("578", "579"), header(event, stryMutAct_9fa48("580") ? "" : (stryCov_9fa48("580"), "if-match"))?.trim());
    if (stryMutAct_9fa48("583") ? (value === undefined || value === "") && value === "*" : stryMutAct_9fa48("582") ? false : stryMutAct_9fa48("581") ? true : (stryCov_9fa48("581", "582", "583"), (stryMutAct_9fa48("585") ? value === undefined && value === "" : stryMutAct_9fa48("584") ? false : (stryCov_9fa48("584", "585"), (stryMutAct_9fa48("587") ? value !== undefined : stryMutAct_9fa48("586") ? false : (stryCov_9fa48("586", "587"), value === undefined)) || (stryMutAct_9fa48("589") ? value !== "" : stryMutAct_9fa48("588") ? false : (stryCov_9fa48("588", "589"), value === (stryMutAct_9fa48("590") ? "Stryker was here!" : (stryCov_9fa48("590"), "")))))) || (stryMutAct_9fa48("592") ? value !== "*" : stryMutAct_9fa48("591") ? false : (stryCov_9fa48("591", "592"), value === (stryMutAct_9fa48("593") ? "" : (stryCov_9fa48("593"), "*")))))) return undefined;
    const match = (stryMutAct_9fa48("598") ? /^"([1-9]\D{0,15})"$/ : stryMutAct_9fa48("597") ? /^"([1-9]\d)"$/ : stryMutAct_9fa48("596") ? /^"([^1-9]\d{0,15})"$/ : stryMutAct_9fa48("595") ? /^"([1-9]\d{0,15})"/ : stryMutAct_9fa48("594") ? /"([1-9]\d{0,15})"$/ : (stryCov_9fa48("594", "595", "596", "597", "598"), /^"([1-9]\d{0,15})"$/)).exec(value);
    if (stryMutAct_9fa48("601") ? match?.[1] !== undefined : stryMutAct_9fa48("600") ? false : stryMutAct_9fa48("599") ? true : (stryCov_9fa48("599", "600", "601"), (stryMutAct_9fa48("602") ? match[1] : (stryCov_9fa48("602"), match?.[1])) === undefined)) {
      if (stryMutAct_9fa48("603")) {
        {}
      } else {
        stryCov_9fa48("603");
        throw new ValidationError(stryMutAct_9fa48("605") ? [] : (stryCov_9fa48("605"), [stryMutAct_9fa48("606") ? {} : (stryCov_9fa48("606"), {
          path: stryMutAct_9fa48("607") ? "" : (stryCov_9fa48("607"), "If-Match"),
          message: stryMutAct_9fa48("608") ? "" : (stryCov_9fa48("608"), 'must be the ETag of the record as returned, e.g. "3", or *')
        })]));
      }
    }
    return Number(match[1]);
  }
}