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
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { AppError, ValidationError } from "../errors.ts";
import { CommandProcessor, type CommandResult } from "../rapatriements/commands.ts";
import { emptyReport, type TransactionOptions } from "../storage/database-object.ts";
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
}

interface EventBridgeEnvelope {
  id: string;
  source: string;
  "detail-type": string;
  detail: unknown;
}

export function createCommandsHandler(deps: HandlerDeps) {
  return middy<unknown, unknown>().handler(async (event, context: Context) => {
    const started = performance.now();
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
      return outcome?.ok === false ? [{ id: item.id, code: outcome.error.code }] : [];
    });
    const line: Record<string, unknown> = {
      level: failure !== undefined ? "error" : failed.length > 0 ? "warn" : "info",
      time: new Date().toISOString(),
      requestId: context.awsRequestId,
      route: "commands",
      source,
      commands: items.length,
      succeeded: items.length - failed.length,
      failed,
      durationMs: round(performance.now() - started),
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
      const response: SQSBatchResponse = {
        batchItemFailures: failed.map((f) => ({ itemIdentifier: f.id })),
      };
      return response;
    }
    const [first] = outcomes;
    if (source === "eventbridge") {
      // A fault that may pass is thrown, so that Lambda retries the event;
      // a command that is wrong stays wrong and is only logged.
      if (failure !== undefined || (first?.ok === false && first.error.status >= 500)) {
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
      prepared.push({ index, apply: processor.prepare(item.command, item.receiptKey) });
    } catch (error) {
      outcomes[index] = { ok: false, error: summarise(error) };
    }
  });
  if (prepared.length > 0) {
    const settled = await store.writeBatch<CommandResult | undefined>(
      [
        (db) => {
          processor.pruneReceipts(db);
          return undefined;
        },
        ...prepared.map((p) => p.apply),
      ],
      options,
    );
    const [prune, ...results] = settled;
    if (prune?.status === "rejected") throw prune.reason;
    results.forEach((result, i) => {
      const index = prepared[i]?.index;
      if (index === undefined) return;
      outcomes[index] =
        result.status === "fulfilled"
          ? { ok: true, ...(result.value as CommandResult) }
          : { ok: false, error: summarise(result.reason) };
    });
  }
  return outcomes.map((o) => o ?? { ok: false, error: summarise(new Error("not applied")) });
}

function fromSqsRecord(record: SQSRecord): Item {
  const item: Item = { id: record.messageId, receiptKey: `sqs-message:${record.messageId}` };
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
    item.receiptKey = `event:${body.id}`;
  } else {
    item.command = body;
  }
  return item;
}

function fromEnvelope(event: EventBridgeEnvelope): Item {
  return { id: event.id, command: event.detail, receiptKey: `event:${event.id}` };
}

function fromDirect(event: unknown): Item[] {
  const commands = Array.isArray(event) ? event : [event];
  return commands.map((command, i) => ({ id: String(i), command }));
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
  return typeof e.id === "string" && typeof e["detail-type"] === "string" && "detail" in e;
}

/** An error as a caller of the commands may see it: detail only for errors meant for them. */
function summarise(error: unknown): Extract<CommandOutcome, { ok: false }>["error"] {
  if (error instanceof AppError && error.expose) {
    const summary: Extract<CommandOutcome, { ok: false }>["error"] = {
      status: error.status,
      code: error.code,
      message: error.message,
    };
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
