/**
 * Entry adapters: what an HTTP route reads from its request — the API
 * Gateway v2 event as the middlewares of http-handler.ts leave it, a header,
 * the `{id}` of the path, and what a write asks: its `Idempotency-Key`, the
 * version its `If-Match` names, and who asks.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { fieldError, ValidationError } from "../errors.ts";
import type { VersionOptions } from "../rapatriements/operation.ts";
import { callerOf } from "./caller.ts";

/**
 * The API Gateway v2 event as the middlewares leave it: header names
 * lower-cased, the parsed JSON body beside the raw one.
 */
export type HttpEvent = APIGatewayProxyEventV2 & { jsonBody?: unknown };

/** A header of the normalised event. */
export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers[name.toLowerCase()];
}

/** The `{id}` of the route; API Gateway always sets it, a hand-made event may not. */
export function pathId(event: HttpEvent): string {
  const id = event.pathParameters?.id;
  if (id === undefined || id === "") {
    throw new ValidationError([fieldError("id", { rule: "requiredInPath", params: {} })]);
  }
  return id;
}

/**
 * What a write asks: `Idempotency-Key`, the version `If-Match` names, and who
 * asks (from the authorizer's context, never from a header).
 */
export function writeOptions(event: HttpEvent): VersionOptions {
  const options: VersionOptions = { actor: callerOf(event) };
  const idempotencyKey = header(event, "idempotency-key");
  // Stryker disable next-line ConditionalExpression: an idempotencyKey set to undefined is no key, as an absent one
  if (idempotencyKey !== undefined) options.idempotencyKey = idempotencyKey;
  const version = expectedVersion(event);
  // Stryker disable next-line ConditionalExpression: an expectedVersion set to undefined is no condition, as an absent one
  if (version !== undefined) options.expectedVersion = version;
  return options;
}

/**
 * The version an `If-Match` header names: `"3"` → 3, absent or `*` → no
 * condition. Anything else is refused rather than silently ignored.
 */
export function expectedVersion(event: HttpEvent): number | undefined {
  const value = header(event, "if-match")?.trim();
  if (value === undefined || value === "" || value === "*") return undefined;
  const match = /^"([1-9]\d{0,15})"$/.exec(value);
  if (match?.[1] === undefined) {
    throw new ValidationError([fieldError("If-Match", { rule: "etag", params: {} })]);
  }
  return Number(match[1]);
}
