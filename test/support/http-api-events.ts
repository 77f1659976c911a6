/**
 * Test support: API Gateway HTTP API (payload v2) events in the shape AWS
 * sends them — and serverless-offline and Powertools' fixtures reproduce —
 * with every field a real event carries (requestContext with its http block,
 * timeEpoch, an authorizer when the route has one), and a handler's result
 * as the Lambda runtime would serialise it.
 */
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { HandlerDeps } from "../../lambda/handlers/composition-root.ts";
import type { HttpResult } from "../../lambda/handlers/http-response.ts";
import { httpRouterHandler } from "../../lambda/handlers/http-router.ts";
import type { LogLine } from "../../lambda/handlers/log-line.ts";
import { lambdaContext } from "../../tools/local-api/api-gateway.ts";
import { newEngine, newTarget } from "./local-s3.ts";
import type { RecordedResponse } from "./openapi.ts";

export interface EventParts {
  /** E.g. `GET /rapatriements/{id}`. */
  routeKey: string;
  /** The path as sent, e.g. `/rapatriements/abc`. */
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
  /** Absent, null (serverless-offline and Powertools' base event) or a string. */
  body?: string | null;
  isBase64Encoded?: boolean;
  /** The IAM caller of a SigV4-signed request; default: a role session. */
  callerArn?: string;
  /**
   * Given: the route has a JWT authorizer instead of IAM, and the token's
   * claims are these (`sub` and the scopes API Gateway found in `scope`).
   */
  jwt?: { sub?: string; scopes?: string[] };
  /** The API the event comes from; default GATEWAY_API_ID. */
  apiId?: string;
}

/** The id of the API these events come from, as its URL and `requestContext.apiId` carry it. */
export const GATEWAY_API_ID = "abcdef1234";

/** `requestContext.authorizer` as API Gateway fills it for the route's authorizer. */
function authorizerOf(parts: EventParts, timeEpoch: number): Record<string, unknown> {
  if (parts.jwt !== undefined) {
    const seconds = Math.floor(timeEpoch / 1000);
    const claims: Record<string, string> = {
      aud: "rapatriements-api",
      client_id: "3n4b5urk1ft4fl3mg5e8jvcjfv",
      exp: String(seconds + 3600),
      iat: String(seconds - 60),
      iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_EXAMPLE",
      scope: (parts.jwt.scopes ?? []).join(" "),
      token_use: "access",
    };
    if (parts.jwt.sub !== undefined) claims.sub = parts.jwt.sub;
    return { jwt: { claims, scopes: parts.jwt.scopes ?? null } };
  }
  return {
    iam: {
      accessKey: "ASIAEXAMPLEKEY000000",
      accountId: "123456789012",
      callerId: "AROAEXAMPLEROLE0000:session",
      cognitoIdentity: null,
      principalOrgId: null,
      userArn:
        parts.callerArn ?? "arn:aws:sts::123456789012:assumed-role/rapatriements-ops/session",
      userId: "AROAEXAMPLEROLE0000:session",
    },
  };
}

/** One event, field for field as API Gateway hands it to the function. */
export function httpApiEvent(parts: EventParts): APIGatewayProxyEventV2 {
  const method = parts.routeKey.split(" ")[0] ?? "GET";
  const apiId = parts.apiId ?? GATEWAY_API_ID;
  const requestId = randomUUID();
  const timeEpoch = Date.now();
  const query = new URLSearchParams(parts.rawQueryString ?? "");
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of query) {
    queryStringParameters[name] =
      name in queryStringParameters ? `${queryStringParameters[name]},${value}` : value;
  }
  const event: Record<string, unknown> = {
    version: "2.0",
    routeKey: parts.routeKey,
    rawPath: parts.rawPath,
    rawQueryString: parts.rawQueryString ?? "",
    headers: {
      accept: "*/*",
      "content-length": String(Buffer.byteLength(parts.body ?? "")),
      host: `${apiId}.execute-api.eu-west-1.amazonaws.com`,
      "user-agent": "curl/8.5.0",
      "x-amzn-trace-id": `Root=1-${timeEpoch.toString(16)}-0123456789abcdef01234567`,
      "x-forwarded-for": "192.0.2.10",
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...parts.headers,
    },
    requestContext: {
      accountId: "123456789012",
      apiId,
      authorizer: authorizerOf(parts, timeEpoch),
      domainName: `${apiId}.execute-api.eu-west-1.amazonaws.com`,
      domainPrefix: apiId,
      http: {
        method,
        path: parts.rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "192.0.2.10",
        userAgent: "curl/8.5.0",
      },
      requestId,
      routeKey: parts.routeKey,
      stage: "$default",
      time: clfTime(new Date(timeEpoch)),
      timeEpoch,
    },
    isBase64Encoded: parts.isBase64Encoded ?? false,
  };
  if (query.size > 0) event.queryStringParameters = queryStringParameters;
  if (parts.pathParameters !== undefined) event.pathParameters = parts.pathParameters;
  if (parts.body !== undefined) event.body = parts.body;
  return event as unknown as APIGatewayProxyEventV2;
}

/** API Gateway's request time, in the common log format: `12/Mar/2020:19:03:58 +0000`. */
function clfTime(at: Date): string {
  const [, day, month, year, time] = /^\w+, (\d+) (\w+) (\d+) (\S+)/.exec(at.toUTCString()) ?? [];
  return `${day}/${month}/${year}:${time} +0000`;
}

/** A Lambda context for one invocation of `event`. */
export function contextFor(event: APIGatewayProxyEventV2): Context {
  return lambdaContext(event.requestContext.requestId);
}

/** Lambda's limit on a synchronous invocation's response payload: 6 MB. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/** The bytes of a result as the runtime sends it back: its JSON. */
export function responsePayloadBytes(result: unknown): number {
  return Buffer.byteLength(JSON.stringify(result), "utf8");
}

export type RouteKey =
  | "POST /rapatriements"
  | "GET /rapatriements"
  | "GET /rapatriements/{id}"
  | "PATCH /rapatriements/{id}"
  | "DELETE /rapatriements/{id}";

export interface Sent {
  result: HttpResult;
  status: number;
  /** The parsed body; undefined when there is none. */
  json: unknown;
  /** The answer as docs/openapi.yaml's checker takes it. */
  recorded: RecordedResponse;
}

/**
 * The HTTP function of one warm container on a fresh data object (the router
 * over the five route modules, as deployed for the API `apiId`, default
 * GATEWAY_API_ID), and the log lines it wrote; `send` delivers a real-shaped
 * event of that API to it, `deliver` any event.
 */
export async function newHttpApi(options: { apiId?: string } = {}) {
  const apiId = options.apiId ?? GATEWAY_API_ID;
  const { service, store } = await newEngine(await newTarget("sqlite"));
  const lines: LogLine[] = [];
  const deps: HandlerDeps = {
    dependencies: async () => ({ service, store }),
    log: (line) => lines.push(line),
  };
  const router = httpRouterHandler(deps, apiId);
  const deliver = async (event: APIGatewayProxyEventV2): Promise<Sent> => {
    const result = await router(event, contextFor(event));
    const [method = "", route = ""] = event.routeKey.split(" ");
    const body = result.body ?? "";
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) {
      headers[name.toLowerCase()] = String(value);
    }
    return {
      result,
      status: result.statusCode ?? 200,
      json: body === "" ? undefined : JSON.parse(body),
      recorded: { method, route, status: result.statusCode ?? 200, headers, body },
    };
  };
  return {
    service,
    lines,
    deliver,
    send: (parts: EventParts & { routeKey: RouteKey }) =>
      deliver(httpApiEvent({ apiId, ...parts })),
  };
}

/** A record to read, change or delete, made through the create route. */
export async function createOne(
  api: Awaited<ReturnType<typeof newHttpApi>>,
  reference = "RAP-FIXTURE",
): Promise<Sent> {
  return api.send({
    routeKey: "POST /rapatriements",
    rawPath: "/rapatriements",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      reference,
      origin: "LYON-01",
      destination: "PARIS-02",
      lines: [{ sku: "PAL-EUR", quantity: 1 }],
    }),
  });
}
