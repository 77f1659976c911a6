/**
 * Entry adapters: how callers reach the handlers — the HTTP routes and the
 * module serving each, and the EventBridge source of commands. The CDK stack,
 * the local API server and the handlers all read this file, so what is
 * deployed and what runs locally cannot drift apart.
 */
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
export const DEFAULT_SCOPES: Scopes = {
  read: "rapatriements:read",
  write: "rapatriements:write",
};

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: "POST", path: "/rapatriements", module: "create-rapatriement", access: "write" },
  { method: "GET", path: "/rapatriements", module: "list-rapatriements", access: "read" },
  { method: "GET", path: "/rapatriements/{id}", module: "get-rapatriement", access: "read" },
  {
    method: "PATCH",
    path: "/rapatriements/{id}",
    module: "update-rapatriement",
    access: "write",
  },
  {
    method: "DELETE",
    path: "/rapatriements/{id}",
    module: "delete-rapatriement",
    access: "write",
  },
];

/**
 * The module of the one function that serves every HTTP route: it dispatches
 * on API Gateway's `routeKey` to the route's own module above.
 */
export const HTTP_FUNCTION_MODULE = "http-router";

export function routeKey(route: Pick<HttpRoute, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** The module that applies commands from SQS, EventBridge or a direct invocation. */
export const COMMANDS_MODULE = "apply-commands";

/**
 * The most commands one invocation of the commands function applies: the
 * event source mapping's batch size, and the cap on a direct invocation (whose
 * answer, with each record, must stay under Lambda's 6 MB).
 */
export const COMMANDS_BATCH_SIZE = 100;

/** The EventBridge `source` and `detail-type` of a command, as the rule matches them. */
export const COMMAND_SOURCE = "interflow.rapatriements";
export const COMMAND_DETAIL_TYPE = "RapatriementCommand";
