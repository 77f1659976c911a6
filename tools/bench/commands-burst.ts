/**
 * Benchmarks: a burst of commands on the commands queue, consumed as the
 * event source mapping would — the real path. The queue is a real SQS queue
 * on the local server (moto serves SQS beside S3), with its dead-letter
 * queue and redrive policy as the stack makes them. The 1,000 commands are
 * sent before the clock starts; then N consumers (worker threads, each a
 * Lambda container) receive batches of up to B messages, run the real
 * commands handler on them (which has SQS confirm every record before it
 * applies it), delete what passed and make what was handed back visible
 * again at once — the visibility timeout (180 s) is not waited out, so a
 * handed-back or timed-out batch comes round sooner than in AWS. A message
 * is dead-lettered by the handler on its 5th receive, or by SQS's redrive
 * after it. Measures commands per second from the first receive to the empty
 * queue, what confirming with SQS cost the handler, and what the mapping's
 * own receives and deletes cost on the local server (moto's, far slower than
 * SQS's: read the rate beside it); checks that every command landed once or
 * waits in the dead-letter queue.
 *
 * `node tools/bench/commands-burst.ts` runs it alone on its own local server;
 * `npm run bench` runs it at 10,000 records.
 */
import { loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { CreateBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { COMMANDS_DEFAULTS } from "../../lambda/config.ts";
import { createSqsClient } from "../../lambda/handlers/commands-queue.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { DatabaseObject } from "../../lambda/storage/database-object.ts";
import { createDatabase } from "../../lambda/storage/migrations.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";
import { startLocalS3 } from "../local-s3/local-s3.ts";
import { createQueuePair, sendMessages } from "../local-sqs/event-source-mapping.ts";
import type { BatchFigures, ConsumerInput, FromConsumer, ToConsumer } from "./commands-consumer.ts";
import { seed } from "./seed.ts";
import { percentile } from "./stats.ts";

const REGION = "eu-west-1";
const KEY = "rapatriements/rapatriements.db";
const CREDENTIALS = { accessKeyId: "bench", secretAccessKey: "bench" };

export interface BurstResult {
  consumers: number;
  batchSize: number;
  commands: number;
  records: number;
  seconds: number;
  commandsPerSecond: number;
  invocations: number;
  puts: number;
  conflicts: number;
  busyInvocations: number;
  timedOutInvocations: number;
  redeliveries: number;
  deadLetters: number;
  lost: number;
  /** The handler's time confirming records with SQS, summed over its invocations. */
  confirmSeconds: number;
  /** The invocations' whole time, summed (consumers overlap: it exceeds `seconds`). */
  handlerSeconds: number;
  /** One invocation's confirmation, median. */
  confirmP50Ms: number;
  /** Records SQS did not confirm (or could not be asked about), handed back unapplied. */
  unconfirmed: number;
  /** The mapping's own SQS calls (receive, delete, visibility), summed: the local server's cost, not the function's. */
  pollSeconds: number;
  /** Messages still on the queue at the end, received and never settled (counted in `lost`). */
  leftOnQueue: number;
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

/** The create command of the burst's i-th message. */
export function burstCommand(i: number): unknown {
  return {
    action: "create",
    idempotencyKey: `burst-${i}`,
    data: {
      reference: `BURST-${i}`,
      origin: `SITE-${i % 20}`,
      destination: `DEPOT-${i % 7}`,
      lines: [{ sku: `SKU-${i % 500}`, quantity: 1 + (i % 9) }],
    },
  };
}

/**
 * When the burst is over. A consumer polls until it finds the queue empty,
 * then reports idle; a batch handed back wakes the idle ones, as the
 * mapping's pollers keep polling. Once every consumer is idle no message is
 * visible or in flight: each was last made visible by a consumer that
 * received again afterwards and found none.
 */
export class DrainTracker {
  private readonly idle = new Set<number>();
  private readonly consumers: number;

  constructor(consumers: number) {
    this.consumers = consumers;
  }

  /** After a batch: the idle consumers to wake (now counted busy), when some was handed back. */
  applied(handedBack: number): number[] {
    if (handedBack === 0) return [];
    const woken = [...this.idle];
    this.idle.clear();
    return woken;
  }

  /** After a consumer found the queue empty: whether every consumer is now idle. */
  wentIdle(consumer: number): boolean {
    this.idle.add(consumer);
    return this.idle.size === this.consumers;
  }
}

export async function commandsBurst(options: {
  endpoint: string;
  consumers: number;
  batchSize: number;
  commands: number;
  records: number;
  /** The i-th message's command (default `burstCommand`): a test sends some that can never pass. */
  command?: (i: number) => unknown;
}): Promise<BurstResult> {
  const s3 = createS3Client({
    region: REGION,
    s3Endpoint: options.endpoint,
    credentials: CREDENTIALS,
  });
  const label = `${options.consumers}x${options.batchSize}`;
  const bucket = await seededBucket(s3, options.records, label);
  const settings = { ...COMMANDS_DEFAULTS, sqsEndpoint: options.endpoint };
  const sqs = createSqsClient({ region: REGION, credentials: CREDENTIALS, commands: settings });
  const queue = await createQueuePair(sqs, `burst-${label}-${Date.now().toString(36)}`, settings);

  const workers = Array.from(
    { length: options.consumers },
    () =>
      new Worker(new URL("./commands-consumer.ts", import.meta.url), {
        workerData: {
          endpoint: options.endpoint,
          region: REGION,
          bucket,
          key: KEY,
          // The stack's commands function timeout (30 s).
          timeoutMs: 30_000,
          batchSize: options.batchSize,
          queue: { ...queue, ...COMMANDS_DEFAULTS },
        } satisfies ConsumerInput,
      }),
  );
  const send = (worker: Worker | undefined, message: ToConsumer) => worker?.postMessage(message);
  const batches: BatchFigures[] = [];
  const tracker = new DrainTracker(workers.length);
  let ready = 0;
  const warm = Promise.withResolvers<void>();
  const drained = new Promise<number>((resolve, reject) => {
    workers.forEach((worker, index) => {
      worker.once("error", reject);
      worker.on("message", (message: FromConsumer) => {
        if (message.type === "ready") {
          ready += 1;
          if (ready === workers.length) warm.resolve();
        } else if (message.type === "applied") {
          const { type: _type, ...figures } = message;
          batches.push(figures);
          for (const woken of tracker.applied(figures.handedBack)) {
            send(workers[woken], { type: "poll" });
          }
        } else if (tracker.wentIdle(index)) {
          resolve(performance.now());
        }
      });
    });
  });
  // Every container warm before the burst arrives, as after earlier traffic;
  // then the burst is on the queue before the clock starts.
  await Promise.race([warm.promise, drained]);
  const command = options.command ?? burstCommand;
  await sendMessages(
    { sqs, url: queue.url },
    Array.from({ length: options.commands }, (_, i) => command(i)),
  );
  const started = performance.now();
  for (const worker of workers) send(worker, { type: "poll" });
  const ended = await drained;
  for (const worker of workers) send(worker, { type: "stop" });
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once("exit", resolve))));
  const seconds = (ended - started) / 1000;

  const deadLetters = await messagesIn(sqs, queue.deadLetterUrl);
  const leftOnQueue = await messagesIn(sqs, queue.url);
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
  const sum = (field: keyof BatchFigures) => batches.reduce((total, b) => total + b[field], 0);
  return {
    consumers: options.consumers,
    batchSize: options.batchSize,
    commands: options.commands,
    records: options.records,
    seconds: round(seconds, 2),
    commandsPerSecond: round(options.commands / seconds, 1),
    invocations: batches.length,
    puts: sum("puts"),
    conflicts: sum("conflicts"),
    busyInvocations: sum("busy"),
    timedOutInvocations: sum("timedOut"),
    redeliveries: sum("redelivered"),
    deadLetters,
    // A command that neither landed nor waits in the dead-letter queue (one left on the queue counts too).
    lost: options.records + options.commands - deadLetters - after,
    leftOnQueue,
    confirmSeconds: round(sum("confirmMs") / 1000, 2),
    handlerSeconds: round(sum("handlerMs") / 1000, 2),
    confirmP50Ms: round(
      percentile(
        batches.map((b) => b.confirmMs),
        50,
      ),
      1,
    ),
    unconfirmed: sum("unconfirmed"),
    pollSeconds: round(sum("pollMs") / 1000, 2),
  };
}

/** Messages in a queue, visible or in flight: exact on moto (AWS's count is approximate). */
async function messagesIn(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

export function describeBurst(r: BurstResult): string {
  const share = r.handlerSeconds > 0 ? Math.round((r.confirmSeconds / r.handlerSeconds) * 100) : 0;
  const left = r.leftOnQueue > 0 ? ` (${r.leftOnQueue} still in flight on the queue)` : "";
  return (
    `${r.consumers} consumers × batches of ${r.batchSize}: ${r.commandsPerSecond} commands/s (${r.commands} in ${r.seconds} s, ${r.invocations} invocations), ` +
    `${r.puts} PUTs, ${r.conflicts} conflicts, ${r.busyInvocations} busy and ${r.timedOutInvocations} timed-out batches, ` +
    `${r.redeliveries} redelivered, ${r.deadLetters} dead letters, ${r.lost} lost${left}; ` +
    `confirming with SQS ${r.confirmSeconds} s of the handler's ${r.handlerSeconds} s (${share}%, p50 ${r.confirmP50Ms} ms a batch, ${r.unconfirmed} records unconfirmed); ` +
    `the mapping's own receives and deletes ${r.pollSeconds} s`
  );
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
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
      // The machine may be shared: each figure with the load it was measured under.
      const load = loadavg().map((l) => l.toFixed(2));
      console.log(`${describeBurst(result)} [load average ${load.join(", ")}]`);
    }
  } finally {
    await server.stop();
  }
}
