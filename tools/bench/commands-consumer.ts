/**
 * Benchmarks: one consumer of the commands queue, in a thread of its own —
 * one Lambda container of the commands function (its own S3 client, sql.js
 * instance and cache, and its own SQS client for the real `CommandsQueue`)
 * together with the event source mapping's poller that feeds it. Told to
 * poll, it receives batches from the real queue on the local server, hands
 * each to the real commands handler as the SQS event Lambda would build,
 * deletes what passed and makes what was handed back visible again, until it
 * finds the queue empty; it reports each batch's figures and then that it is idle.
 */
import { parentPort, workerData } from "node:worker_threads";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { SQSBatchResponse } from "aws-lambda";
import type { Config } from "../../lambda/config.ts";
import { createCommandsHandler } from "../../lambda/handlers/apply-commands.ts";
import {
  type CommandsQueue,
  createSqsClient,
  sqsCommandsQueue,
} from "../../lambda/handlers/commands-queue.ts";
import { lambdaContext } from "../local-api/api-gateway.ts";
import { receive, settle, sqsEvent } from "../local-sqs/event-source-mapping.ts";
import { type ContainerTarget, warmContainer } from "./container.ts";

export interface ConsumerInput extends ContainerTarget {
  /** The commands function's timeout, as the deadline of each invocation. */
  timeoutMs: number;
  /** Messages per invocation, at most (the mapping's batch size). */
  batchSize: number;
  queue: {
    url: string;
    arn: string;
    deadLetterUrl: string;
    maxReceiveCount: number;
    visibilityTimeoutSeconds: number;
  };
}

/** What one invocation cost and what became of its batch. */
export interface BatchFigures {
  records: number;
  puts: number;
  conflicts: number;
  busy: number;
  timedOut: number;
  /** Records SQS had delivered before (ApproximateReceiveCount above 1). */
  redelivered: number;
  /** Records handed back to the queue, to be received again. */
  handedBack: number;
  /** Time the handler spent confirming its records with SQS (ChangeMessageVisibilityBatch). */
  confirmMs: number;
  /** Records SQS did not confirm (or could not be asked about): handed back unapplied. */
  unconfirmed: number;
  /** The whole invocation, as the mapping waits for it. */
  handlerMs: number;
  /** The mapping's own SQS calls for the batch: its receives, deletes and visibility changes. */
  pollMs: number;
}

export type ToConsumer = { type: "poll" } | { type: "stop" };
export type FromConsumer =
  | { type: "ready" }
  | ({ type: "applied" } & BatchFigures)
  | { type: "idle" };

const input = workerData as ConsumerInput;
const { store, service } = await warmContainer(input);
const config = {
  region: input.region,
  credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  commands: {
    queueUrl: input.queue.url,
    queueArn: input.queue.arn,
    deadLetterQueueUrl: input.queue.deadLetterUrl,
    maxReceiveCount: input.queue.maxReceiveCount,
    visibilityTimeoutSeconds: input.queue.visibilityTimeoutSeconds,
    sqsEndpoint: input.endpoint,
  },
} satisfies Pick<Config, "region" | "credentials" | "commands">;
const queue = sqsCommandsQueue(config, createSqsClient(config));
if (queue === undefined) throw new Error("the consumer was given no commands queue");
// In AWS the mapping's pollers are not the function's container: a client
// each. The poller's client waits far longer than the function's 5 s: moto's
// ReceiveMessage scans the whole queue for each message it returns (1,000
// messages: about a second a call on this machine), and one thread serves
// S3 and SQS alike; a receive the client gave up on would still have put its
// messages in flight on the server, out of sight for the 180 s visibility
// timeout, and the bench would count them lost. No retry either, for the
// same reason: a poll that fails stops the bench rather than hide messages.
const poller = {
  sqs: createSqsClient(config, {
    requestHandler: new NodeHttpHandler({ connectionTimeout: 10_000, requestTimeout: 300_000 }),
    maxAttempts: 1,
  }),
  url: input.queue.url,
};

let confirmMs = 0;
let unconfirmed = 0;
/**
 * The real queue, its confirmation timed and counted: what SQS's word costs
 * each batch, and the records it did not give (handed back, not applied).
 */
const timedQueue: CommandsQueue = {
  arn: queue.arn,
  maxReceiveCount: queue.maxReceiveCount,
  async confirm(records, abortSignal) {
    const started = performance.now();
    let confirmed = 0;
    try {
      const ids = await queue.confirm(records, abortSignal);
      confirmed = ids.size;
      return ids;
    } finally {
      confirmMs += performance.now() - started;
      unconfirmed += records.length - confirmed;
    }
  },
  deadLetter: (letters, abortSignal) => queue.deadLetter(letters, abortSignal),
};

let lastLine: Record<string, unknown> = {};
const handler = createCommandsHandler({
  dependencies: async () => ({ service, store }),
  log: (line) => {
    lastLine = line;
  },
  commandsQueue: timedQueue,
});

const post = (message: FromConsumer) => parentPort?.postMessage(message);
let invocation = 0;
let polling = false;

/** Batches until the queue has none visible, as the mapping's poller takes them. */
async function consume(): Promise<void> {
  for (;;) {
    const polled = performance.now();
    const messages = await receive(poller, input.batchSize);
    const receiveMs = performance.now() - polled;
    if (messages.length === 0) return;
    invocation += 1;
    confirmMs = 0;
    unconfirmed = 0;
    const started = performance.now();
    let response: SQSBatchResponse;
    let timedOut = 0;
    try {
      response = (await handler(
        sqsEvent(input.queue.arn, messages),
        lambdaContext(`bench-${invocation}`, input.timeoutMs),
      )) as SQSBatchResponse;
    } catch {
      // A failed (timed-out) invocation: Lambda leaves the whole batch on the
      // queue, to reappear after the visibility timeout; `settle` makes it
      // visible at once, since the bench does not wait 180 s.
      timedOut = 1;
      response = {
        batchItemFailures: messages.map((m) => ({ itemIdentifier: m.MessageId ?? "" })),
      };
    }
    const handlerMs = performance.now() - started;
    const settling = performance.now();
    await settle(poller, messages, response);
    const pollMs = receiveMs + performance.now() - settling;
    const calls = ((lastLine.s3 as { calls?: string[] } | undefined)?.calls ?? []).filter((c) =>
      c.startsWith("PutObject"),
    );
    post({
      type: "applied",
      records: messages.length,
      puts: calls.length,
      conflicts: calls.filter((c) => /^PutObject (412|409) /.test(c)).length,
      busy: lastLine.code === "STORAGE_BUSY" ? 1 : 0,
      timedOut,
      redelivered: messages.filter((m) => Number(m.Attributes?.ApproximateReceiveCount) > 1).length,
      handedBack: response.batchItemFailures.length,
      confirmMs,
      unconfirmed,
      handlerMs,
      pollMs,
    });
  }
}

parentPort?.on("message", (message: ToConsumer) => {
  if (message.type === "stop") {
    parentPort?.close();
    return;
  }
  // A poll while already polling changes nothing: the loop runs until it finds the queue empty.
  if (polling) return;
  polling = true;
  // A failure of SQS itself (a refusal is answered by the handler, not
  // thrown) is left unhandled: it ends the thread, and the coordinator stops.
  void consume().then(() => {
    polling = false;
    post({ type: "idle" });
  });
});
post({ type: "ready" });
