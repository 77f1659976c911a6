/**
 * Entry adapters: the commands queue as the commands function sees it. SQS
 * confirms that each record it was handed is a message in flight on the
 * stack's queue, so that the record's `SenderId`, `SentTimestamp` and body are
 * SQS's word and not the invoker's (anyone who may invoke the function can
 * send it an event shaped like an SQS batch); and the dead-letter queue keeps
 * the commands that can never pass, body intact and reason attached, for an
 * operator to read, fix and send back (`npx rapatriements dead-letters`).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { Config } from "../config.ts";
import type { Rule, Text } from "../messages/keys.ts";
import { serviceClientOptions } from "./aws-clients.ts";

/** An EventBridge event, as the rule delivers it in a message's body (the command is its `detail`). */
export interface EventBridgeEnvelope {
  id: string;
  source: string;
  "detail-type": string;
  detail: unknown;
}

/**
 * Whether `value` has an EventBridge event's shape. Shape alone proves
 * nothing about who sent it: the commands function believes it only in a
 * message of its queue, which only the EventBridge rule may send to.
 */
export function isEventBridgeEnvelope(value: unknown): value is EventBridgeEnvelope {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    typeof e.source === "string" &&
    typeof e["detail-type"] === "string" &&
    "detail" in e
  );
}

/** Why a command was dead-lettered, as its message attributes say it. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  errors?: unknown;
}

/**
 * The keys of a refusal's words (its message and each field's rule), for a
 * reader who says them in another language: the CLI speaks French.
 */
export interface RefusalKeys {
  text: Text;
  /** Each field error's rule, in the order of the refusal's `errors`. */
  rules: Rule[];
}

export interface DeadLetter {
  record: SQSRecord;
  /** Who the command would have been recorded as coming from. */
  author: string;
  reason: Refusal;
  keys?: RefusalKeys;
}

/**
 * The message attributes of a dead-lettered command (at most 10, SQS's
 * limit). The CLI reads them back: keep the names stable.
 */
export const DEAD_LETTER_ATTRIBUTES = {
  code: "rapatriements-code",
  status: "rapatriements-status",
  reason: "rapatriements-reason",
  errors: "rapatriements-errors",
  /** The reason's and the kept field errors' keys (RefusalKeys), as JSON. */
  keys: "rapatriements-keys",
  messageId: "rapatriements-message-id",
  author: "rapatriements-author",
  sentAt: "rapatriements-sent-at",
  receiveCount: "rapatriements-receive-count",
  deadLetteredAt: "rapatriements-dead-lettered-at",
} as const;

/** The field errors kept in an attribute, at most: the rest are counted, not listed. */
const MAX_ERRORS_ATTRIBUTE_BYTES = 4096;

export interface CommandsQueue {
  /** The queue's ARN: SQS's `eventSourceARN` on each of its records. */
  readonly arn: string;
  /** Deliveries of a message before SQS moves it to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /**
   * The message ids of `records` that SQS confirms are in flight on this
   * queue, their visibility renewed to the queue's timeout. Throws when SQS
   * cannot be asked (nothing is then known of any record).
   */
  confirm(records: readonly SQSRecord[], abortSignal?: AbortSignal): Promise<Set<string>>;
  /** Sends each to the dead-letter queue; the message ids that are now kept there. */
  deadLetter(letters: readonly DeadLetter[], abortSignal?: AbortSignal): Promise<Set<string>>;
}

/** The queue of `config`, or undefined when the function was given none (not deployed by the stack). */
export function sqsCommandsQueue(
  config: Pick<Config, "region" | "credentials" | "commands">,
  client: SQSClient = createSqsClient(config),
): CommandsQueue | undefined {
  const { queueUrl, queueArn, deadLetterQueueUrl, maxReceiveCount, visibilityTimeoutSeconds } =
    config.commands;
  if (queueUrl === undefined || queueArn === undefined) return undefined;
  return {
    arn: queueArn,
    maxReceiveCount,
    async confirm(records, abortSignal) {
      const ours = records.filter((r) => r.eventSourceARN === queueArn);
      const confirmed = new Set<string>();
      const chunks: SQSRecord[][] = [];
      for (let i = 0; i < ours.length; i += 10) chunks.push(ours.slice(i, i + 10));
      // One request per ten records (SQS's batch limit), all at once.
      await Promise.all(
        chunks.map(async (chunk) => {
          const answer = await client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: queueUrl,
              Entries: chunk.map((record, i) => ({
                Id: String(i),
                ReceiptHandle: record.receiptHandle,
                VisibilityTimeout: visibilityTimeoutSeconds,
              })),
            }),
            abortSignal === undefined ? {} : { abortSignal },
          );
          for (const entry of answer.Successful ?? []) {
            const record = chunk[Number(entry.Id)];
            if (record !== undefined) confirmed.add(record.messageId);
          }
        }),
      );
      return confirmed;
    },
    async deadLetter(letters, abortSignal) {
      const kept = new Set<string>();
      if (deadLetterQueueUrl === undefined) return kept;
      // One message each: a batch's 256 KiB would be shared by ten bodies.
      await Promise.all(
        letters.map(async (letter) => {
          const { record } = letter;
          try {
            await client.send(
              new SendMessageCommand({
                QueueUrl: deadLetterQueueUrl,
                MessageBody: record.body,
                MessageAttributes: deadLetterAttributes(letter),
              }),
              abortSignal === undefined ? {} : { abortSignal },
            );
            kept.add(record.messageId);
          } catch {
            // Not kept: the message stays on the queue (handed back), and SQS
            // moves it to the dead-letter queue itself after its last receive.
          }
        }),
      );
      return kept;
    },
  };
}

function deadLetterAttributes({
  record,
  author,
  reason,
  keys,
}: DeadLetter): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({
    DataType: "String",
    StringValue: value,
  });
  const number = (value: number | string): MessageAttributeValue => ({
    DataType: "Number",
    StringValue: String(value),
  });
  const names = DEAD_LETTER_ATTRIBUTES;
  const attributes: Record<string, MessageAttributeValue> = {
    [names.code]: text(reason.code),
    [names.status]: number(reason.status),
    [names.reason]: text(reason.message),
    [names.messageId]: text(record.messageId),
    [names.author]: text(author),
    [names.receiveCount]: number(record.attributes.ApproximateReceiveCount),
    [names.deadLetteredAt]: text(new Date().toISOString()),
  };
  const sentAt = Number(record.attributes.SentTimestamp);
  if (Number.isFinite(sentAt)) attributes[names.sentAt] = text(new Date(sentAt).toISOString());
  let kept = 0;
  if (Array.isArray(reason.errors) && reason.errors.length > 0) {
    const errors = boundedErrors(reason.errors);
    kept = (JSON.parse(errors) as { errors: unknown[] }).errors.length;
    attributes[names.errors] = text(errors);
  }
  if (keys !== undefined) {
    attributes[names.keys] = text(JSON.stringify({ ...keys, rules: keys.rules.slice(0, kept) }));
  }
  return attributes;
}

/**
 * The field errors as JSON, the first ones that fit in the attribute's
 * budget, the rest counted (`more`). One pass: a command of 500 lines can
 * carry over a thousand errors.
 */
export function boundedErrors(
  errors: readonly unknown[],
  maxBytes: number = MAX_ERRORS_ATTRIBUTE_BYTES,
): string {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");
  // With none kept, `more` has the most digits it can have: kept ones only shorten it.
  let bytes = size({ errors: [], more: errors.length });
  let kept = 0;
  for (const error of errors) {
    const added = size(error) + (kept > 0 ? 1 : 0);
    if (bytes + added > maxBytes) break;
    bytes += added;
    kept += 1;
  }
  return JSON.stringify({ errors: errors.slice(0, kept), more: errors.length - kept });
}

/** An SQS client with the same bounds on a stuck request as the S3 client's. */
export function createSqsClient(
  config: Pick<Config, "region" | "credentials" | "commands">,
  overrides: SQSClientConfig = {},
): SQSClient {
  const options = serviceClientOptions(config, config.commands.sqsEndpoint);
  return new SQSClient({ ...options, ...overrides });
}
