/**
 * Entry adapter: the one Lambda function behind every HTTP route. API Gateway
 * names the route it matched in the event's `routeKey`; the router hands the
 * event, unchanged, to that route's own handler module. One function keeps
 * one pool of warm containers and one cached copy of the data object for the
 * whole API, where five functions would each keep their own (README,
 * "Which containers are cold").
 */
// First: in Lambda it starts the object's GET before the modules below evaluate.
import "./container-start.ts";
import type { Context } from "aws-lambda";
import { RouteNotFoundError } from "../errors.ts";
import { createRapatriementHandler } from "./create-rapatriement.ts";
import { deleteRapatriementHandler } from "./delete-rapatriement.ts";
import { containerDefaults, type HandlerDeps } from "./dependencies.ts";
import { getRapatriementHandler } from "./get-rapatriement.ts";
import type { HttpEvent, HttpResult } from "./http-handler.ts";
import { problemResponse } from "./http-handler.ts";
import { listRapatriementsHandler } from "./list-rapatriements.ts";
import { codeOf, describeError } from "./log-line.ts";
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
    const error = new RouteNotFoundError(
      `No route ${JSON.stringify(event.routeKey ?? null)} in this API; the routes are: ${[...byKey.keys()].join(", ")}.`,
    );
    // The API and this function disagree on the routes: the operators must hear of it.
    log({
      level: "error",
      time: new Date().toISOString(),
      requestId: context.awsRequestId,
      route: event.routeKey ?? null,
      path: event.rawPath ?? null,
      status: error.status,
      outcome: "client_error",
      code: codeOf(error),
      error: describeError(error),
    });
    return problemResponse(error, context.awsRequestId);
  };
}

/** The router over every route module, all sharing `deps` (one cache per container). */
export function httpRouterHandler(deps: HandlerDeps): RouteHandler {
  const handlers = new Map(
    Object.entries(ROUTE_MODULES).map(([module, factory]) => [module, factory(deps)] as const),
  );
  return httpRouter(handlers, deps.log);
}

export const handler = httpRouterHandler(containerDefaults());
