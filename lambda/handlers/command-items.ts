/**
 * Entry adapter: the commands function's event read as items, one per
 * command — from an SQS batch (only the records SQS confirms, in the order
 * their messages were sent), an EventBridge event, or a direct invocation —
 * each with its receipt key and its author, as AWS vouches for it.
 */
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { fieldError, UnconfirmedMessageError, ValidationError } from "../errors.ts";
import type { Actor } from "../rapatriements/model.ts";
import { receiptKey } from "../rapatriements/receipts.ts";
import {
  type CommandsQueue,
  type EventBridgeEnvelope,
  isEventBridgeEnvelope,
} from "./commands-queue.ts";
import { jsonErrorPosition } from "./json-error.ts";

/** How the commands came: an SQS batch, an EventBridge event, or a direct invocation. */
export type Channel = "sqs" | "eventbridge" | "direct";

/** One command of the event, as the function applies it. */
export interface Item {
  /** The SQS message id, the EventBridge event id, or the position in a direct call. */
  id: string;
  command?: unknown;
  /** Why the message is not applied at all: not JSON, or not confirmed by SQS. */
  unusable?: Error;
  receiptKey?: string;
  /** Who sent it, as AWS vouches: see `COMMAND_ACTORS`. */
  actor: Actor;
  /** The SQS record it came in, when it did. */
  record?: SQSRecord;
  /** SQS confirmed the record as a message in flight on the queue. */
  confirmed?: true;
}

/**
 * Who a command is recorded as coming from (`createdBy`/`updatedBy`), read
 * from what carried it, never from the command: the EventBridge event's
 * `source` for the rule's messages (the bus's permissions say who may put
 * which source), the SQS message's `SenderId` (the sending principal, set by
 * SQS), or, for a direct invocation, which Lambda does not attribute to a
 * caller, `lambda:direct-invocation` (CloudTrail's Invoke events name the caller).
 */
export const COMMAND_ACTORS = {
  eventBridge: (source: string): Actor => `eventbridge:${source}`,
  sqs: (senderId: string | undefined): Actor =>
    senderId === undefined || senderId === "" ? null : `sqs:${senderId}`,
  direct: "lambda:direct-invocation" as Actor,
};

/**
 * The records of an SQS batch as commands, those SQS confirms only; in the
 * order their messages were sent (SentTimestamp, then their place in the
 * batch), which a standard queue does not keep.
 */
export async function fromSqs(
  records: readonly SQSRecord[],
  queue: CommandsQueue | undefined,
  context: Context,
): Promise<Item[]> {
  const remaining = context.getRemainingTimeInMillis?.() ?? 10_000;
  const confirmed =
    queue === undefined
      ? new Set<string>()
      : await queue.confirm(records, AbortSignal.timeout(Math.max(1, remaining - 500)));
  const sentAt = (record: SQSRecord) => Number(record.attributes?.SentTimestamp) || 0;
  return [...records]
    .sort((a, b) => sentAt(a) - sentAt(b))
    .map((record) => fromSqsRecord(record, confirmed.has(record.messageId), queue));
}

function fromSqsRecord(
  record: SQSRecord,
  confirmed: boolean,
  queue: CommandsQueue | undefined,
): Item {
  if (!confirmed) {
    return {
      id: record.messageId,
      record,
      actor: COMMAND_ACTORS.direct,
      unusable: new UnconfirmedMessageError(
        queue === undefined
          ? { key: "noCommandsQueue", params: {} }
          : { key: "unconfirmedMessage", params: { queueArn: queue.arn } },
      ),
    };
  }
  const item: Item = {
    id: record.messageId,
    record,
    confirmed: true,
    receiptKey: receiptKey.sqsMessage(record.messageId),
    // Stryker disable next-line OptionalChaining: SQS always sends the attributes; `?.` guards a hand-made event
    actor: COMMAND_ACTORS.sqs(record.attributes?.SenderId),
  };
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    item.unusable = new ValidationError([
      fieldError("body", {
        rule: "messageNotJson",
        params: { position: jsonErrorPosition(error, record.body) },
      }),
    ]);
    return item;
  }
  if (isEventBridgeEnvelope(body)) {
    // Sent by the EventBridge rule, the only sender the queue's policy lets
    // in: the event id survives a duplicate delivery, the source says who.
    item.command = body.detail;
    item.receiptKey = receiptKey.event(body.id);
    item.actor = COMMAND_ACTORS.eventBridge(body.source);
  } else {
    item.command = body;
  }
  return item;
}

/** When SQS itself could not be asked: every record stays on the queue. */
export function unconfirmedItems(event: SQSEvent): Item[] {
  return event.Records.map((record) => ({
    id: record.messageId,
    record,
    actor: COMMAND_ACTORS.direct,
  }));
}

/**
 * An EventBridge event invoking the function directly. The stack gives the
 * function no EventBridge trigger, and its shape proves nothing (anyone who
 * may invoke the function can write it): a direct invocation. Its id still
 * keys its receipt (scoped to that author), so that Lambda's own retries of
 * an asynchronous event apply it once.
 */
export function fromEnvelope(event: EventBridgeEnvelope): Item {
  return {
    id: event.id,
    command: event.detail,
    receiptKey: receiptKey.event(event.id),
    actor: COMMAND_ACTORS.direct,
  };
}

/** A direct invocation: one command, or an array of them. */
export function fromDirect(event: unknown): Item[] {
  const commands = Array.isArray(event) ? event : [event];
  return commands.map((command, i) => ({ id: String(i), command, actor: COMMAND_ACTORS.direct }));
}

/** An SQS batch: records that all come from SQS. */
export function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.every((r) => (r as { eventSource?: unknown })?.eventSource === "aws:sqs")
  );
}
