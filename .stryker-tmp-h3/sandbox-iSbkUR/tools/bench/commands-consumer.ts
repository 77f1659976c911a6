/**
 * Benchmarks: one consumer of the commands queue, in a thread of its own with
 * its own S3 client, sql.js instance and cache — one Lambda container of the
 * commands function. It asks for a batch, runs the real commands handler on
 * it as an SQS event, and reports which messages failed.
 */
// @ts-nocheck

import { parentPort, workerData } from "node:worker_threads";
import type { SQSEvent } from "aws-lambda";
import { createCommandsHandler } from "../../lambda/handlers/apply-commands.ts";
import { lambdaContext } from "../local-api/api-gateway.ts";
import { warmContainer } from "./container.ts";

export interface ConsumerInput {
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
  /** The commands function's timeout, as the deadline of each invocation. */
  timeoutMs: number;
}

export interface QueueMessage {
  messageId: string;
  body: string;
}

export type ToConsumer = { type: "batch"; messages: QueueMessage[] } | { type: "stop" };
export type FromConsumer =
  | { type: "ready" }
  | { type: "want" }
  | {
      type: "applied";
      failed: string[];
      puts: number;
      conflicts: number;
      busy: number;
      timedOut: number;
    };

const input = workerData as ConsumerInput;
const { store, service } = await warmContainer(input);
let lastLine: Record<string, unknown> = {};
const handler = createCommandsHandler({
  dependencies: async () => ({ service, store }),
  log: (line) => {
    lastLine = line;
  },
});

const post = (message: FromConsumer) => parentPort?.postMessage(message);
let invocation = 0;
parentPort?.on("message", async (message: ToConsumer) => {
  if (message.type === "stop") {
    parentPort?.close();
    return;
  }
  invocation += 1;
  const event = {
    Records: message.messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.messageId,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "bench",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:commands",
      awsRegion: input.region,
    })),
  } satisfies SQSEvent;
  let result: { batchItemFailures: { itemIdentifier: string }[] };
  let timedOut = 0;
  try {
    result = (await handler(event, lambdaContext(`bench-${invocation}`, input.timeoutMs))) as {
      batchItemFailures: { itemIdentifier: string }[];
    };
  } catch {
    // A timed-out invocation: Lambda returns the whole batch to the queue.
    timedOut = 1;
    result = { batchItemFailures: message.messages.map((m) => ({ itemIdentifier: m.messageId })) };
  }
  const calls = ((lastLine.s3 as { calls?: string[] } | undefined)?.calls ?? []).filter((c) =>
    c.startsWith("PutObject"),
  );
  post({
    type: "applied",
    failed: result.batchItemFailures.map((f) => f.itemIdentifier),
    puts: calls.length,
    conflicts: calls.filter((c) => /^PutObject (412|409) /.test(c)).length,
    busy: lastLine.code === "STORAGE_BUSY" ? 1 : 0,
    timedOut,
  });
  post({ type: "want" });
});
post({ type: "ready" });
