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
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: "POST", path: "/rapatriements", module: "create-rapatriement" },
  { method: "GET", path: "/rapatriements", module: "list-rapatriements" },
  { method: "GET", path: "/rapatriements/{id}", module: "get-rapatriement" },
  { method: "PATCH", path: "/rapatriements/{id}", module: "update-rapatriement" },
  { method: "DELETE", path: "/rapatriements/{id}", module: "delete-rapatriement" },
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

/** The EventBridge `source` and `detail-type` of a command, as the rule matches them. */
export const COMMAND_SOURCE = "interflow.rapatriements";
export const COMMAND_DETAIL_TYPE = "RapatriementCommand";
