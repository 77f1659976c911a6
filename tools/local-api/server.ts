/**
 * Local tools: an HTTP server that turns each request into an API Gateway v2
 * event and has the very function that Lambda runs answer it — the HTTP
 * router, which hands the event to the route's module (through
 * `LocalFunctions`, under Lambda's limits). It also serves the API reference
 * at `/docs` and `/openapi.yaml`.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { PayloadTooLargeError } from "../../lambda/errors.ts";
import { problemResponse, requestLanguage } from "../../lambda/handlers/http-response.ts";
import { HTTP_FUNCTION_MODULE, HTTP_ROUTES, type HttpRoute } from "../../lambda/handlers/routes.ts";
import { matchRoute, toApiGatewayEvent } from "./api-gateway.ts";
import { apiReference } from "./api-reference.ts";
import type { Answered } from "./terminal-lines.ts";

/** API Gateway refuses payloads over 10 MB before any Lambda runs. */
const GATEWAY_PAYLOAD_LIMIT = 10 * 1024 * 1024;

export interface LocalApiOptions {
  /** Runs the function of `module`; answers what API Gateway would send back. */
  invoke(
    module: string,
    event: APIGatewayProxyEventV2,
    requestId: string,
  ): Promise<APIGatewayProxyResultV2>;
  /**
   * Awaited after a write request's function has answered and before the
   * answer goes out (npm start saves its data there).
   */
  afterWrite?: () => Promise<void>;
  /** Called once per request when its answer has gone out (or the client left). */
  onAnswer?: (answer: Answered & { requestId: string }) => void;
  routes?: readonly HttpRoute[];
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function localApiListener(options: LocalApiOptions): RequestListener {
  return (request, response) => {
    const requestId = randomUUID();
    const started = performance.now();
    response.once("close", () =>
      options.onAnswer?.({
        requestId,
        method: request.method ?? "GET",
        path: request.url ?? "/",
        status: response.statusCode,
        ms: performance.now() - started,
      }),
    );
    serve(request, response, options, requestId).catch((error: unknown) => {
      console.error("local API: unexpected failure", error);
      if (!response.headersSent) send(response, problemResponse(error, "local"));
      else response.destroy();
    });
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalApiOptions,
  requestId: string,
): Promise<void> {
  const method = request.method ?? "GET";
  const url = new URL(request.url ?? "/", "http://localhost");
  const reference = await apiReference(
    method,
    url.pathname,
    `http://${request.headers.host ?? "127.0.0.1"}`,
  );
  if (reference !== undefined) {
    await drain(request);
    return send(response, reference);
  }
  const match = matchRoute(options.routes ?? HTTP_ROUTES, method, url.pathname);
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
    const language = requestLanguage({ "accept-language": request.headers["accept-language"] });
    return send(response, problemResponse(error, requestId, language));
  }
  const event = toApiGatewayEvent(
    { method, url: request.url ?? "/", headers: request.headers, body, requestId },
    match.route,
    match.pathParameters,
  );
  // As deployed: every route is served by the one HTTP function, which routes on routeKey.
  const result = await options.invoke(HTTP_FUNCTION_MODULE, event, requestId);
  if (!READ_METHODS.has(method.toUpperCase())) await options.afterWrite?.();
  send(response, result);
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
        reject(
          new PayloadTooLargeError({
            key: "requestTooLarge",
            params: { mb: GATEWAY_PAYLOAD_LIMIT / 1024 / 1024 },
          }),
        );
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
