/**
 * Local tools: turns a plain HTTP request into the event API Gateway (HTTP
 * API, payload v2) would give the Lambda handler, and a Lambda context to go
 * with it. The tests build their events with the same functions.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { DEFAULT_SCOPES, type HttpRoute, routeKey } from "../../lambda/handlers/routes.ts";

export interface PlainRequest {
  method: string;
  /** Path and query string, e.g. `/rapatriements?limit=5`. */
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  requestId?: string;
}

/** The route a method and path match, with the path's parameters. */
export function matchRoute(
  routes: readonly HttpRoute[],
  method: string,
  path: string,
): { route: HttpRoute; pathParameters: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method.toUpperCase()) continue;
    const parameters = matchPath(route.path, path);
    if (parameters !== undefined) return { route, pathParameters: parameters };
  }
  return undefined;
}

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split("/");
  const actual = path.split("/");
  if (expected.length !== actual.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i] ?? "";
    const got = actual[i] ?? "";
    if (want.startsWith("{") && want.endsWith("}")) {
      if (got === "") return undefined;
      try {
        parameters[want.slice(1, -1)] = decodeURIComponent(got);
      } catch {
        return undefined;
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return parameters;
}

/**
 * The `requestContext.apiId` of every event the local API builds. The HTTP
 * function answers only the API its HTTP_API_ID names, so whatever runs it
 * locally sets HTTP_API_ID to this (npm start does, for its functions).
 */
export const LOCAL_API_ID = "local";

/**
 * Locally, and only locally, who the caller is: the deployed API takes the
 * identity from its authorizer and no handler reads this header, so sending
 * it to the deployed API changes nothing.
 */
export const LOCAL_IDENTITY_HEADER = "x-local-identity";
/** Who a local request is from when it does not say. */
export const DEFAULT_LOCAL_IDENTITY = "local-developer";

/**
 * The authorizer context API Gateway would build for the caller the local
 * identity header names: an ARN (`arn:…`) as an IAM caller, anything else as
 * a JWT's `sub` with both scopes (the local API checks no scope).
 */
export function localAuthorizer(identity: string | undefined): Record<string, unknown> {
  const caller = identity?.trim() || DEFAULT_LOCAL_IDENTITY;
  if (caller.startsWith("arn:")) {
    return {
      iam: {
        accessKey: "LOCAL",
        accountId: "000000000000",
        callerId: caller,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: caller,
        userId: caller,
      },
    };
  }
  return {
    jwt: {
      claims: {
        sub: caller,
        iss: "local",
        scope: `${DEFAULT_SCOPES.read} ${DEFAULT_SCOPES.write}`,
      },
      scopes: [DEFAULT_SCOPES.read, DEFAULT_SCOPES.write],
    },
  };
}

export function toApiGatewayEvent(
  request: PlainRequest,
  route: Pick<HttpRoute, "method" | "path" | "module">,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url, "http://localhost");
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === "cookie") cookies.push(...[value].flat());
    else headers[lower] = [value].flat().join(",");
  }
  // API Gateway joins repeated query parameters with commas.
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const requestId = request.requestId ?? randomUUID();
  const now = new Date();
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: routeKey(route),
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: LOCAL_API_ID,
      domainName: headers.host ?? "localhost",
      domainPrefix: "local",
      http: {
        method: request.method.toUpperCase(),
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: routeKey(route),
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
      authorizer: localAuthorizer(headers[LOCAL_IDENTITY_HEADER]),
    } as APIGatewayProxyEventV2["requestContext"],
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  if (Object.keys(query).length > 0) event.queryStringParameters = query;
  if (Object.keys(pathParameters).length > 0) event.pathParameters = pathParameters;
  if (request.body !== undefined && request.body !== "") event.body = request.body;
  return event;
}

/** A Lambda context with API Gateway's 29-second integration timeout. */
export function lambdaContext(requestId: string, timeoutMs = 29_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "rapatriements-local",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:local:000000000000:function:rapatriements-local",
    memoryLimitInMB: "1024",
    awsRequestId: requestId,
    logGroupName: "/local/rapatriements",
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
