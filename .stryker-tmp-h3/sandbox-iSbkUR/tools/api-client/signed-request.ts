/**
 * Tools: one request to the deployed API, whose routes require IAM
 * authorization, signed with Signature Version 4 by the AWS SDK's own signer
 * (@smithy/signature-v4) — the way a TypeScript client of the API signs.
 *
 *   npm run -s signed-request -- GET "$API_URL/rapatriements?limit=5"
 *   npm run -s signed-request -- POST "$API_URL/rapatriements" '{"reference":"…",…}'
 *
 * Credentials come from the AWS SDK's default chain (environment, profile,
 * role); the region from AWS_REGION, else from the API's host name
 * (`<id>.execute-api.<region>.amazonaws.com`). Prints the status, the ETag
 * and Location headers, and the body; exits 1 on a 4xx or 5xx answer.
 */
// @ts-nocheck

import { pathToFileURL } from "node:url";
import { Sha256 } from "@aws-crypto/sha256-js";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";

export interface SignedRequest {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
  region?: string;
  /** Default: the AWS SDK's default chain. */
  credentials?: ConstructorParameters<typeof SignatureV4>[0]["credentials"];
}

/** The region of an API Gateway URL, e.g. eu-west-1 in abc.execute-api.eu-west-1.amazonaws.com. */
export function regionOf(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
}

/** Sends `request` signed for API Gateway (service `execute-api`). */
export async function signedRequest(request: SignedRequest): Promise<Response> {
  const url = new URL(request.url);
  const region = request.region ?? process.env.AWS_REGION ?? regionOf(url);
  if (region === undefined) {
    throw new Error("set AWS_REGION: the URL does not name the API's region");
  }
  const signer = new SignatureV4({
    service: "execute-api",
    region,
    credentials: request.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.host, ...request.headers };
  if (request.body !== undefined) headers["content-type"] ??= "application/json";
  const signed = await signer.sign({
    method: request.method.toUpperCase(),
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === "" ? undefined : Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    body: request.body,
  });
  // fetch sets Host itself, from the URL: the value signed above.
  const { host: _host, ...sent } = signed.headers;
  return fetch(url, { method: signed.method, headers: sent, body: request.body });
}

async function main(argv: string[]): Promise<number> {
  const [method, url, body] = argv;
  if (method === undefined || url === undefined) {
    console.error("usage: npm run -s signed-request -- METHOD URL [JSON_BODY]");
    return 2;
  }
  const response = await signedRequest({ method, url, body });
  console.log(`${response.status} ${response.statusText}`);
  for (const name of ["etag", "location", "retry-after"]) {
    const value = response.headers.get(name);
    if (value !== null) console.log(`${name}: ${value}`);
  }
  const text = await response.text();
  if (text !== "") console.log(text);
  return response.status >= 400 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`signed-request: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  });
}
