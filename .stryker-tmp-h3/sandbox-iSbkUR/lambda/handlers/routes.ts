/**
 * Entry adapters: how callers reach the handlers — the HTTP routes and the
 * module serving each, and the EventBridge source of commands. The CDK stack,
 * the local API server and the handlers all read this file, so what is
 * deployed and what runs locally cannot drift apart.
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
export interface HttpRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** API Gateway's path pattern, e.g. `/rapatriements/{id}`. */
  path: string;
  /** The module in lambda/handlers/ that serves this route (the router calls it). */
  module: string;
  /**
   * What a caller needs: `read` routes change nothing; `write` routes change
   * the data. The stack turns this into each route's JWT scopes and into the
   * two caller policies, so a new route cannot be forgotten in either.
   */
  access: Access;
}
export type Access = "read" | "write";

/** The OAuth scope a JWT must carry for each kind of route (the stack's context may rename them). */
export type Scopes = Readonly<Record<Access, string>>;
export const DEFAULT_SCOPES: Scopes = stryMutAct_9fa48("739") ? {} : (stryCov_9fa48("739"), {
  read: stryMutAct_9fa48("740") ? "" : (stryCov_9fa48("740"), "rapatriements:read"),
  write: stryMutAct_9fa48("741") ? "" : (stryCov_9fa48("741"), "rapatriements:write")
});
export const HTTP_ROUTES: readonly HttpRoute[] = stryMutAct_9fa48("742") ? [] : (stryCov_9fa48("742"), [stryMutAct_9fa48("743") ? {} : (stryCov_9fa48("743"), {
  method: stryMutAct_9fa48("744") ? "" : (stryCov_9fa48("744"), "POST"),
  path: stryMutAct_9fa48("745") ? "" : (stryCov_9fa48("745"), "/rapatriements"),
  module: stryMutAct_9fa48("746") ? "" : (stryCov_9fa48("746"), "create-rapatriement"),
  access: stryMutAct_9fa48("747") ? "" : (stryCov_9fa48("747"), "write")
}), stryMutAct_9fa48("748") ? {} : (stryCov_9fa48("748"), {
  method: stryMutAct_9fa48("749") ? "" : (stryCov_9fa48("749"), "GET"),
  path: stryMutAct_9fa48("750") ? "" : (stryCov_9fa48("750"), "/rapatriements"),
  module: stryMutAct_9fa48("751") ? "" : (stryCov_9fa48("751"), "list-rapatriements"),
  access: stryMutAct_9fa48("752") ? "" : (stryCov_9fa48("752"), "read")
}), stryMutAct_9fa48("753") ? {} : (stryCov_9fa48("753"), {
  method: stryMutAct_9fa48("754") ? "" : (stryCov_9fa48("754"), "GET"),
  path: stryMutAct_9fa48("755") ? "" : (stryCov_9fa48("755"), "/rapatriements/{id}"),
  module: stryMutAct_9fa48("756") ? "" : (stryCov_9fa48("756"), "get-rapatriement"),
  access: stryMutAct_9fa48("757") ? "" : (stryCov_9fa48("757"), "read")
}), stryMutAct_9fa48("758") ? {} : (stryCov_9fa48("758"), {
  method: stryMutAct_9fa48("759") ? "" : (stryCov_9fa48("759"), "PATCH"),
  path: stryMutAct_9fa48("760") ? "" : (stryCov_9fa48("760"), "/rapatriements/{id}"),
  module: stryMutAct_9fa48("761") ? "" : (stryCov_9fa48("761"), "update-rapatriement"),
  access: stryMutAct_9fa48("762") ? "" : (stryCov_9fa48("762"), "write")
}), stryMutAct_9fa48("763") ? {} : (stryCov_9fa48("763"), {
  method: stryMutAct_9fa48("764") ? "" : (stryCov_9fa48("764"), "DELETE"),
  path: stryMutAct_9fa48("765") ? "" : (stryCov_9fa48("765"), "/rapatriements/{id}"),
  module: stryMutAct_9fa48("766") ? "" : (stryCov_9fa48("766"), "delete-rapatriement"),
  access: stryMutAct_9fa48("767") ? "" : (stryCov_9fa48("767"), "write")
})]);

/**
 * The module of the one function that serves every HTTP route: it dispatches
 * on API Gateway's `routeKey` to the route's own module above.
 */
export const HTTP_FUNCTION_MODULE = stryMutAct_9fa48("768") ? "" : (stryCov_9fa48("768"), "http-router");
export function routeKey(route: Pick<HttpRoute, "method" | "path">): string {
  if (stryMutAct_9fa48("769")) {
    {}
  } else {
    stryCov_9fa48("769");
    return stryMutAct_9fa48("770") ? `` : (stryCov_9fa48("770"), `${route.method} ${route.path}`);
  }
}

/** The module that applies commands from SQS, EventBridge or a direct invocation. */
export const COMMANDS_MODULE = stryMutAct_9fa48("771") ? "" : (stryCov_9fa48("771"), "apply-commands");

/** The EventBridge `source` and `detail-type` of a command, as the rule matches them. */
export const COMMAND_SOURCE = stryMutAct_9fa48("772") ? "" : (stryCov_9fa48("772"), "interflow.rapatriements");
export const COMMAND_DETAIL_TYPE = stryMutAct_9fa48("773") ? "" : (stryCov_9fa48("773"), "RapatriementCommand");