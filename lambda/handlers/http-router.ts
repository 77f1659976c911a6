/**
 * Entry adapter: the one Lambda function behind every HTTP route. API Gateway
 * names the route it matched in the event's `routeKey`; the router hands the
 * event, unchanged, to that route's own handler module. One function keeps
 * one pool of warm containers and one cached copy of the data object for the
 * whole API, where five functions would each keep their own
 * (docs/architecture.md, "Why one HTTP function").
 */
// First: in Lambda it starts the object's GET before the modules below evaluate.
import "./container-start.ts";
import type { Context } from "aws-lambda";
import { httpApiId } from "../config.ts";
import {
  ApiIdMismatchError,
  type AppError,
  MissingVariableError,
  RouteNotFoundError,
} from "../errors.ts";
import { callerOf } from "./caller.ts";
import { containerDefaults, type HandlerDeps } from "./composition-root.ts";
import { createRapatriementHandler } from "./create-rapatriement.ts";
import { deleteRapatriementHandler } from "./delete-rapatriement.ts";
import { getRapatriementHandler } from "./get-rapatriement.ts";
import type { HttpEvent } from "./http-request.ts";
import { type HttpResult, problemResponse, requestLanguage } from "./http-response.ts";
import { listRapatriementsHandler } from "./list-rapatriements.ts";
import { invocationLine, outcomeOf } from "./log-line.ts";
import { HTTP_ROUTES, type HttpRoute, routeKey } from "./routes.ts";
import { updateRapatriementHandler } from "./update-rapatriement.ts";

export type RouteHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** Each route module's handler factory, by the module name routes.ts gives it. */
export const ROUTE_MODULES: Readonly<Record<string, (deps: HandlerDeps) => RouteHandler>> = {
  "create-rapatriement": createRapatriementHandler,
  "list-rapatriements": listRapatriementsHandler,
  "get-rapatriement": getRapatriementHandler,
  "update-rapatriement": updateRapatriementHandler,
  "delete-rapatriement": deleteRapatriementHandler,
};

/**
 * A handler that dispatches on `routeKey` to `handlers` (by module name). A
 * route without a module is a build error, not a 404 found in production.
 */
export function httpRouter(
  handlers: ReadonlyMap<string, RouteHandler>,
  log: HandlerDeps["log"],
  routes: readonly HttpRoute[] = HTTP_ROUTES,
): RouteHandler {
  const byKey = new Map<string, RouteHandler>();
  for (const route of routes) {
    const handler = handlers.get(route.module);
    if (handler === undefined)
      throw new Error(`no handler module ${route.module} for ${routeKey(route)}`);
    byKey.set(routeKey(route), handler);
  }
  return async (event, context) => {
    const handler = byKey.get(event.routeKey);
    if (handler !== undefined) return handler(event, context);
    const error = new RouteNotFoundError({
      key: "routeNotFound",
      params: { route: event.routeKey ?? null, routes: [...byKey.keys()] },
    });
    // The API and this function disagree on the routes: the operators must hear of it.
    return refused(error, event, context, log);
  };
}

/**
 * Lets through only the events of the HTTP API `apiId` names (the stack's
 * HTTP_API_ID): anyone allowed `lambda:InvokeFunction` on the function could
 * otherwise hand it any authorizer context and write as anyone. An event
 * naming another API, or none, is refused (403 API_ID_MISMATCH) before any
 * route runs or the data is read. This stops a mistaken direct call, not a
 * deliberate one — an API's id is no secret, it is in its URL — which only
 * IAM can deny (docs/deploy.md, "Security"). Without `apiId` every event is refused
 * as a configuration error: a function that cannot tell its API must not guess.
 */
export function deployedApiOnly(
  apiId: string | undefined,
  log: HandlerDeps["log"],
  next: RouteHandler,
): RouteHandler {
  return async (event, context) => {
    // A direct invocation's payload may be anything: null, a list, an
    // object whose requestContext is missing or null.
    const given = isObject(event) ? event : ({} as HttpEvent);
    const requestContext: unknown = given.requestContext;
    const named = isObject(requestContext) ? requestContext.apiId : undefined;
    if (apiId !== undefined && named === apiId) return next(event, context);
    if (apiId === undefined) {
      return refused(new MissingVariableError("HTTP_API_ID"), given, context, log);
    }
    const error = new ApiIdMismatchError({
      key: "apiIdMismatch",
      params: { apiId: typeof named === "string" ? named : null },
    });
    // Only a direct invocation can cause this: the operators must hear of it,
    // with what the event claimed (Lambda does not say who invoked; CloudTrail does).
    return refused(error, given, context, log, {
      apiId: typeof named === "string" ? named : null,
      claimedCaller: isObject(requestContext) ? callerOf(given) : null,
    });
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The problem+json answer to an event no route module may see, and its one error log line. */
function refused(
  error: AppError,
  event: HttpEvent,
  context: Context,
  log: HandlerDeps["log"],
  details: Record<string, unknown> = {},
): HttpResult {
  log(
    invocationLine({
      level: "error",
      requestId: context.awsRequestId,
      route: event.routeKey ?? null,
      fields: {
        path: event.rawPath ?? null,
        status: error.status,
        outcome: outcomeOf(error.status),
      },
      error,
      closing: details,
    }),
  );
  return problemResponse(error, context.awsRequestId, requestLanguage(event.headers));
}

/**
 * The router over every route module, all sharing `deps` (one cache per
 * container), for the events of the HTTP API `apiId` only.
 */
export function httpRouterHandler(deps: HandlerDeps, apiId: string | undefined): RouteHandler {
  const handlers = new Map(
    Object.entries(ROUTE_MODULES).map(([module, factory]) => [module, factory(deps)] as const),
  );
  return deployedApiOnly(apiId, deps.log, httpRouter(handlers, deps.log));
}

export const handler = httpRouterHandler(containerDefaults(), httpApiId());
