/**
 * Local tools: an HTTP server that turns each request into an API Gateway v2
 * event and calls the very handler modules that Lambda runs.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import { PayloadTooLargeError } from "../../lambda/errors.ts";
import { problemResponse } from "../../lambda/handlers/http-handler.ts";
import { HTTP_ROUTES, type HttpRoute } from "../../lambda/handlers/routes.ts";
import { lambdaContext, matchRoute, toApiGatewayEvent } from "./api-gateway.ts";

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** API Gateway refuses payloads over 10 MB before any Lambda runs. */
const GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024;

/** Imports `lambda/handlers/<module>.ts` for every route. */
export async function loadRouteHandlers(
  routes: readonly HttpRoute[] = HTTP_ROUTES,
): Promise<Map<string, LambdaHttpHandler>> {
  const handlers = new Map<string, LambdaHttpHandler>();
  for (const route of routes) {
    const module = (await import(`../../lambda/handlers/${route.module}.ts`)) as {
      handler: LambdaHttpHandler;
    };
    handlers.set(route.module, module.handler);
  }
  return handlers;
}

export function createLocalApi(
  handlers: ReadonlyMap<string, LambdaHttpHandler>,
  routes: readonly HttpRoute[] = HTTP_ROUTES,
): Server {
  return createServer((request, response) => {
    serve(request, response, handlers, routes).catch((error: unknown) => {
      console.error("local API: unexpected failure", error);
      if (!response.headersSent) send(response, problemResponse(error, "local"));
      else response.destroy();
    });
  });
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  handlers: ReadonlyMap<string, LambdaHttpHandler>,
  routes: readonly HttpRoute[],
): Promise<void> {
  const requestId = randomUUID();
  const url = new URL(request.url ?? "/", "http://localhost");
  const match = matchRoute(routes, request.method ?? "GET", url.pathname);
  if (match === undefined) {
    // What API Gateway (HTTP API) answers for a route it does not have.
    await drain(request);
    return send(response, {
      statusCode: 404,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "Not Found" }),
    });
  }
  let body: string;
  try {
    body = await readBody(request, GATEWAY_PAYLOAD_LIMIT);
  } catch (error) {
    return send(response, problemResponse(error, requestId));
  }
  const handler = handlers.get(match.route.module);
  if (handler === undefined) throw new Error(`no handler loaded for ${match.route.module}`);
  const event = toApiGatewayEvent(
    {
      method: request.method ?? "GET",
      url: request.url ?? "/",
      headers: request.headers,
      body,
      requestId,
    },
    match.route,
    match.pathParameters,
  );
  send(response, await handler(event, lambdaContext(requestId)));
}

function send(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === "string") {
    response.writeHead(200, { "content-type": "application/json" }).end(result);
    return;
  }
  const headers: Record<string, string | number | boolean> = { ...result.headers };
  if (result.cookies !== undefined) headers["set-cookie"] = result.cookies.join(", ");
  const body =
    result.body === undefined
      ? undefined
      : result.isBase64Encoded
        ? Buffer.from(result.body, "base64")
        : result.body;
  response.writeHead(result.statusCode ?? 200, headers as Record<string, string>).end(body);
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new PayloadTooLargeError("The request is larger than API Gateway's 10 MB limit."));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function drain(request: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    request.resume();
    request.on("end", resolve);
    request.on("error", () => resolve());
  });
}
