/**
 * Benchmarks: `npm run bench [-- --quick]`. Measures the product against the
 * physical floor of its design, the S3 requests themselves, in the same run,
 * against the local S3 server: warm reads against a raw 304 GET, warm writes
 * against a raw 304 GET plus a raw PUT of the same size, cold start against a
 * fresh process doing the raw GET, and 8 contending writers against the ideal
 * serial rate; at 10,000 records, a burst of 1,000 queued commands consumed
 * as the event source mapping would (commands-burst.ts). Prints a table and
 * writes bench-results.json.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { codecFor } from "../../lambda/storage/codecs.ts";
import { DatabaseObject, type TransactionOptions } from "../../lambda/storage/database-object.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { createDatabase } from "../../lambda/storage/schema.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import { toApiGatewayEvent } from "../local-api/api-gateway.ts";
import { PROJECT_ROOT, startLocalS3 } from "../local-s3/local-s3.ts";
import { coldContainersBench, describeColdContainers } from "./cold-containers-bench.ts";
import { coldRun, prepareColdStart } from "./cold-start.ts";
import { type BurstResult, commandsBurst, describeBurst } from "./commands-burst.ts";
import type { WriterInput, WriterOutput } from "./contention-worker.ts";
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
  options: { quick: { type: "boolean" }, sizes: { type: "string" } },
  strict: true,
});
const quick = values.quick === true;
const sizes =
  values.sizes?.split(",").map(Number) ?? (quick ? [1000, 10000] : [1000, 10000, 100000]);
const REGION = "eu-west-1";
const KEY = "rapatriements/rapatriements.db";

const server = await startLocalS3({ log: (line) => console.error(line) });
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
const client = (): S3Client =>
  createS3Client({ region: REGION, s3Endpoint: server.endpoint, credentials });
const SQL = await loadSqlJs();
const results: Result[] = [];
const bursts: BurstResult[] = [];

function engine(bucket: string) {
  const store = new DatabaseObject({
    s3: client(),
    sql: SQL,
    schema: rapatriementsSchema,
    codec: codecFor("sqlite"),
    target: { bucket, key: KEY, region: REGION },
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

async function seedObject(s3: S3Client, sql: SqlJsStatic, bucket: string, records: number) {
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  const db = createDatabase(sql, rapatriementsSchema);
  seed(db, records);
  const bytes = codecFor("sqlite").encode(db, rapatriementsSchema);
  db.close();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: bytes }));
  return bytes.length;
}

const getRoute = HTTP_ROUTES.find((r) => r.module === "get-rapatriement");
if (getRoute === undefined) throw new Error("no GET /rapatriements/{id} route");
console.error("preparing the cold-start bundles (CDK synth)…");
const cold = await prepareColdStart();

for (const size of sizes) {
  const iterations = quick ? 20 : size >= 100_000 ? 40 : 150;
  const writeIterations = quick ? 10 : size >= 100_000 ? 15 : 60;
  const coldRuns = quick ? 3 : 7;
  const bucket = `bench-${size}-${Date.now().toString(36)}`;
  const raw = client();
  const bytes = await seedObject(raw, SQL, bucket, size);
  console.error(`${size} records (${(bytes / 1e6).toFixed(2)} MB):`);

  // Raw floors, measured now, beside the figures they bound.
  const head = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: KEY }));
  await head.Body?.transformToByteArray();
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
  const baselineWrite = await timeIt(writeIterations, async () => {
    await get304();
    await raw.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "bench/raw-put",
        Body: filler,
        ServerSideEncryption: "AES256",
      }),
    );
  });

  const { service } = engine(bucket);
  await service.get("seed-0"); // the container's first, cold, load
  const ids = Array.from({ length: iterations }, (_, i) => `seed-${(i * 7919) % size}`);
  record(
    "warm get",
    size,
    await timeIt(iterations, (i) => service.get(ids[Math.max(0, i)] ?? "seed-0")),
    baseline304,
    "304 GET",
  );
  record(
    "warm list",
    size,
    await timeIt(iterations, () =>
      service.list({ status: "requested", origin: "SITE-6", limit: "20" }),
    ),
    baseline304,
    "304 GET",
  );
  let n = 0;
  record(
    "warm create",
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
  record(
    "warm update",
    size,
    // Records seed-0, seed-5, … are drafts, never final: any of them can change.
    await timeIt(writeIterations, (i) =>
      service.update(`seed-${((Math.abs(i) * 104_729) % (size / 5)) * 5}`, {
        comment: `note ${i}`,
      }),
    ),
    baselineWrite,
    "304 GET + PUT",
  );

  // Cold start: a new process, the deployed bundle, the first request.
  const env = {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_S3: server.endpoint,
    AWS_ACCESS_KEY_ID: "bench",
    AWS_SECRET_ACCESS_KEY: "bench",
    S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${KEY}`,
    BENCH_EVENT: JSON.stringify(
      toApiGatewayEvent({ method: "GET", url: "/rapatriements/seed-1" }, getRoute, {
        id: "seed-1",
      }),
    ),
  };
  const coldHandler = await timeIt(coldRuns, () => coldRun(cold.handlerDir, env), 1);
  const coldRaw = await timeIt(coldRuns, () => coldRun(cold.rawDir, env), 1);
  record("cold start", size, coldHandler, coldRaw, "fresh process, raw GET");

  // Contention: 8 independent writers (8 containers: a thread, a client, a cache
  // each), 25 creates each, one at a time, all starting together.
  const before = (await engine(bucket).service.listAll()).length;
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
  const after = (await engine(bucket).service.listAll()).length;
  const latencies = done.flatMap((o) => o.latencies);
  const attempts = done.reduce((sum, o) => sum + o.attempts, 0);
  const conflicts = done.reduce((sum, o) => sum + o.conflicts, 0);
  const busy = done.reduce((sum, o) => sum + o.busy, 0);
  const throughput = 200 / seconds;
  const serial = percentile(baselineWrite, 50);
  const idealRate = 1000 / serial;
  const lost = before + 200 - after;
  results.push({
    scenario: "contention",
    records: size,
    p50Ms: round(percentile(latencies, 50)),
    p95Ms: round(percentile(latencies, 95)),
    baselineP50Ms: round(serial),
    ratio: round(throughput / idealRate, 2),
    baseline: "ideal serial rate 1 / (304 GET + PUT)",
    note: `${round(throughput, 1)} creates/s vs ideal ${round(idealRate, 1)}/s; ${attempts} PUT attempts for 200 creates, ${conflicts} conflicts (412), ${busy} answered 503 and retried, ${lost} lost`,
  });
  console.error(
    `  contention     ${round(throughput, 1)}/s vs ideal ${round(idealRate, 1)}/s, ${conflicts} conflicts, ${lost} lost`,
  );

  // A burst of 1,000 commands on the queue: the deployed event source mapping
  // (2 consumers, batches of up to 100) against the old shape (batches of 10,
  // as many containers as SQS starts: 8 here; about 3 minutes, so not in --quick).
  if (size === 10_000) {
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
console.log("ratio: p50 / baseline p50 (for contention: throughput / ideal serial rate)");
for (const burst of bursts)
  console.log(`commands burst @ ${burst.records}: ${describeBurst(burst)}`);
for (const text of describeColdContainers(coldContainers)) console.log(text);
writeFileSync(
  join(PROJECT_ROOT, "bench-results.json"),
  `${JSON.stringify({ quick, date: new Date().toISOString(), results, commandsBurst: bursts, coldContainers }, null, 2)}\n`,
);
console.log("written: bench-results.json");

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
