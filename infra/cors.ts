/**
 * Infrastructure: CORS for the HTTP API. No origin is allowed unless the
 * context parameter `allowedOrigins` names some: a browser application on
 * another origin is a decision, not a default — and one made per origin,
 * never `*`, over HTTPS except for a front end on the developer's own machine.
 */
import { Duration } from "aws-cdk-lib";
import { CorsHttpMethod, type CorsPreflightOptions } from "aws-cdk-lib/aws-apigatewayv2";

/** `scheme://host[:port]`, no path: the scheme and the host as groups. */
const ORIGIN = /^(https?):\/\/([A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** Hosts that are the developer's own machine, where plain http:// cannot be read in transit. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1"]);

/**
 * The allowed origins from a comma list; throws naming the first that is
 * refused, and why: not an origin; `*` (any web page a user visits could
 * then call the API from the user's browser and read the answers); plain
 * `http://` on a host other than localhost (the page, and with it the
 * token or signed request it sends, could be altered in transit).
 */
export function parseAllowedOrigins(text: string): string[] {
  const origins = text
    .split(",")
    .map((origin) => origin.trim())
    .filter((origin) => origin !== "");
  for (const origin of origins) {
    if (origin === "*") {
      throw new Error(
        'context allowedOrigins: "*" is refused: any web page could call the API from its visitors\' browsers. Name the origins of your browser applications, e.g. https://app.example.org',
      );
    }
    const [, scheme, host = ""] = ORIGIN.exec(origin) ?? [];
    if (scheme === undefined) {
      throw new Error(
        `context allowedOrigins: "${origin}" is not an origin (scheme://host[:port], no path)`,
      );
    }
    if (scheme === "http" && !LOOPBACK_HOSTS.has(host.toLowerCase())) {
      throw new Error(
        `context allowedOrigins: "${origin}" is refused: plain http:// is allowed only for localhost and 127.0.0.1 (a front end on your own machine); use https://${origin.slice("http://".length)}`,
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
