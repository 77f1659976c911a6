/**
 * Test support: the commands queue on the local server's SQS API (moto
 * serves SQS beside S3), and Lambda's event source mapping played by hand —
 * receive a batch, hand it to the handler as an SQS event, delete what
 * passed, let what was handed back become visible again, until the queue is
 * empty. SQS's own redrive moves a message to the dead-letter queue after
 * its last receive, as in AWS.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Config } from "../../lambda/config.ts";
import {
  type CommandsQueue,
  createSqsClient,
  sqsCommandsQueue,
} from "../../lambda/handlers/commands-queue.ts";
import { lambdaContext } from "../../tools/local-api/api-gateway.ts";
import { localEndpoint, REGION } from "./local-s3.ts";

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
  const deadLetterUrl = await createQueue(sqs, `${name}-dlq`, {});
  const deadLetterArn = await arnOf(sqs, deadLetterUrl);
  const url = await createQueue(sqs, name, {
    VisibilityTimeout: String(visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount }),
  });
  const arn = await arnOf(sqs, url);
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

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (created.QueueUrl === undefined) throw new Error(`no URL for ${name}`);
  return created.QueueUrl;
}

async function arnOf(sqs: SQSClient, url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no ARN for ${url}`);
  return arn;
}

/** Sends each body as one message (10 per request); returns their message ids, in order. */
export async function sendMessages(
  { sqs, url }: Pick<TestQueues, "sqs" | "url">,
  bodies: readonly unknown[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += 10) {
    const chunk = bodies.slice(i, i + 10);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((body, j) => ({
          Id: String(j),
          MessageBody: typeof body === "string" ? body : JSON.stringify(body),
        })),
      }),
    );
    const byEntry = new Map((sent.Successful ?? []).map((s) => [s.Id, s.MessageId]));
    chunk.forEach((_, j) => {
      const id = byEntry.get(String(j));
      if (id === undefined) throw new Error(`message ${i + j} was not sent`);
      ids.push(id);
    });
  }
  return ids;
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

/** Up to `max` visible messages, received as the event source mapping receives them. */
export async function receive(
  queues: Pick<TestQueues, "sqs" | "url">,
  max = 10,
): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < max) {
    const got = await queues.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.url,
        MaxNumberOfMessages: Math.min(10, max - messages.length),
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    if (got.Messages === undefined || got.Messages.length === 0) break;
    messages.push(...got.Messages);
  }
  return messages;
}

/** Received messages as the SQS event Lambda hands the function. */
export function sqsEvent(arn: string, messages: readonly Message[]): SQSEvent {
  return {
    Records: messages.map(
      (m): SQSRecord => ({
        messageId: m.MessageId ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        body: m.Body ?? "",
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
          SentTimestamp: m.Attributes?.SentTimestamp ?? "0",
          SenderId: m.Attributes?.SenderId ?? "",
          ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? "0",
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? "",
        eventSource: "aws:sqs",
        eventSourceARN: arn,
        awsRegion: REGION,
      }),
    ),
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

/** What the event source mapping does with a batch's answer. */
export async function settle(
  { sqs, url }: Pick<TestQueues, "sqs" | "url">,
  messages: readonly Message[],
  response: SQSBatchResponse,
): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const passed = messages.filter((m) => !failed.has(m.MessageId ?? ""));
  const back = messages.filter((m) => failed.has(m.MessageId ?? ""));
  for (let i = 0; i < passed.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: passed
          .slice(i, i + 10)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  for (let i = 0; i < back.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: back.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle ?? "",
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** Every message in the dead-letter queue, with its attributes (received, then made visible again). */
export async function deadLetters(queues: TestQueues): Promise<Message[]> {
  const all = await receive({ sqs: queues.sqs, url: queues.deadLetterUrl }, 1000);
  for (let i = 0; i < all.length; i += 10) {
    await queues.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queues.deadLetterUrl,
        Entries: all.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle ?? "",
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return all;
}
