/**
 * Test support: the HTTP API as API Gateway calls it — a request becomes a
 * payload-v2 event routed to the very handler module Lambda runs — over a
 * storage engine the test built (own client, own cache, as one container).
 */
import { createRapatriementHandler } from "../../lambda/handlers/create-rapatriement.ts";
import { deleteRapatriementHandler } from "../../lambda/handlers/delete-rapatriement.ts";
import type { HandlerDeps } from "../../lambda/handlers/dependencies.ts";
import { getRapatriementHandler } from "../../lambda/handlers/get-rapatriement.ts";
import { listRapatriementsHandler } from "../../lambda/handlers/list-rapatriements.ts";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { updateRapatriementHandler } from "../../lambda/handlers/update-rapatriement.ts";
import { lambdaContext, matchRoute, toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
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
  const handlers = new Map([
    ["create-rapatriement", createRapatriementHandler(deps)],
    ["list-rapatriements", listRapatriementsHandler(deps)],
    ["get-rapatriement", getRapatriementHandler(deps)],
    ["update-rapatriement", updateRapatriementHandler(deps)],
    ["delete-rapatriement", deleteRapatriementHandler(deps)],
  ]);
  return async (method, url, body, headers = {}) => {
    const match = matchRoute(HTTP_ROUTES, method, url.split("?")[0] ?? url);
    const handler = match === undefined ? undefined : handlers.get(match.route.module);
    if (match === undefined || handler === undefined) throw new Error(`no route ${method} ${url}`);
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
    const result = await handler(event, lambdaContext("test"));
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      json: result.body === undefined ? undefined : JSON.parse(result.body),
    };
  };
}
