/**
 * Benchmarks: a burst of commands on the queue, consumed as the event source
 * mapping would — N concurrent consumers (containers), each taking batches of
 * up to B messages, a failed message going back on the queue until its 5th
 * receive sends it to the dead letters. Measures commands per second from the
 * first batch to the empty queue, and checks that every command landed once.
 *
 * `node tools/bench/commands-burst.ts` runs it alone on its own local S3
 * server; `npm run bench` runs it at 10,000 records.
 */
// @ts-nocheck

import { Worker } from "node:worker_threads";
import { CreateBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { codecFor } from "../../lambda/storage/codecs.ts";
import { DatabaseObject, type TransactionOptions } from "../../lambda/storage/database-object.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { createDatabase } from "../../lambda/storage/schema.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import { startLocalS3 } from "../local-s3/local-s3.ts";
import type { ConsumerInput, FromConsumer, QueueMessage, ToConsumer } from "./commands-consumer.ts";
import { seed } from "./seed.ts";

const REGION = "eu-west-1";
const KEY = "rapatriements/rapatriements.db";
const MAX_RECEIVES = 5;

export interface BurstResult {
  consumers: number;
  batchSize: number;
  commands: number;
  records: number;
  seconds: number;
  commandsPerSecond: number;
  puts: number;
  conflicts: number;
  busyInvocations: number;
  timedOutInvocations: number;
  redeliveries: number;
  deadLetters: number;
  lost: number;
}

/** A data object of `records` seeded records in a new bucket; returns the bucket. */
async function seededBucket(s3: S3Client, records: number, label: string): Promise<string> {
  const bucket = `burst-${label}-${Date.now().toString(36)}`;
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  const SQL = await loadSqlJs();
  const db = createDatabase(SQL, rapatriementsSchema);
  seed(db, records);
  const bytes = codecFor("sqlite").encode(db, rapatriementsSchema);
  db.close();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: bytes }));
  return bucket;
}

export async function commandsBurst(options: {
  endpoint: string;
  consumers: number;
  batchSize: number;
  commands: number;
  records: number;
}): Promise<BurstResult> {
  const s3 = createS3Client({
    region: REGION,
    s3Endpoint: options.endpoint,
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const bucket = await seededBucket(
    s3,
    options.records,
    `${options.consumers}x${options.batchSize}`,
  );
  const queue: (QueueMessage & { receives: number })[] = Array.from(
    { length: options.commands },
    (_, i) => ({
      messageId: `m-${i}`,
      receives: 0,
      body: JSON.stringify({
        action: "create",
        idempotencyKey: `burst-${i}`,
        data: {
          reference: `BURST-${i}`,
          origin: `SITE-${i % 20}`,
          destination: `DEPOT-${i % 7}`,
          lines: [{ sku: `SKU-${i % 500}`, quantity: 1 + (i % 9) }],
        },
      }),
    }),
  );
  const byId = new Map(queue.map((m) => [m.messageId, m]));
  const totals = {
    puts: 0,
    conflicts: 0,
    busyInvocations: 0,
    timedOutInvocations: 0,
    redeliveries: 0,
    deadLetters: 0,
  };
  let inFlight = 0;
  const idle: Worker[] = [];
  const workers = Array.from(
    { length: options.consumers },
    () =>
      new Worker(new URL("./commands-consumer.ts", import.meta.url), {
        workerData: {
          endpoint: options.endpoint,
          region: REGION,
          bucket,
          key: KEY,
          timeoutMs: 30_000,
        } satisfies ConsumerInput,
      }),
  );
  let started = 0;
  const finished = new Promise<number>((resolve, reject) => {
    let ready = 0;
    const send = (worker: Worker, message: ToConsumer) => worker.postMessage(message);
    const dispatch = () => {
      while (idle.length > 0 && queue.length > 0) {
        const worker = idle.shift() as Worker;
        const messages = queue.splice(0, options.batchSize);
        for (const m of messages) m.receives += 1;
        inFlight += 1;
        send(worker, { type: "batch", messages });
      }
      if (queue.length === 0 && inFlight === 0) {
        const ended = performance.now();
        for (const worker of workers) send(worker, { type: "stop" });
        resolve(ended);
      }
    };
    for (const worker of workers) {
      worker.once("error", reject);
      worker.on("message", (message: FromConsumer) => {
        if (message.type === "ready") {
          ready += 1;
          if (ready === workers.length) {
            started = performance.now();
            idle.push(...workers);
            dispatch();
          }
        } else if (message.type === "applied") {
          inFlight -= 1;
          totals.puts += message.puts;
          totals.conflicts += message.conflicts;
          totals.busyInvocations += message.busy;
          totals.timedOutInvocations += message.timedOut;
          for (const id of message.failed) {
            const failed = byId.get(id);
            if (failed === undefined) continue;
            if (failed.receives >= MAX_RECEIVES) {
              totals.deadLetters += 1;
            } else {
              totals.redeliveries += 1;
              queue.push(failed);
            }
          }
        } else {
          idle.push(worker);
          dispatch();
        }
      });
    }
  });
  const ended = await finished;
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once("exit", resolve))));
  const seconds = (ended - started) / 1000;
  const check = new RapatriementService<TransactionOptions>({
    store: new DatabaseObject({
      s3,
      sql: await loadSqlJs(),
      schema: rapatriementsSchema,
      codec: codecFor("sqlite"),
      target: { bucket, key: KEY, region: REGION },
    }),
  });
  const after = (await check.listAll()).length;
  return {
    consumers: options.consumers,
    batchSize: options.batchSize,
    commands: options.commands,
    records: options.records,
    seconds: Math.round(seconds * 100) / 100,
    commandsPerSecond: Math.round((options.commands / seconds) * 10) / 10,
    ...totals,
    lost: options.records + options.commands - totals.deadLetters - after,
  };
}

export function describeBurst(r: BurstResult): string {
  return `${r.consumers} consumers × batches of ${r.batchSize}: ${r.commandsPerSecond} commands/s (${r.commands} in ${r.seconds} s), ${r.puts} PUTs, ${r.conflicts} conflicts, ${r.busyInvocations} busy and ${r.timedOutInvocations} timed-out batches, ${r.redeliveries} redelivered, ${r.deadLetters} dead letters, ${r.lost} lost`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = await startLocalS3({ log: (line) => console.error(line) });
  try {
    // The deployed mapping (2 × 100), one consumer, and the old mapping's
    // shape: batches of 10 and as many containers as SQS starts (8 here).
    for (const [consumers, batchSize] of [
      [2, 100],
      [1, 100],
      [8, 10],
    ] as const) {
      const result = await commandsBurst({
        endpoint: server.endpoint,
        consumers,
        batchSize,
        commands: 1000,
        records: 10_000,
      });
      console.log(describeBurst(result));
    }
  } finally {
    await server.stop();
  }
}
