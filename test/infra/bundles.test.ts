/**
 * The synthesized bundles themselves: each function's folder from the cloud
 * assembly, copied where no node_modules can be reached, loaded in a fresh
 * Node.js 24 process, serving real requests against the local S3 server.
 */
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  COMMANDS_MODULE,
  HTTP_FUNCTION_MODULE,
  HTTP_ROUTES,
} from "../../lambda/handlers/routes.ts";
import { matchRoute, toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import {
  createBucket,
  localEndpoint,
  localS3Client,
  newEngine,
  sampleInput,
  uniqueBucketName,
} from "../support/local-s3.ts";
import { type Json, synthesize } from "../support/synth.ts";

const synthesized = synthesize();

/**
 * What a bundle's process gave: the handler's result, its log lines, the Node
 * version it ran on, and whether anything read the global `performance`
 * (Node loads its perf_hooks modules on its first use, 3–15 ms measured,
 * which a cold container's first answer would pay).
 */
interface BundleRun {
  result: Json;
  log: Json[];
  nodeVersion: string;
  performanceRead: boolean;
}

/** Runs one request through a bundle in a new process; returns the handler's result. */
async function runBundle(
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
async function invokeBundle(bundleDir: string, bucket: string, event: unknown): Promise<BundleRun> {
  const { child, output, exited } = startRunner(bundleDir, "run.mjs", bucket);
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
function startRunner(bundleDir: string, script: string, bucket: string, runner?: string) {
  if (runner !== undefined) writeFileSync(join(bundleDir, script), runner);
  const child = spawn(process.execPath, [join(bundleDir, script)], {
    cwd: bundleDir,
    env: bundleEnv(bucket),
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

const DATA_KEY = "rapatriements/rapatriements.db";

/** The environment of a function as deployed, pointed at the local S3 server. */
function bundleEnv(bucket: string): Record<string, string> {
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
  };
}

/**
 * A bundle imported in a fresh process (Lambda's init phase), then invoked
 * once when the test says so, with an event built at that moment (its
 * `timeEpoch` says when the request arrived).
 */
function initialisedBundle(bundleDir: string, bucket: string) {
  const { child, output, exited } = startRunner(bundleDir, "stepped.mjs", bucket, STEPPED_RUNNER);
  const initialised = new Promise<void>((resolve, reject) => {
    child.stderr.on("data", () => {
      if (output.err.includes("initialised\n")) resolve();
    });
    void exited.then((code) => reject(new Error(`bundle exited with ${code}: ${output.err}`)));
  });
  return {
    initialised,
    async invoke(request: { method: string; url: string }): Promise<Json> {
      const match = matchRoute(HTTP_ROUTES, request.method, request.url);
      if (match === undefined) throw new Error(`no route for ${request.url}`);
      child.stdin.end(
        JSON.stringify(toApiGatewayEvent(request, match.route, match.pathParameters)),
      );
      const code = await exited;
      if (code !== 0) throw new Error(`bundle exited with ${code}: ${output.err}`);
      return JSON.parse(output.out.trim().split("\n").at(-1) ?? "null");
    },
  };
}

/** Imports the bundle; prints the HTTP requests handed to the OS before the import returned. */
const ORDER_RUNNER = `
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
function isolatedCopy(module: string): string {
  const logicalId = synthesized.functionsByModule.get(module);
  if (logicalId === undefined) throw new Error(`no function for ${module}`);
  const dir = mkdtempSync(join(tmpdir(), `bundle-${module}-`));
  cpSync(synthesized.assetDir(logicalId), dir, { recursive: true });
  writeFileSync(join(dir, "run.mjs"), RUNNER);
  return dir;
}

describe("synthesized bundles", () => {
  const modules = [HTTP_FUNCTION_MODULE, COMMANDS_MODULE];
  const bundles = new Map(modules.map((module) => [module, isolatedCopy(module)]));
  const bundle = (module: string) => bundles.get(module) ?? "";

  test("each bundle carries its code, source map and sql.js's wasm, and nothing above it has node_modules", () => {
    for (const [module, dir] of bundles) {
      expect(statSync(join(dir, "index.mjs")).size, module).toBeGreaterThan(0);
      expect(existsSync(join(dir, "index.mjs.map")), module).toBe(true);
      expect(statSync(join(dir, "sql-wasm.wasm")).size, module).toBeGreaterThan(100_000);
      for (let up = dir; up !== dirname(up); up = dirname(up)) {
        expect(existsSync(join(up, "node_modules")), up).toBe(false);
      }
    }
  });

  test("the suite and every bundle's fresh process run on Node.js 24, Lambda's nodejs24.x", async () => {
    expect(process.version).toMatch(/^v24\./);
    const bucket = await createBucket(localS3Client());
    for (const route of HTTP_ROUTES) {
      const url = route.path.replace("{id}", "some-id");
      const { result, nodeVersion } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
        method: route.method,
        url,
      });
      expect(result.statusCode, route.module).toBeLessThan(500);
      expect(nodeVersion, route.module).toMatch(/^v24\./);
    }
    const { result, nodeVersion } = await invokeBundle(bundle(COMMANDS_MODULE), bucket, []);
    expect(result).toEqual([]);
    expect(nodeVersion).toMatch(/^v24\./);
  });

  test("the HTTP bundle serves every route, from create to delete, in a fresh Node.js process", async () => {
    const bucket = await createBucket(localS3Client());
    const { result: created, log: createdLog } = await runBundle(
      bundle(HTTP_FUNCTION_MODULE),
      bucket,
      {
        method: "POST",
        url: "/rapatriements",
        body: {
          reference: "BUNDLE-1",
          origin: "LYON-01",
          destination: "PARIS-02",
          lines: [{ sku: "A", quantity: 1 }],
        },
      },
    );
    expect(created.statusCode).toBe(201);
    const id = JSON.parse(created.body).id as string;
    // The deployed code's one log line carries its metrics for CloudWatch (EMF).
    expect(createdLog).toHaveLength(1);
    expect(createdLog[0]._aws.CloudWatchMetrics[0].Namespace).toBe("Rapatriements");
    expect(createdLog[0]).toMatchObject({ status: 201, RecordCount: 1, Conflicts: 0 });

    const { result: fetched } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: `/rapatriements/${id}`,
    });
    expect(fetched.statusCode).toBe(200);
    expect(JSON.parse(fetched.body)).toMatchObject({ id, reference: "BUNDLE-1", version: 1 });

    const { result: listed } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: "/rapatriements",
    });
    expect(JSON.parse(listed.body).items.map((r: { id: string }) => r.id)).toEqual([id]);

    const { result: updated } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "PATCH",
      url: `/rapatriements/${id}`,
      body: { status: "requested" },
      headers: { "if-match": '"1"' },
    });
    expect(updated.statusCode).toBe(200);
    expect(updated.headers.etag).toBe('"2"');

    const { result: deleted } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "DELETE",
      url: `/rapatriements/${id}`,
      headers: { "if-match": '"2"' },
    });
    expect(deleted.statusCode).toBe(204);
    const { result: gone } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: `/rapatriements/${id}`,
    });
    expect(gone.statusCode).toBe(404);
  });

  test("the HTTP bundle answers a route it does not serve with a problem+json 404 and logs it", async () => {
    const bucket = await createBucket(localS3Client());
    const [route] = HTTP_ROUTES;
    if (route === undefined) throw new Error("no route");
    // What API Gateway would send for a route added to the API but not to routes.ts.
    const event = {
      ...toApiGatewayEvent({ method: "PUT", url: "/rapatriements/x" }, route, { id: "x" }),
      routeKey: "PUT /rapatriements/{id}",
    };
    const { result, log } = await invokeBundle(bundle(HTTP_FUNCTION_MODULE), bucket, event);
    expect(result.statusCode).toBe(404);
    expect(result.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(result.body)).toMatchObject({
      status: 404,
      code: "ROUTE_NOT_FOUND",
      detail: expect.stringContaining('"PUT /rapatriements/{id}"'),
    });
    expect(log).toEqual([
      expect.objectContaining({ level: "error", code: "ROUTE_NOT_FOUND", status: 404 }),
    ]);
  });

  test("the commands bundle applies a direct invocation's commands", async () => {
    const bucket = await createBucket(localS3Client());
    const { result } = await invokeBundle(bundle(COMMANDS_MODULE), bucket, [
      {
        action: "create",
        data: {
          reference: "CMD-1",
          origin: "A",
          destination: "B",
          lines: [{ sku: "s", quantity: 1 }],
        },
      },
      { action: "delete", id: "missing" },
    ]);
    expect(result).toEqual([
      expect.objectContaining({ ok: true, action: "create" }),
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: "NOT_FOUND" }) }),
    ]);
    const { result: listed } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: "/rapatriements",
    });
    expect(JSON.parse(listed.body).items.map((r: { reference: string }) => r.reference)).toEqual([
      "CMD-1",
    ]);
  });

  test("without the wasm beside it a bundle cannot open the data: it is loaded from the bundle", async () => {
    const bucket = await createBucket(localS3Client());
    const dir = isolatedCopy(HTTP_FUNCTION_MODULE);
    rmSync(join(dir, "sql-wasm.wasm"));
    const { result, log } = await runBundle(dir, bucket, { method: "GET", url: "/rapatriements" });
    expect(result.statusCode).toBe(500);
    expect(log).toHaveLength(1);
    expect(log[0].error.message).toContain("sql-wasm.wasm");
  });

  test("in Lambda the object is downloaded at init, and a change made after that is still seen", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    const target = { bucket, key: DATA_KEY, strategy: "sqlite" as const };
    const { service } = await newEngine(target);
    const created = await service.create(sampleInput(1));
    const bundleRun = initialisedBundle(isolatedCopy(HTTP_FUNCTION_MODULE), bucket);
    await bundleRun.initialised;
    // Written after the init's download, before the request arrives.
    await service.update(created.id, { status: "requested" });

    const result = await bundleRun.invoke({ method: "GET", url: `/rapatriements/${created.id}` });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ status: "requested", version: 2 });
  });

  test("in Lambda each bundle sends the object's GET before it has finished evaluating, and takes node:http through require", async () => {
    const bucket = await createBucket(localS3Client());
    await (await newEngine({ bucket, key: DATA_KEY, strategy: "sqlite" })).service.create(
      sampleInput(1),
    );
    for (const [module, dir] of bundles) {
      const { child, output, exited } = startRunner(dir, "order.mjs", bucket, ORDER_RUNNER);
      child.stdin.end();
      expect(await exited, module).toBe(0);
      // Sent while the import was still evaluating the bundle: the rest of
      // it (validation, domain, handlers) evaluated while S3 answered.
      expect(JSON.parse(output.out), module).toEqual([
        expect.stringMatching(new RegExp(`^GET /${bucket}/${DATA_KEY.replace(".", "\\.")}`)),
      ]);
      // An ESM import of either would build its facade, which loads undici.
      expect(readFileSync(join(dir, "index.mjs"), "utf8"), module).not.toMatch(
        /from\s*["']node:https?["']/,
      );
    }
  });

  test("a cold bundle answers its first request without the global performance (perf_hooks loads on first use)", async () => {
    const bucket = await createBucket(localS3Client());
    const { service } = await newEngine({ bucket, key: DATA_KEY, strategy: "sqlite" });
    const created = await service.create(sampleInput(1));

    const get = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: `/rapatriements/${created.id}`,
    });
    expect(get.result.statusCode).toBe(200);
    expect(get.performanceRead).toBe(false);
    const commands = await invokeBundle(bundle(COMMANDS_MODULE), bucket, [
      { action: "delete", id: created.id },
    ]);
    expect(commands.result).toMatchObject([{ ok: true }]);
    expect(commands.performanceRead).toBe(false);
  });

  test("a download that failed at init is made again by the first invocation", async () => {
    const s3 = localS3Client();
    const bucket = uniqueBucketName();
    // No bucket, no object yet: the init's download fails.
    const bundleRun = initialisedBundle(isolatedCopy(HTTP_FUNCTION_MODULE), bucket);
    await bundleRun.initialised;
    await createBucket(s3, bucket);
    const created = await (
      await newEngine({ bucket, key: DATA_KEY, strategy: "sqlite" })
    ).service.create(sampleInput(1));

    const result = await bundleRun.invoke({ method: "GET", url: `/rapatriements/${created.id}` });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ id: created.id, reference: "RAP-1" });
  });

  test("a bundle whose init failed (no wasm yet) serves its first invocation once the cause is gone", async () => {
    const bucket = await createBucket(localS3Client());
    const created = await (
      await newEngine({ bucket, key: DATA_KEY, strategy: "sqlite" })
    ).service.create(sampleInput(1));
    const dir = isolatedCopy(HTTP_FUNCTION_MODULE);
    const wasm = readFileSync(join(dir, "sql-wasm.wasm"));
    rmSync(join(dir, "sql-wasm.wasm"));
    const bundleRun = initialisedBundle(dir, bucket);
    await bundleRun.initialised;
    writeFileSync(join(dir, "sql-wasm.wasm"), wasm);

    const result = await bundleRun.invoke({ method: "GET", url: `/rapatriements/${created.id}` });
    expect(result.statusCode).toBe(200);
  });
});
