/**
 * Benchmarks: `npm run bench [-- --quick]`. Measures the product against the
 * physical floor of its design, the S3 requests themselves, in the same run,
 * against the local S3 server: warm reads against a raw 304 GET, warm writes
 * against a raw 304 GET plus a raw PUT of the same size, cold start (spawn to
 * answer) against a fresh process doing the raw GET, and 8 contending writers against the ideal
 * serial rate; at 10,000 records, a burst of 1,000 queued commands consumed
 * as the event source mapping would (commands-burst.ts); the change events'
 * publication lag (publication-lag.ts). Prints a table and writes
 * bench-results.json.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { StorageStrategy } from "../../lambda/config.ts";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { DatabaseObject } from "../../lambda/storage/database-object.ts";
import { createDatabase } from "../../lambda/storage/migrations.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";
import { LOCAL_API_ID, toApiGatewayEvent } from "../local-api/api-gateway.ts";
import { PROJECT_ROOT, startLocalS3 } from "../local-s3/local-s3.ts";
import { coldContainersBench, describeColdContainers } from "./cold-containers-bench.ts";
import { type ColdRun, coldRun, prepareColdStart } from "./cold-start.ts";
import {
  breakdownTable,
  coldBreakdown,
  describeBreakdown,
  type LabelledBreakdown,
  prepareBreakdown,
} from "./cold-start-breakdown.ts";
import { type BurstResult, commandsBurst, describeBurst } from "./commands-burst.ts";
import type { WriterInput, WriterOutput } from "./contention-worker.ts";
import { type DecodeFigures, decodeFigures, describeDecode, warmUpdates } from "./json-at-scale.ts";
import { describeLag, type LagResult, publicationLag } from "./publication-lag.ts";
import { seed } from "./seed.ts";
import { percentile, timeIt } from "./stats.ts";

interface Result {
  scenario: string;
  records: number;
  p50Ms: number;
  p95Ms: number;
  baselineP50Ms: number;
  ratio: number;
  baseline: string;
  note?: string;
}

const { values } = parseArgs({
  options: {
    quick: { type: "boolean" },
    sizes: { type: "string" },
    // A comma list of warm, events, cold, contention, commands, json: the parts to run (default all).
    only: { type: "string" },
    // The size of the json-at-scale part (default 100,000, in --quick too).
    "json-records": { type: "string" },
  },
  strict: true,
});
const quick = values.quick === true;
const sizes =
  values.sizes?.split(",").map(Number) ?? (quick ? [1000, 10000] : [1000, 10000, 100000]);
const only = new Set(
  values.only?.split(",") ?? ["warm", "events", "cold", "contention", "commands", "json"],
);
const jsonRecords = Number(values["json-records"] ?? 100_000);
const REGION = "eu-west-1";
const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const KEY = "rapatriements/rapatriements.db";

const server = await startLocalS3({ log: (line) => console.error(line) });
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
const client = (): S3Client =>
  createS3Client({ region: REGION, s3Endpoint: server.endpoint, credentials });
const SQL = await loadSqlJs();
const results: Result[] = [];
const bursts: BurstResult[] = [];
const breakdowns: LabelledBreakdown[] = [];
const decodes: DecodeFigures[] = [];
const lags: LagResult[] = [];

function engine(bucket: string, format: StorageStrategy = "sqlite") {
  const store = new DatabaseObject({
    s3: client(),
    sql: SQL,
    schema: rapatriementsSchema,
    codec: codecFor(format),
    target: { bucket, key: KEY, region: REGION },
    // The bench times operations, it does not answer callers: a slow one (json
    // at 100,000 records on a loaded machine) is measured, not cut short.
    retry: { budgetMs: 300_000 },
  });
  return { store, service: new RapatriementService<TransactionOptions>({ store }) };
}

function record(
  scenario: string,
  records: number,
  samples: number[],
  baseline: number[],
  baselineName: string,
  note?: string,
) {
  const p50 = percentile(samples, 50);
  const base = percentile(baseline, 50);
  const result: Result = {
    scenario,
    records,
    p50Ms: round(p50),
    p95Ms: round(percentile(samples, 95)),
    baselineP50Ms: round(base),
    ratio: round(p50 / base, 2),
    baseline: baselineName,
  };
  if (note !== undefined) result.note = note;
  results.push(result);
  console.error(
    `  ${scenario.padEnd(14)} p50 ${result.p50Ms} ms (baseline ${result.baselineP50Ms} ms, ×${result.ratio})`,
  );
}

/** A new bucket holding N seeded records, written by hand (not by the engine); the object's size. */
async function seedObject(
  s3: S3Client,
  sql: SqlJsStatic,
  bucket: string,
  records: number,
  format: StorageStrategy = "sqlite",
) {
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  const bytes = seededBytes(sql, records, format);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: bytes }));
  return bytes.length;
}

function seededBytes(sql: SqlJsStatic, records: number, format: StorageStrategy): Uint8Array {
  const db = createDatabase(sql, rapatriementsSchema);
  seed(db, records);
  const bytes = codecFor(format).encode(db, rapatriementsSchema);
  db.close();
  return bytes;
}

/** The environment of a cold process serving GET /rapatriements/seed-1 from `bucket`. */
function coldEnv(bucket: string, format: StorageStrategy): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${KEY}`,
    STORAGE_STRATEGY: format,
    // The function's own (--enable-source-maps), so the processes run as Lambda runs them.
    ...(cold.nodeOptions === undefined ? {} : { NODE_OPTIONS: cold.nodeOptions }),
    // Set by Lambda's runtime: the bundle starts its work at import, in the init phase.
    AWS_LAMBDA_FUNCTION_NAME: "bench-get-rapatriement",
    // As the stack sets it: the API whose events the HTTP function answers (BENCH_EVENT's).
    HTTP_API_ID: LOCAL_API_ID,
    BENCH_EVENT: JSON.stringify(
      toApiGatewayEvent({ method: "GET", url: "/rapatriements/seed-1" }, getRoute, {
        id: "seed-1",
      }),
    ),
  };
}

/** After a first write by the engine, as every object is once the product has written it. */
async function writtenByEngine(bucket: string, format: StorageStrategy) {
  await engine(bucket, format).service.update("seed-0", { comment: "written by the engine" });
}

const found = HTTP_ROUTES.find((r) => r.module === "get-rapatriement");
if (found === undefined) throw new Error("no GET /rapatriements/{id} route");
const getRoute = found;
console.error("preparing the cold-start bundles (CDK synth)…");
const cold = await prepareColdStart();
const breakdownBundles = await prepareBreakdown(cold.handlerDir);

for (const size of sizes) await measure(size, "sqlite", only);

// The json format at size (100,000 records by default, in --quick too): what
// a warm update and a cold start cost, and both formats' decode alone.
if (only.has("json")) {
  console.error(`json at ${jsonRecords} records:`);
  await measure(jsonRecords, "json", new Set(["update", "cold"]));
  for (const format of ["sqlite", "json"] as const) {
    const figures = await decodeFigures(
      format,
      jsonRecords,
      seededBytes(SQL, jsonRecords, format),
      quick ? 1 : 3,
    );
    decodes.push(figures);
    console.error(`  ${describeDecode(figures)}`);
  }
}

/**
 * Seeds a bucket with `size` records in `format` and measures the parts asked
 * for ("warm" or only its "update", "cold", "contention", "commands"), each
 * beside its raw S3 floor measured in the same run.
 */
async function measure(size: number, format: StorageStrategy, parts: ReadonlySet<string>) {
  const iterations = quick ? 20 : size >= 100_000 ? 40 : 150;
  const writeIterations = quick ? 10 : size >= 100_000 ? 15 : 60;
  const coldRuns = quick ? 3 : 7;
  const label = (scenario: string) => (format === "sqlite" ? scenario : `${scenario} (${format})`);
  const bucket = `bench-${format}-${size}-${Date.now().toString(36)}`;
  const raw = client();
  const bytes = await seedObject(raw, SQL, bucket, size, format);
  console.error(`${size} records, ${format} (${(bytes / 1e6).toFixed(2)} MB):`);

  // Raw floors, measured now, beside the figures they bound.
  const head = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
  const seeded = (await head.Body?.transformToByteArray()) ?? new Uint8Array();
  const etag = head.ETag ?? "";
  const get304 = () =>
    raw
      .send(new GetObjectCommand({ Bucket: bucket, Key: KEY, IfNoneMatch: etag }))
      .catch((error: unknown) => {
        if (
          (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 304
        )
          throw error;
      });
  const baseline304 = await timeIt(iterations, get304);
  const filler = new Uint8Array(bytes).map((_, i) => i % 251);
  const rawPut = (body: Uint8Array) =>
    raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "bench/raw-put",
        Body: body,
        ServerSideEncryption: "AES256",
      }),
    );
  const baselineWrite = await timeIt(writeIterations, async () => {
    await get304();
    await rawPut(filler);
  });

  const { service } = engine(bucket, format);
  await service.get("seed-0"); // the container's first, cold, load
  if (parts.has("warm")) {
    const ids = Array.from({ length: iterations }, (_, i) => `seed-${(i * 7919) % size}`);
    record(
      label("warm get"),
      size,
      await timeIt(iterations, (i) => service.get(ids[Math.max(0, i)] ?? "seed-0")),
      baseline304,
      "304 GET",
    );
    record(
      label("warm list"),
      size,
      await timeIt(iterations, () =>
        service.list({ status: "requested", origin: "SITE-6", limit: "20" }),
      ),
      baseline304,
      "304 GET",
    );
    let n = 0;
    record(
      label("warm create"),
      size,
      await timeIt(writeIterations, () => {
        n += 1;
        return service.create({
          reference: `NEW-${n}`,
          origin: "SITE-1",
          destination: "DEPOT-2",
          lines: [{ sku: "SKU-1", quantity: 1 }],
        });
      }),
      baselineWrite,
      "304 GET + PUT",
    );
  }
  if (parts.has("warm") || parts.has("update")) {
    record(
      label("warm update"),
      size,
      await warmUpdates(service, size, writeIterations),
      baselineWrite,
      "304 GET + PUT",
    );
  }

  if (parts.has("events")) {
    const lag = await publicationLag({
      endpoint: server.endpoint,
      region: REGION,
      bucket,
      key: KEY,
      records: size,
      writes: writeIterations * 3,
      writer: service,
      publisher: { ...engine(bucket, format), s3: client() },
    });
    lags.push(lag);
    console.error(`  events         ${describeLag(lag)}`);
  }

  if (parts.has("cold")) {
    // Cold start: a new process, the deployed bundle, the first request, on
    // an object the engine wrote (as every object is once the product runs).
    await writtenByEngine(bucket, format);
    const env = coldEnv(bucket, format);
    // sql.js's floor reads the SQLite file: the sqlite format only.
    const floor = format === "sqlite";
    // One untimed run each (the OS's file cache), then all alternated.
    await coldRun(cold.handlerDir, env);
    await coldRun(cold.rawDir, env);
    if (floor) await coldRun(cold.floorDir, env);
    const coldHandler: ColdRun[] = [];
    const coldRaw: ColdRun[] = [];
    const coldFloor: ColdRun[] = [];
    for (let i = 0; i < coldRuns; i++) {
      coldHandler.push(await coldRun(cold.handlerDir, env));
      coldRaw.push(await coldRun(cold.rawDir, env));
      if (floor) coldFloor.push(await coldRun(cold.floorDir, env));
    }
    const answered = (runs: ColdRun[]) => runs.map((r) => r.answered);
    const median = (samples: number[]) => percentile(samples, 50);
    const toExit = (runs: ColdRun[]) => round(median(runs.map((r) => r.exited)));
    record(
      label("cold start"),
      size,
      answered(coldHandler),
      answered(coldRaw),
      "fresh process, raw GET",
      `spawn to answer; spawn to exit p50 ${toExit(coldHandler)} ms (raw GET ${toExit(coldRaw)} ms)`,
    );
    if (floor) {
      const over = round(median(answered(coldHandler)) - median(answered(coldFloor)));
      record(
        label("cold floor"),
        size,
        answered(coldFloor),
        answered(coldRaw),
        "fresh process, raw GET",
        `the raw GET plus sql.js alone (compile, open, the record's query): the design's floor; the product's cold start is ${over} ms over it`,
      );
    }
    const breakdown = await coldBreakdown(breakdownBundles, env, coldRuns);
    breakdowns.push({ records: size, format, ...breakdown });
    console.error(`  ${describeBreakdown(breakdowns.at(-1))}`);
  }

  if (parts.has("contention")) {
    // The honest floor of a contended write: after another writer's commit a
    // writer must download the object whole, decode it, encode its change and
    // PUT it — not get a 304. Measured on the same bytes.
    const floorDb = codecFor(format).decode(seeded, SQL, rapatriementsSchema);
    const baselineFloor = await timeIt(writeIterations, async () => {
      const full = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
      await full.Body?.transformToByteArray();
      await rawPut(codecFor(format).encode(floorDb, rapatriementsSchema));
    });
    floorDb.close();
    await contention(size, bucket, format, baselineWrite, baselineFloor);
  }

  // A burst of 1,000 commands on the queue: the deployed event source mapping
  // (2 consumers, batches of up to 100) against the old shape (batches of 10,
  // as many containers as SQS starts: 8 here; about 3 minutes, so not in --quick).
  if (parts.has("commands") && size === 10_000) {
    const shapes: [number, number][] = quick
      ? [[2, 100]]
      : [
          [2, 100],
          [8, 10],
        ];
    for (const [consumers, batchSize] of shapes) {
      const burst = await commandsBurst({
        endpoint: server.endpoint,
        consumers,
        batchSize,
        commands: 1000,
        records: size,
      });
      bursts.push(burst);
      console.error(`  commands       ${describeBurst(burst)}`);
    }
  }
}

/**
 * Contention: 8 independent writers (8 containers: a thread, a client, a
 * cache each), 25 creates each, one at a time, all starting together; their
 * rate against the ideal (304 GET + PUT) and against the honest floor.
 */
async function contention(
  size: number,
  bucket: string,
  format: StorageStrategy,
  baselineWrite: number[],
  baselineFloor: number[],
) {
  const before = (await engine(bucket, format).service.listAll()).length;
  const workers = Array.from(
    { length: 8 },
    (_, writer) =>
      new Worker(new URL("./contention-worker.ts", import.meta.url), {
        workerData: {
          endpoint: server.endpoint,
          region: REGION,
          bucket,
          key: KEY,
          writer,
          creates: 25,
        } satisfies WriterInput,
      }),
  );
  const outputs = workers.map(
    (worker) =>
      new Promise<WriterOutput>((resolve, reject) => {
        worker.once("message", (output: WriterOutput) => {
          resolve(output);
          void worker.terminate();
        });
        worker.once("error", reject);
      }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500)); // every writer warm and waiting
  const started = performance.now();
  for (const worker of workers) worker.postMessage("start");
  const done = await Promise.all(outputs);
  const seconds = (performance.now() - started) / 1000;
  const after = (await engine(bucket, format).service.listAll()).length;
  const latencies = done.flatMap((o) => o.latencies);
  const attempts = done.reduce((sum, o) => sum + o.attempts, 0);
  const conflicts = done.reduce((sum, o) => sum + o.conflicts, 0);
  const busy = done.reduce((sum, o) => sum + o.busy, 0);
  const throughput = 200 / seconds;
  const lost = before + 200 - after;
  const rates: [string, number[], string][] = [
    ["contention", baselineWrite, "ideal serial rate 1 / (304 GET + PUT)"],
    ["contention (floor)", baselineFloor, "honest floor 1 / (GET + encode + PUT)"],
  ];
  for (const [scenario, baseline, name] of rates) {
    const serial = percentile(baseline, 50);
    const rate = 1000 / serial;
    results.push({
      scenario,
      records: size,
      p50Ms: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      baselineP50Ms: round(serial),
      ratio: round(throughput / rate, 2),
      baseline: name,
      note: `${round(throughput, 1)} creates/s vs ${round(rate, 1)}/s; ${attempts} PUT attempts for 200 creates, ${conflicts} conflicts (412), ${busy} answered 503 and retried, ${lost} lost`,
    });
    console.error(
      `  ${scenario.padEnd(19)} ${round(throughput, 1)}/s vs ${round(rate, 1)}/s (×${round(throughput / rate, 2)}), ${conflicts} conflicts, ${lost} lost`,
    );
  }
}

// Which containers are cold: five functions vs one, modelled with this run's costs.
const coldContainers = await coldContainersBench({
  results,
  quick,
  engine,
  seedObject: (bucket, records) => seedObject(client(), SQL, bucket, records),
});

await server.stop();

const header = ["scenario", "records", "p50 ms", "p95 ms", "baseline p50", "ratio", "baseline"];
const rows = results.map((r) => [
  r.scenario,
  String(r.records),
  String(r.p50Ms),
  String(r.p95Ms),
  String(r.baselineP50Ms),
  String(r.ratio),
  r.baseline,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
for (const r of results.filter((r) => r.note !== undefined))
  console.log(`${r.scenario} @ ${r.records}: ${r.note}`);
console.log(
  "ratio: p50 / baseline p50 (for contention: throughput / the serial rate its baseline allows)",
);
for (const burst of bursts)
  console.log(`commands burst @ ${burst.records}: ${describeBurst(burst)}`);
for (const lag of lags) console.log(`change events @ ${lag.records}: ${describeLag(lag)}`);
if (breakdowns.length > 0) {
  console.log(
    "\ncold start, median ms (phases of the deployed bundle; steps alone, one after the other):",
  );
  for (const text of breakdownTable(breakdowns)) console.log(text);
}
for (const figures of decodes) console.log(describeDecode(figures));
for (const text of describeColdContainers(coldContainers)) console.log(text);
const loadAverage = { start: loadAtStart, end: loadavg().map((l) => round(l, 2)) };
console.log(
  `load average (1, 5, 15 min): ${loadAverage.start.join(", ")} at the start, ${loadAverage.end.join(", ")} at the end`,
);
writeFileSync(
  join(PROJECT_ROOT, "bench-results.json"),
  `${JSON.stringify({ quick, date: new Date().toISOString(), loadAverage, results, coldStartBreakdown: breakdowns, decode: decodes, coldContainers, commandsBurst: bursts, publicationLag: lags }, null, 2)}\n`,
);
console.log("written: bench-results.json");

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
