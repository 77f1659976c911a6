/**
 * Entry adapter: the one Lambda function behind every HTTP route. API Gateway
 * names the route it matched in the event's `routeKey`; the router hands the
 * event, unchanged, to that route's own handler module. One function keeps
 * one pool of warm containers and one cached copy of the data object for the
 * whole API, where five functions would each keep their own (README,
 * "Which containers are cold").
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
export const ROUTE_MODULES: Readonly<Record<string, (deps: HandlerDeps) => RouteHandler>> = stryMutAct_9fa48("609") ? {} : (stryCov_9fa48("609"), {
  "create-rapatriement": createRapatriementHandler,
  "list-rapatriements": listRapatriementsHandler,
  "get-rapatriement": getRapatriementHandler,
  "update-rapatriement": updateRapatriementHandler,
  "delete-rapatriement": deleteRapatriementHandler
});

/**
 * A handler that dispatches on `routeKey` to `handlers` (by module name). A
 * route without a module is a build error, not a 404 found in production.
 */
export function httpRouter(handlers: ReadonlyMap<string, RouteHandler>, log: HandlerDeps["log"], routes: readonly HttpRoute[] = HTTP_ROUTES): RouteHandler {
  if (stryMutAct_9fa48("610")) {
    {}
  } else {
    stryCov_9fa48("610");
    const byKey = new Map<string, RouteHandler>();
    for (const route of routes) {
      if (stryMutAct_9fa48("611")) {
        {}
      } else {
        stryCov_9fa48("611");
        const handler = handlers.get(route.module);
        if (stryMutAct_9fa48("614") ? handler !== undefined : stryMutAct_9fa48("613") ? false : stryMutAct_9fa48("612") ? true : (stryCov_9fa48("612", "613", "614"), handler === undefined)) throw new Error(stryMutAct_9fa48("616") ? `` : (stryCov_9fa48("616"), `no handler module ${route.module} for ${routeKey(route)}`));
        if (stryMutAct_9fa48("617")) {
          ;
        } else {
          stryCov_9fa48("617");
          byKey.set(routeKey(route), handler);
        }
      }
    }
    return async (event, context) => {
      if (stryMutAct_9fa48("618")) {
        {}
      } else {
        stryCov_9fa48("618");
        const handler = byKey.get(event.routeKey);
        if (stryMutAct_9fa48("621") ? handler === undefined : stryMutAct_9fa48("620") ? false : stryMutAct_9fa48("619") ? true : (stryCov_9fa48("619", "620", "621"), handler !== undefined)) return handler(event, context);
        const error = new RouteNotFoundError(stryMutAct_9fa48("622") ? `` : (stryCov_9fa48("622"), `No route ${JSON.stringify(stryMutAct_9fa48("623") ? event.routeKey && null : (stryCov_9fa48("623"), event.routeKey ?? null))} in this API; the routes are: ${(stryMutAct_9fa48("624") ? [] : (stryCov_9fa48("624"), [...byKey.keys()])).join(stryMutAct_9fa48("625") ? "" : (stryCov_9fa48("625"), ", "))}.`));
        // The API and this function disagree on the routes: the operators must hear of it.
        log(stryMutAct_9fa48("627") ? {} : (stryCov_9fa48("627"), {
          level: stryMutAct_9fa48("628") ? "" : (stryCov_9fa48("628"), "error"),
          time: new Date().toISOString(),
          requestId: context.awsRequestId,
          route: stryMutAct_9fa48("629") ? event.routeKey && null : (stryCov_9fa48("629"), event.routeKey ?? null),
          path: stryMutAct_9fa48("630") ? event.rawPath && null : (stryCov_9fa48("630"), event.rawPath ?? null),
          status: error.status,
          outcome: stryMutAct_9fa48("631") ? "" : (stryCov_9fa48("631"), "client_error"),
          code: codeOf(error),
          error: describeError(error)
        }));
        return problemResponse(error, context.awsRequestId);
      }
    };
  }
}

/** The router over every route module, all sharing `deps` (one cache per container). */
export function httpRouterHandler(deps: HandlerDeps): RouteHandler {
  if (stryMutAct_9fa48("632")) {
    {}
  } else {
    stryCov_9fa48("632");
    const handlers = new Map(Object.entries(ROUTE_MODULES).map(stryMutAct_9fa48("633") ? () => undefined : (stryCov_9fa48("633"), ([module, factory]) => [module, factory(deps)] as const)));
    return httpRouter(handlers, deps.log);
  }
}
export const handler = httpRouterHandler(containerDefaults());