/**
 * Local tools: the commands queue and Lambda's SQS event source mapping,
 * played against the SQS API of the local server (moto serves SQS beside S3
 * at the same endpoint). Shared by the tests (test/support/commands-queue.ts)
 * and the benchmarks (tools/bench/commands-consumer.ts), so that both feed
 * the commands handler the events SQS itself would. Knows nothing of the
 * handler: what a batch's answer means is SQS's contract, not ours.
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

/** A queue on the server, as its clients address it. */
export interface QueueAddress {
  sqs: SQSClient;
  url: string;
}

export interface QueuePair {
  url: string;
  arn: string;
  deadLetterUrl: string;
  deadLetterArn: string;
}

/** SQS's batch limit: messages per ReceiveMessage, and entries per *Batch request. */
const SQS_BATCH = 10;

/**
 * A queue and its dead-letter queue as the stack makes them: the queue's
 * visibility timeout, and a redrive policy that moves a message to the
 * dead-letter queue when it would be received more than `maxReceiveCount` times.
 */
export async function createQueuePair(
  sqs: SQSClient,
  name: string,
  settings: { maxReceiveCount: number; visibilityTimeoutSeconds: number },
): Promise<QueuePair> {
  const deadLetterUrl = await createQueue(sqs, `${name}-dlq`, {});
  const deadLetterArn = await arnOf(sqs, deadLetterUrl);
  const url = await createQueue(sqs, name, {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterArn,
      maxReceiveCount: settings.maxReceiveCount,
    }),
  });
  return { url, arn: await arnOf(sqs, url), deadLetterUrl, deadLetterArn };
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
  { sqs, url }: QueueAddress,
  bodies: readonly unknown[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += SQS_BATCH) {
    const chunk = bodies.slice(i, i + SQS_BATCH);
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

/**
 * Up to `max` visible messages, received as the event source mapping gathers
 * a batch: 10 per ReceiveMessage (SQS's limit), until the batch is full or
 * the queue has none visible. No long polling: a queue found empty is empty.
 */
export async function receive(queue: QueueAddress, max = SQS_BATCH): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < max) {
    const got = await queue.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.min(SQS_BATCH, max - messages.length),
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    if (got.Messages === undefined || got.Messages.length === 0) break;
    messages.push(...got.Messages);
  }
  return messages;
}

/**
 * Received messages as the SQS event Lambda hands the function. The region
 * is the queue's, read from its ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
 */
export function sqsEvent(arn: string, messages: readonly Message[]): SQSEvent {
  const region = arn.split(":")[3] ?? "";
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
        awsRegion: region,
      }),
    ),
  };
}

/**
 * What the event source mapping does with a batch's answer: deletes the
 * messages that passed, and makes those handed back visible again at once
 * (visibility 0) rather than after the queue's visibility timeout, which
 * neither a test nor a benchmark waits out.
 */
export async function settle(
  { sqs, url }: QueueAddress,
  messages: readonly Message[],
  response: SQSBatchResponse,
): Promise<void> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const passed = messages.filter((m) => !failed.has(m.MessageId ?? ""));
  const back = messages.filter((m) => failed.has(m.MessageId ?? ""));
  for (let i = 0; i < passed.length; i += SQS_BATCH) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: passed
          .slice(i, i + SQS_BATCH)
          .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  await makeVisible({ sqs, url }, back);
}

/** Makes received messages visible again at once (ChangeMessageVisibility 0). */
export async function makeVisible(
  { sqs, url }: QueueAddress,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += SQS_BATCH) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages.slice(i, i + SQS_BATCH).map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle ?? "",
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}
