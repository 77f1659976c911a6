/**
 * Entry adapter: the commands of DESIGN.md (create, update, delete) from
 * events. Three callers, one handler:
 *
 * - SQS (fed by the EventBridge rule): the batch is one transaction on the
 *   object — one load, each command in its own savepoint, one PUT. A command
 *   that fails is reported alone in `batchItemFailures`; a malformed message
 *   is a failure of that message, never of the batch.
 * - EventBridge directly: one command in `detail`.
 * - Direct invocation: one command or an array; the result of each is returned.
 *
 * Redelivery changes nothing: each command is applied under a receipt key —
 * its idempotency key, else the EventBridge event id, else the SQS message id.
 */
// First: in Lambda it starts the object's GET before the modules below evaluate.
import "./container-start.ts";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { AppError, ValidationError } from "../errors.ts";
import { CommandProcessor, type CommandResult } from "../rapatriements/commands.ts";
import type { Actor } from "../rapatriements/model.ts";
import { receiptKey } from "../rapatriements/receipts.ts";
import { emptyReport, monotonicMs, type TransactionOptions } from "../storage/database-object.ts";
import type { Database } from "../storage/sql-js.ts";
import { containerDefaults, type HandlerDeps, transactionOptions } from "./dependencies.ts";
import { codeOf, describeError, round, storageFields } from "./log-line.ts";
import { metricFields } from "./metrics.ts";

export type CommandOutcome =
  | ({ ok: true } & CommandResult)
  | { ok: false; error: { status: number; code: string; message: string; errors?: unknown } };

interface Item {
  /** The SQS message id, the EventBridge event id, or the position in a direct call. */
  id: string;
  command?: unknown;
  /** Why the message could not even be read as a command. */
  unreadable?: Error;
  receiptKey?: string;
  /** Who sent it, as its carrier says: see `COMMAND_ACTORS`. */
  actor: Actor;
}

/**
 * Who a command is recorded as coming from (`createdBy`/`updatedBy`), read
 * from what carried it, never from the command: the EventBridge event's
 * `source` (which the bus's permissions control, not this function), the SQS
 * message's `SenderId` attribute (the sending principal's id, set by SQS), or,
 * for a direct invocation, which Lambda does not attribute to a caller,
 * `lambda:direct-invocation` (CloudTrail's Invoke events name the caller).
 */
export const COMMAND_ACTORS = {
  eventBridge: (source: string): Actor => `eventbridge:${source}`,
  sqs: (senderId: string | undefined): Actor =>
    senderId === undefined || senderId === "" ? null : `sqs:${senderId}`,
  direct: "lambda:direct-invocation" as Actor,
};

/** A command that failed, as the log line lists it. */
interface Failed {
  id: string;
  code: string;
  /** Handed back to SQS for another delivery. */
  retry: boolean;
  message?: string;
  errors?: unknown;
}

interface EventBridgeEnvelope {
  id: string;
  source: string;
  "detail-type": string;
  detail: unknown;
}

export function createCommandsHandler(deps: HandlerDeps) {
  return middy<unknown, unknown>().handler(async (event, context: Context) => {
    const started = monotonicMs();
    const report = emptyReport();
    const options = transactionOptions(context, report);

    const source = isSqsEvent(event) ? "sqs" : isEventBridge(event) ? "eventbridge" : "direct";
    const items =
      source === "sqs"
        ? (event as SQSEvent).Records.map(fromSqsRecord)
        : source === "eventbridge"
          ? [fromEnvelope(event as EventBridgeEnvelope)]
          : fromDirect(event);

    let outcomes: CommandOutcome[];
    let failure: unknown;
    try {
      outcomes = await applyBatch(deps, items, options);
    } catch (error) {
      // Nothing could be applied (configuration, storage): every command failed.
      failure = error;
      outcomes = items.map(() => ({ ok: false, error: summarise(error) }));
    }

    const failed = items.flatMap((item, i) => {
      const outcome = outcomes[i];
      // Stryker disable next-line OptionalChaining: both ways above give every item an outcome; `?.` is for the type only
      if (outcome?.ok !== false) return [];
      const retry = mayPassOnRetry(outcome.error.status);
      const entry: Failed = { id: item.id, code: outcome.error.code, retry };
      // A refused command is not delivered again: its entry is all that is
      // left of it, so it says why (the message, and the fields at fault).
      if (!retry) {
        entry.message = outcome.error.message;
        // Stryker disable next-line ConditionalExpression: the log line is JSON, where a field set to undefined is absent, as an unset one
        if (outcome.error.errors !== undefined) entry.errors = outcome.error.errors;
      }
      return [entry];
    });
    // A refused command is dropped from the queue: the log line is where it is found.
    const refused = failed.some((f) => !f.retry);
    const line: Record<string, unknown> = {
      level: failure !== undefined || refused ? "error" : failed.length > 0 ? "warn" : "info",
      time: new Date().toISOString(),
      requestId: context.awsRequestId,
      route: "commands",
      source,
      commands: items.length,
      succeeded: items.length - failed.length,
      failed,
      // Who sent the batch's commands, each once (a batch holds at most 100).
      callers: [...new Set(items.map((item) => item.actor))],
      durationMs: round(monotonicMs() - started),
      ...storageFields(report),
    };
    if (failure !== undefined) {
      line.code = codeOf(failure);
      line.error = describeError(failure);
    }
    const codes = failed.map((f) => f.code);
    const gauge = failure === undefined ? (await deps.dependencies()).gauge : undefined;
    deps.log({ ...line, ...metricFields({ report, codes, gauge, batchSize: items.length }) });

    if (source === "sqs") {
      // Only what a redelivery could change is handed back to SQS; a refused
      // command would be refused the same way five times, then dead-lettered.
      const response: SQSBatchResponse = {
        batchItemFailures: failed.filter((f) => f.retry).map((f) => ({ itemIdentifier: f.id })),
      };
      return response;
    }
    const [first] = outcomes;
    if (source === "eventbridge") {
      // A failure that may pass is thrown, so that Lambda retries the event;
      // a command that is refused stays refused and is only logged.
      if (failure !== undefined || (first?.ok === false && mayPassOnRetry(first.error.status))) {
        throw failure ?? new Error(first?.ok === false ? first.error.message : "failed");
      }
      return first;
    }
    return Array.isArray(event) ? outcomes : first;
  });
}

/** Prepares every readable command and applies them all in one round: one load, one PUT. */
async function applyBatch(
  deps: HandlerDeps,
  items: Item[],
  options: TransactionOptions,
): Promise<CommandOutcome[]> {
  const { service, store } = await deps.dependencies();
  const processor = new CommandProcessor(service);
  const outcomes: (CommandOutcome | undefined)[] = items.map(() => undefined);
  const prepared: {
    index: number;
    apply: (db: Database) => CommandResult;
  }[] = [];
  items.forEach((item, index) => {
    try {
      if (item.unreadable !== undefined) throw item.unreadable;
      prepared.push({
        index,
        apply: processor.prepare(item.command, item.receiptKey, item.actor),
      });
    } catch (error) {
      outcomes[index] = { ok: false, error: summarise(error) };
    }
  });
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a batch of no writes loads nothing and sends nothing; the test only saves a call
  if (prepared.length > 0) {
    const settled = await store.writeBatch(
      prepared.map((p) => p.apply),
      options,
    );
    settled.forEach((result, i) => {
      // Stryker disable next-line OptionalChaining: allSettled answers once per prepared write, in order; `?.` is for the type only
      const index = prepared[i]?.index;
      // Stryker disable next-line ConditionalExpression: as above, never undefined
      if (index === undefined) return;
      outcomes[index] =
        result.status === "fulfilled"
          ? { ok: true, ...result.value }
          : { ok: false, error: summarise(result.reason) };
    });
  }
  // Stryker disable next-line ObjectLiteral,BooleanLiteral,StringLiteral: every item has its outcome by now; the fallback is for the type only
  return outcomes.map((o) => o ?? { ok: false, error: summarise(new Error("not applied")) });
}

/**
 * Whether delivering the command again could end otherwise: a fault of the
 * storage or of the function (5xx: busy, outcome unknown, S3 unreachable),
 * or a record not found, since a queue does not keep order and the command
 * that creates it may still be on its way. A refusal (invalid command, rule,
 * stale version, reused key) would be refused again.
 */
function mayPassOnRetry(status: number): boolean {
  return status >= 500 || status === 404;
}

function fromSqsRecord(record: SQSRecord): Item {
  const item: Item = {
    id: record.messageId,
    receiptKey: receiptKey.sqsMessage(record.messageId),
    // Stryker disable next-line OptionalChaining: SQS always sends the attributes; `?.` guards a hand-made event
    actor: COMMAND_ACTORS.sqs(record.attributes?.SenderId),
  };
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (error) {
    item.unreadable = new ValidationError([
      { path: "body", message: `the message is not JSON (${(error as Error).message})` },
    ]);
    return item;
  }
  if (isEventBridge(body)) {
    // Sent by the EventBridge rule: the event id survives a duplicate delivery.
    item.command = body.detail;
    item.receiptKey = receiptKey.event(body.id);
    // The sender of the message is EventBridge itself: the event's source says more.
    item.actor = COMMAND_ACTORS.eventBridge(body.source);
  } else {
    item.command = body;
  }
  return item;
}

function fromEnvelope(event: EventBridgeEnvelope): Item {
  return {
    id: event.id,
    command: event.detail,
    receiptKey: receiptKey.event(event.id),
    actor: COMMAND_ACTORS.eventBridge(event.source),
  };
}

function fromDirect(event: unknown): Item[] {
  const commands = Array.isArray(event) ? event : [event];
  return commands.map((command, i) => ({ id: String(i), command, actor: COMMAND_ACTORS.direct }));
}

function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.every((r) => (r as { eventSource?: unknown })?.eventSource === "aws:sqs")
  );
}

function isEventBridge(event: unknown): event is EventBridgeEnvelope {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return false;
  const e = event as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    typeof e.source === "string" &&
    typeof e["detail-type"] === "string" &&
    "detail" in e
  );
}

/** An error as a caller of the commands may see it: detail only for errors meant for them. */
function summarise(error: unknown): Extract<CommandOutcome, { ok: false }>["error"] {
  if (error instanceof AppError && error.expose) {
    const summary: Extract<CommandOutcome, { ok: false }>["error"] = {
      status: error.status,
      code: error.code,
      message: error.message,
    };
    // Stryker disable next-line ConditionalExpression: Lambda answers in JSON, where a field set to undefined is absent, as an unset one
    if (error.errors !== undefined) summary.errors = error.errors;
    return summary;
  }
  return {
    status: 500,
    code: codeOf(error),
    message: "An internal error occurred; see the function's log.",
  };
}

export const handler = createCommandsHandler(containerDefaults());
