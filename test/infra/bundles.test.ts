/**
 * The synthesized bundles themselves: each function's folder from the cloud
 * assembly, copied where no node_modules can be reached, loaded in a fresh
 * Node.js 24 process, serving real requests against the local S3 server.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { PUBLISHER_MODULE } from "../../infra/events.ts";
import {
  COMMANDS_MODULE,
  HTTP_FUNCTION_MODULE,
  HTTP_ROUTES,
} from "../../lambda/handlers/routes.ts";
import { toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import {
  DATA_KEY,
  initialisedBundle,
  invokeBundle,
  isolatedCopy as isolatedCopyOf,
  ORDER_RUNNER,
  runBundle,
  startRunner,
} from "../support/bundles.ts";
import {
  createBucket,
  localS3Client,
  newEngine,
  sampleInput,
  uniqueBucketName,
} from "../support/local-s3.ts";
import { synthesize } from "../support/synth.ts";

const synthesized = synthesize();
const isolatedCopy = (module: string) => isolatedCopyOf(synthesized, module);

describe("synthesized bundles", () => {
  const modules = [HTTP_FUNCTION_MODULE, COMMANDS_MODULE, PUBLISHER_MODULE];
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
    // The publisher, on a bucket with no data yet: nothing to publish, nothing written.
    const publisher = await invokeBundle(bundle(PUBLISHER_MODULE), bucket, {});
    expect(publisher.result).toMatchObject({ published: 0 });
    expect(publisher.nodeVersion).toMatch(/^v24\./);
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

  test("the HTTP bundle answers only the API its HTTP_API_ID names: a create sent as another API's event is refused, nothing written", async () => {
    const bucket = await createBucket(localS3Client());
    const [create] = HTTP_ROUTES;
    if (create === undefined) throw new Error("no route");
    const body = JSON.stringify(sampleInput(1));
    const headers = { "content-type": "application/json" };
    const local = toApiGatewayEvent(
      { method: "POST", url: "/rapatriements", headers, body },
      create,
      {},
    );
    const event = { ...local, requestContext: { ...local.requestContext, apiId: "another-api" } };
    const { result, log } = await invokeBundle(bundle(HTTP_FUNCTION_MODULE), bucket, event);
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ status: 403, code: "API_ID_MISMATCH" });
    expect(log).toEqual([
      expect.objectContaining({ level: "error", code: "API_ID_MISMATCH", apiId: "another-api" }),
    ]);
    const { result: listed } = await runBundle(bundle(HTTP_FUNCTION_MODULE), bucket, {
      method: "GET",
      url: "/rapatriements",
    });
    expect(JSON.parse(listed.body).items).toEqual([]);
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
