/**
 * Test support: the HTTP API as API Gateway calls it — a request becomes a
 * payload-v2 event for its route, handed to the HTTP function Lambda runs
 * (the router over the route modules) — over a storage engine the test
 * built (own client, own cache, as one container).
 */
import type { HandlerDeps } from "../../lambda/handlers/composition-root.ts";
import { httpRouterHandler } from "../../lambda/handlers/http-router.ts";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import {
  LOCAL_API_ID,
  lambdaContext,
  matchRoute,
  toApiGatewayEvent,
} from "../../tools/local-api/api-gateway.ts";
import type { newEngine } from "./local-s3.ts";

export interface ApiAnswer {
  status: number | undefined;
  headers: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field
  json: any;
}

export type Api = (
  method: string,
  url: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiAnswer>;

export function apiOver({ service, store }: Awaited<ReturnType<typeof newEngine>>): Api {
  const deps: HandlerDeps = { dependencies: async () => ({ service, store }), log: () => {} };
  // The events below are the local API's, as npm start builds them.
  const router = httpRouterHandler(deps, LOCAL_API_ID);
  return async (method, url, body, headers = {}) => {
    const match = matchRoute(HTTP_ROUTES, method, url.split("?")[0] ?? url);
    if (match === undefined) throw new Error(`no route ${method} ${url}`);
    const event = toApiGatewayEvent(
      {
        method,
        url,
        headers: { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      match.route,
      match.pathParameters,
    );
    const result = await router(event, lambdaContext("test"));
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      json: result.body === undefined ? undefined : JSON.parse(result.body),
    };
  };
}
