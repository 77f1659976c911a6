/**
 * Test support: the synthesized bundles run as Lambda runs them — each
 * function's folder from the cloud assembly, copied where no node_modules
 * can be reached, loaded in a fresh Node.js 24 process with the deployed
 * environment (AWS_LAMBDA_FUNCTION_NAME set, so the init phase starts its
 * work at import), serving events against the local server.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { LOCAL_API_ID, matchRoute, toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import { localEndpoint } from "./local-s3.ts";
import type { Json, Synthesized } from "./synth.ts";

/**
 * What a bundle's process gave: the handler's result, its log lines, the Node
 * version it ran on, and whether anything read the global `performance`
 * (Node loads its perf_hooks modules on its first use, 3–15 ms measured,
 * which a cold container's first answer would pay).
 */
export interface BundleRun {
  result: Json;
  log: Json[];
  nodeVersion: string;
  performanceRead: boolean;
}

/** Runs one request through a bundle in a new process; returns the handler's result. */
export async function runBundle(
  bundleDir: string,
  bucket: string,
  request: { method: string; url: string; body?: unknown; headers?: Record<string, string> },
): Promise<BundleRun> {
  const match = matchRoute(HTTP_ROUTES, request.method, new URL(request.url, "http://x").pathname);
  if (match === undefined) throw new Error(`no route for ${request.method} ${request.url}`);
  const event = toApiGatewayEvent(
    {
      method: request.method,
      url: request.url,
      headers: { "content-type": "application/json", ...request.headers },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    },
    match.route,
    match.pathParameters,
  );
  return invokeBundle(bundleDir, bucket, event);
}

/** Invokes a bundle's handler with `event` in a new process; returns its result and log lines. */
export async function invokeBundle(
  bundleDir: string,
  bucket: string,
  event: unknown,
  env: Record<string, string> = {},
): Promise<BundleRun> {
  const { child, output, exited } = startRunner(bundleDir, "run.mjs", bucket, undefined, env);
  child.stdin.end(JSON.stringify(event));
  const code = await exited;
  if (code !== 0) throw new Error(`bundle exited with ${code}: ${output.err}`);
  const lines = output.out
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line));
  const nodeVersion = /^node (v\S+)$/m.exec(output.err)?.[1] ?? "unknown";
  const performanceRead = /^performance read: (true|false)$/m.exec(output.err)?.[1];
  if (performanceRead === undefined) throw new Error(`no report of performance: ${output.err}`);
  return {
    result: lines.at(-1),
    log: lines.slice(0, -1),
    nodeVersion,
    performanceRead: performanceRead === "true",
  };
}

/**
 * Starts `bundleDir/script` (written there first when `runner` is given) in a
 * fresh process with the deployed environment; its output so far, and its exit.
 */
export function startRunner(
  bundleDir: string,
  script: string,
  bucket: string,
  runner?: string,
  env: Record<string, string> = {},
) {
  if (runner !== undefined) writeFileSync(join(bundleDir, script), runner);
  const child = spawn(process.execPath, [join(bundleDir, script)], {
    cwd: bundleDir,
    env: bundleEnv(bucket, env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const output = { out: "", err: "" };
  child.stdout.on("data", (chunk: Buffer) => {
    output.out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output.err += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { child, output, exited };
}

export const DATA_KEY = "rapatriements/rapatriements.db";

/** The environment of a function as deployed, pointed at the local S3 server. */
export function bundleEnv(
  bucket: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: dirname(process.execPath),
    AWS_REGION: "eu-west-1",
    S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${DATA_KEY}`,
    STORAGE_STRATEGY: "sqlite",
    AWS_ENDPOINT_URL_S3: localEndpoint(),
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    NODE_OPTIONS: "--enable-source-maps",
    // As Lambda's runtime sets it: the bundle starts its work at import (the init phase).
    AWS_LAMBDA_FUNCTION_NAME: "bundle-test",
    // As the stack sets it, for the API whose events the tests build (the local API's).
    HTTP_API_ID: LOCAL_API_ID,
    ...extra,
  };
}

/**
 * A bundle imported in a fresh process (Lambda's init phase), then invoked
 * once when the test says so, with an event built at that moment (its
 * `timeEpoch` says when the request arrived).
 */
export function initialisedBundle(
  bundleDir: string,
  bucket: string,
  env: Record<string, string> = {},
) {
  const { child, output, exited } = startRunner(
    bundleDir,
    "stepped.mjs",
    bucket,
    STEPPED_RUNNER,
    env,
  );
  const initialised = new Promise<void>((resolve, reject) => {
    child.stderr.on("data", () => {
      if (output.err.includes("initialised\n")) resolve();
    });
    void exited.then((code) => reject(new Error(`bundle exited with ${code}: ${output.err}`)));
  });
  /** Serves `event`, made when this is called; the bundle's result and its log lines. */
  const invokeEvent = async (event: unknown): Promise<{ result: Json; log: Json[] }> => {
    child.stdin.end(JSON.stringify(event));
    const code = await exited;
    if (code !== 0) throw new Error(`bundle exited with ${code}: ${output.err}`);
    const lines = output.out
      .trim()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line));
    return { result: lines.at(-1) ?? null, log: lines.slice(0, -1) };
  };
  return {
    initialised,
    invokeEvent,
    /** An HTTP request, its event built now (its `timeEpoch` says when it arrived). */
    async invoke(request: {
      method: string;
      url: string;
      body?: unknown;
      headers?: Record<string, string>;
    }): Promise<Json> {
      const match = matchRoute(HTTP_ROUTES, request.method, request.url);
      if (match === undefined) throw new Error(`no route for ${request.url}`);
      const plain = {
        method: request.method,
        url: request.url,
        headers: { "content-type": "application/json", ...request.headers },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      };
      return (await invokeEvent(toApiGatewayEvent(plain, match.route, match.pathParameters)))
        .result;
    },
  };
}

/** Imports the bundle; prints the HTTP requests handed to the OS before the import returned. */
export const ORDER_RUNNER = `
import { subscribe } from "node:diagnostics_channel";
const sent = [];
subscribe("http.client.request.start", ({ request }) => {
  request.once("finish", () => sent.push(request.method + " " + request.path));
});
await import("./index.mjs");
process.stdout.write(JSON.stringify(sent) + "\\n");
process.exit(0);
`;

/** Imports the bundle, lets its init-phase work finish, then serves one event from stdin. */
const STEPPED_RUNNER = `
const { handler } = await import("./index.mjs");
await new Promise((resolve) => setTimeout(resolve, 1500));
process.stderr.write("initialised\\n");
let input = "";
for await (const chunk of process.stdin) input += chunk;
const event = JSON.parse(input);
const result = await handler(event, {
  awsRequestId: "stepped", getRemainingTimeInMillis: () => 10000, functionName: "bundle-test",
});
process.stdout.write("\\n" + JSON.stringify(result) + "\\n");
`;

const RUNNER = `
import { readFileSync } from "node:fs";
// Notes any read of the global performance (see BundleRun), then serves as usual.
const original = Object.getOwnPropertyDescriptor(globalThis, "performance");
let performanceRead = false;
Object.defineProperty(globalThis, "performance", {
  configurable: true,
  get() { performanceRead = true; return original.get ? original.get.call(globalThis) : original.value; },
});
const { handler } = await import("./index.mjs");
const event = JSON.parse(readFileSync(0, "utf8"));
const context = {
  awsRequestId: "bundle-test",
  getRemainingTimeInMillis: () => 10000,
  functionName: "bundle-test",
};
const result = await handler(event, context);
process.stderr.write("node " + process.version + "\\n");
process.stderr.write("performance read: " + performanceRead + "\\n");
process.stdout.write("\\n" + JSON.stringify(result) + "\\n");
`;

/** A copy of a function's bundle in a folder no node_modules is above. */
export function isolatedCopy(synthesized: Synthesized, module: string): string {
  const logicalId = synthesized.functionsByModule.get(module);
  if (logicalId === undefined) throw new Error(`no function for ${module}`);
  const dir = mkdtempSync(join(tmpdir(), `bundle-${module}-`));
  cpSync(synthesized.assetDir(logicalId), dir, { recursive: true });
  writeFileSync(join(dir, "run.mjs"), RUNNER);
  return dir;
}
