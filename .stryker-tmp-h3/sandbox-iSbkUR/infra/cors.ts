/**
 * Infrastructure: CORS for the HTTP API. No origin is allowed unless the
 * context parameter `allowedOrigins` names some: a browser application on
 * another origin is a decision, not a default.
 */
// @ts-nocheck

import { Duration } from "aws-cdk-lib";
import { CorsHttpMethod, type CorsPreflightOptions } from "aws-cdk-lib/aws-apigatewayv2";

/** `https://host[:port]` (or `http://` for a local front end), no path; or `*` for any. */
const ORIGIN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/;

/** The allowed origins from a comma list; throws naming the first that is not an origin. */
export function parseAllowedOrigins(text: string): string[] {
  const origins = text
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of origins) {
    if (!ORIGIN.test(origin)) {
      throw new Error(
        `context allowedOrigins: "${origin}" is not an origin (scheme://host[:port], no path, or *)`,
      );
    }
  }
  return origins;
}

/** The preflight answer for these origins; none when there are none (no CORS at all). */
export function corsPreflight(allowedOrigins: readonly string[]): CorsPreflightOptions | undefined {
  if (allowedOrigins.length === 0) return undefined;
  return {
    allowOrigins: [...allowedOrigins],
    allowMethods: [
      CorsHttpMethod.GET,
      CorsHttpMethod.POST,
      CorsHttpMethod.PATCH,
      CorsHttpMethod.DELETE,
    ],
    allowHeaders: [
      "authorization",
      "content-type",
      "idempotency-key",
      "if-match",
      "if-none-match",
      // SigV4-signed browser calls send these.
      "x-amz-date",
      "x-amz-security-token",
      "x-amz-content-sha256",
    ],
    exposeHeaders: ["etag", "location", "retry-after"],
    maxAge: Duration.hours(1),
  };
}
