/**
 * Entry adapters: the HTTP routes of the API and the handler module serving
 * each. The CDK stack and the local API server both read this table, so the
 * deployed routes and the local ones cannot drift apart.
 */
export interface HttpRoute {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** API Gateway's path pattern, e.g. `/rapatriements/{id}`. */
  path: string;
  /** The module in lambda/handlers/ that exports `handler` for this route. */
  module: string;
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { method: "POST", path: "/rapatriements", module: "create-rapatriement" },
  { method: "GET", path: "/rapatriements", module: "list-rapatriements" },
  { method: "GET", path: "/rapatriements/{id}", module: "get-rapatriement" },
  { method: "PATCH", path: "/rapatriements/{id}", module: "update-rapatriement" },
  { method: "DELETE", path: "/rapatriements/{id}", module: "delete-rapatriement" },
];

export function routeKey(route: Pick<HttpRoute, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}
