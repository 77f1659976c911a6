/**
 * Test support: the commands queue on the local server's SQS API (moto
 * serves SQS beside S3), and Lambda's event source mapping played by hand —
 * receive a batch, hand it to the handler as an SQS event, delete what
 * passed, let what was handed back become visible again, until the queue is
 * empty. SQS's own redrive moves a message to the dead-letter queue after
 * its last receive, as in AWS. The mapping's parts live in
 * tools/local-sqs/event-source-mapping.ts, where the benchmarks use them too.
 */
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Config } from "../../lambda/config.ts";
import {
  type CommandsQueue,
  createSqsClient,
  sqsCommandsQueue,
} from "../../lambda/handlers/commands-queue.ts";
import { lambdaContext } from "../../tools/local-api/api-gateway.ts";
import {
  createQueuePair,
  makeVisible,
  receive,
  settle,
  sqsEvent,
} from "../../tools/local-sqs/event-source-mapping.ts";
import { localEndpoint, REGION } from "./local-s3.ts";

// The event source mapping's parts, shared with the benchmarks.
export {
  receive,
  sendMessages,
  settle,
  sqsEvent,
} from "../../tools/local-sqs/event-source-mapping.ts";

export const MAX_RECEIVES = 5;

export interface TestQueues {
  sqs: SQSClient;
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
  /** What the stack gives the commands function. */
  config: Pick<Config, "region" | "credentials" | "commands">;
  /** The function's view of the queue, over the local server. */
  queue: CommandsQueue;
}

let queues = 0;

/** A commands queue and its dead-letter queue, as the stack makes them, on the local server. */
export async function commandsQueues(
  options: { maxReceiveCount?: number; visibilityTimeoutSeconds?: number } = {},
): Promise<TestQueues> {
  const maxReceiveCount = options.maxReceiveCount ?? MAX_RECEIVES;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 180;
  const config = {
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    commands: {
      maxReceiveCount,
      visibilityTimeoutSeconds,
      sqsEndpoint: localEndpoint(),
    },
  } satisfies Pick<Config, "region" | "credentials" | "commands">;
  const sqs = createSqsClient(config);
  queues += 1;
  const name = `commands-${process.pid}-${Date.now().toString(36)}-${queues}`;
  const { url, arn, deadLetterUrl, deadLetterArn } = await createQueuePair(sqs, name, {
    maxReceiveCount,
    visibilityTimeoutSeconds,
  });
  const full = {
    ...config,
    commands: {
      ...config.commands,
      queueUrl: url,
      queueArn: arn,
      deadLetterQueueUrl: deadLetterUrl,
    },
  };
  const queue = sqsCommandsQueue(full, sqs);
  if (queue === undefined) throw new Error("no queue");
  return { sqs, url, arn, deadLetterUrl, deadLetterArn, config: full, queue };
}

/** An EventBridge event as the rule delivers it to the queue: the envelope is the message body. */
export function ruleDelivery(
  detail: unknown,
  overrides: { id?: string; source?: string } = {},
): Record<string, unknown> {
  return {
    version: "0",
    id: overrides.id ?? crypto.randomUUID(),
    "detail-type": "RapatriementCommand",
    source: overrides.source ?? "interflow.rapatriements",
    account: "123456789012",
    time: new Date().toISOString(),
    region: REGION,
    resources: [],
    detail,
  };
}

type CommandsHandler = (
  event: unknown,
  context: ReturnType<typeof lambdaContext>,
) => Promise<unknown>;

export interface Delivery {
  event: SQSEvent;
  response: SQSBatchResponse;
}

/**
 * Plays the event source mapping until the queue is empty: batches of up to
 * `batchSize`, each handed to `handler`; the messages it passed are deleted,
 * those it handed back become visible again at once (the visibility timeout
 * is not waited for) and are received again, until SQS's redrive takes them.
 * `order` may reorder a batch, as a standard queue may deliver it.
 */
export async function drain(
  queues: TestQueues,
  handler: CommandsHandler,
  options: { batchSize?: number; order?: (messages: Message[]) => Message[] } = {},
): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  for (let round = 0; round < 100; round++) {
    const received = await receive(queues, options.batchSize ?? 10);
    if (received.length === 0) return deliveries;
    const messages = options.order?.(received) ?? received;
    const event = sqsEvent(queues.arn, messages);
    const response = (await handler(event, lambdaContext(`drain-${round}`))) as SQSBatchResponse;
    deliveries.push({ event, response });
    await settle(queues, messages, response);
  }
  throw new Error("the queue never emptied");
}

/** Every message in the dead-letter queue, with its attributes (received, then made visible again). */
export async function deadLetters(queues: TestQueues): Promise<Message[]> {
  const all = await receive({ sqs: queues.sqs, url: queues.deadLetterUrl }, 1000);
  await makeVisible({ sqs: queues.sqs, url: queues.deadLetterUrl }, all);
  return all;
}

/** A record shaped like SQS's, made by hand: what a direct invoker can send. */
export function forgedRecord(id: string, body: string, arn: string, senderId = "AIDAFORGED") {
  return {
    messageId: id,
    receiptHandle: `handle-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: senderId,
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: "eu-west-1",
  };
}
