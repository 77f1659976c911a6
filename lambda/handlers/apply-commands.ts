/**
 * Entry adapter: the commands of docs/architecture.md (create, update, delete) from
 * events. Three callers, one handler:
 *
 * - SQS (fed by the EventBridge rule): SQS first confirms that every record
 *   is a message in flight on the stack's queue (commands-queue.ts); a record
 *   it does not confirm is not applied. The batch is then applied in the
 *   order its messages were sent, as one transaction on the object (one load,
 *   each command in its own savepoint, one PUT). A refusal that a later
 *   delivery could change (a queue does not keep order) is handed back in
 *   `batchItemFailures`; a command that can never pass, or that fails on its
 *   last delivery, goes to the dead-letter queue with its reason, never lost.
 * - An EventBridge event sent to the function: one command in `detail`.
 * - Direct invocation: one command or an array, at most one SQS batch; the
 *   result of each is returned, within Lambda's 6 MB.
 *
 * Who a command is recorded as coming from is what AWS vouches for: SQS's
 * `SenderId` or, for the EventBridge rule's messages (only the rule may send
 * to the queue), the event's `source`; anything invoked directly, whatever
 * its shape, is `lambda:direct-invocation`.
 *
 * Redelivery changes nothing: each command is applied under a receipt key —
 * its idempotency key, else the EventBridge event id, else the SQS message
 * id — scoped to its author.
 */
// First: in Lambda it starts the object's GET before the modules below evaluate.
import "./container-start.ts";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { TooManyCommandsError } from "../errors.ts";
import { CommandProcessor, type CommandResult } from "../rapatriements/commands.ts";
import { monotonicMs } from "../storage/monotonic-clock.ts";
import type { Database } from "../storage/sql-js.ts";
import { emptyReport, type TransactionOptions } from "../storage/transaction-options.ts";
import {
  type CommandOutcome,
  type Settled,
  summarise,
  toOutcome,
  withinAnswerBudget,
} from "./command-answers.ts";
import { deadLetter, dispose } from "./command-dispositions.ts";
import {
  type Channel,
  fromDirect,
  fromEnvelope,
  fromSqs,
  type Item,
  isSqsEvent,
  unconfirmedItems,
} from "./command-items.ts";
import {
  type CommandsQueue,
  type EventBridgeEnvelope,
  isEventBridgeEnvelope,
  sqsCommandsQueue,
} from "./commands-queue.ts";
import { containerDefaults, type HandlerDeps } from "./composition-root.ts";
import { invocationLine, round } from "./log-line.ts";
import { metricFields } from "./metrics.ts";
import { COMMANDS_BATCH_SIZE } from "./routes.ts";
import { transactionOptions } from "./storage-options.ts";

/** What the commands function needs besides the HTTP handlers' dependencies. */
export interface CommandsDeps extends HandlerDeps {
  /**
   * The stack's commands queue. Absent: built once from the configuration
   * (`COMMANDS_QUEUE_URL`…); with none there, an SQS-shaped event is not applied.
   */
  commandsQueue?: CommandsQueue;
}

/** A command that failed, as the log line lists it. */
interface Failed {
  id: string;
  code: string;
  /** Handed back to SQS for another delivery. */
  retry: boolean;
  /** Kept in the dead-letter queue with its reason. */
  deadLettered?: true;
  message: string;
  errors?: unknown;
}

export function createCommandsHandler(deps: CommandsDeps) {
  let queue: CommandsQueue | undefined = deps.commandsQueue;
  const commandsQueue = async (): Promise<CommandsQueue | undefined> => {
    if (queue === undefined) {
      const config = (await deps.dependencies()).config;
      queue = config === undefined ? undefined : sqsCommandsQueue(config);
    }
    return queue;
  };

  return middy<unknown, unknown>().handler(async (event, context: Context) => {
    const started = monotonicMs();
    const invoked = Date.now();
    const report = emptyReport();
    const channel: Channel = isSqsEvent(event)
      ? "sqs"
      : isEventBridgeEnvelope(event)
        ? "eventbridge"
        : "direct";

    // Only a direct invocation is an array.
    if (Array.isArray(event) && event.length > COMMANDS_BATCH_SIZE) {
      const error = new TooManyCommandsError({
        key: "tooManyCommands",
        params: { max: COMMANDS_BATCH_SIZE, count: event.length },
      });
      deps.log(
        invocationLine({
          level: "error",
          requestId: context.awsRequestId,
          route: "commands",
          fields: { source: channel, commands: event.length, succeeded: 0 },
          error,
        }),
      );
      return { ok: false, error: summarise(error) } satisfies CommandOutcome;
    }
    let items: Item[] = [];
    let settled: Settled[] = [];
    let failure: unknown;
    let sqsQueue: CommandsQueue | undefined;
    try {
      if (channel === "sqs") {
        sqsQueue = await commandsQueue().catch(() => undefined);
        items = await fromSqs((event as SQSEvent).Records, sqsQueue, context);
      } else if (channel === "eventbridge") {
        items = [fromEnvelope(event as EventBridgeEnvelope)];
      } else {
        items = fromDirect(event);
      }
      // A message carries when it was sent (SQS's clock); a direct call, no
      // more than that it was made before this invocation began.
      const sent = items.flatMap((item) => {
        const at = Number(item.record?.attributes.SentTimestamp);
        return item.unusable === undefined && Number.isFinite(at) ? [at] : [];
      });
      const notBefore = channel === "sqs" ? Math.max(...sent) : invoked;
      settled = await applyBatch(
        deps,
        items,
        transactionOptions(context, report, Number.isFinite(notBefore) ? notBefore : invoked),
      );
    } catch (error) {
      // Nothing could be applied (configuration, storage, SQS): every command failed.
      failure = error;
      if (items.length === 0 && channel === "sqs") items = unconfirmedItems(event as SQSEvent);
      settled = items.map((item) => ({ ok: false, error: item.unusable ?? error }));
    }

    const dispositions = items.map((item, i) => {
      const outcome = settled[i];
      // Stryker disable next-line OptionalChaining: every item has its outcome; `?.` is for the type only
      if (outcome?.ok !== false) return undefined;
      return dispose(channel, item, outcome.error, sqsQueue);
    });
    const deadLettered = await deadLetter(sqsQueue, items, settled, dispositions, context);
    const failed: Failed[] = items.flatMap((item, i) => {
      const outcome = settled[i];
      const disposition = dispositions[i];
      // Stryker disable next-line OptionalChaining: as above
      if (outcome?.ok !== false || disposition === undefined) return [];
      const refusal = summarise(outcome.error);
      const kept = deadLettered.has(item.id);
      const entry: Failed = {
        id: item.id,
        code: refusal.code,
        retry: disposition === "retry" || (disposition === "dead-letter" && !kept),
        message: refusal.message,
      };
      if (kept) entry.deadLettered = true;
      if (refusal.errors !== undefined) entry.errors = refusal.errors;
      return [entry];
    });

    const fields = {
      source: channel,
      commands: items.length,
      succeeded: items.length - failed.length,
      failed,
      // Who sent the batch's commands, each once (a batch holds at most 100).
      callers: [...new Set(items.map((item) => item.actor))],
      durationMs: round(monotonicMs() - started),
    };
    const gauge =
      failure === undefined ? (await deps.dependencies().catch(() => undefined))?.gauge : undefined;
    deps.log(
      invocationLine({
        level:
          failure !== undefined || failed.some((f) => !f.retry)
            ? "error"
            : failed.length > 0
              ? "warn"
              : "info",
        requestId: context.awsRequestId,
        route: "commands",
        fields,
        report,
        error: failure,
        closing: metricFields({
          report,
          codes: failed.map((f) => f.code),
          gauge,
          batchSize: items.length,
          commands: {
            deadLettered: failed.filter((f) => f.deadLettered).length,
            handedBack: failed.filter((f) => f.retry).length,
          },
        }),
      }),
    );

    if (channel === "sqs") {
      const response: SQSBatchResponse = {
        batchItemFailures: failed.filter((f) => f.retry).map((f) => ({ itemIdentifier: f.id })),
      };
      return response;
    }
    const outcomes = settled.map(toOutcome);
    if (channel === "eventbridge") {
      const [first] = settled;
      // A failure that may pass is thrown, so that Lambda retries the event;
      // a command that is refused stays refused and is only logged.
      if (first?.ok === false && dispositions[0] === "retry") {
        throw first.error instanceof Error ? first.error : new Error(String(first.error));
      }
      return outcomes[0];
    }
    return Array.isArray(event) ? withinAnswerBudget(outcomes) : outcomes[0];
  });
}

/** Prepares every usable command and applies them all in one round: one load, one PUT. */
async function applyBatch(
  deps: HandlerDeps,
  items: readonly Item[],
  options: TransactionOptions,
): Promise<Settled[]> {
  const outcomes: (Settled | undefined)[] = items.map((item) =>
    item.unusable === undefined ? undefined : { ok: false, error: item.unusable },
  );
  if (outcomes.every((o) => o !== undefined)) return outcomes;
  const { service, store } = await deps.dependencies();
  const processor = new CommandProcessor(service);
  const prepared: { index: number; apply: (db: Database) => CommandResult }[] = [];
  for (const [index, item] of items.entries()) {
    if (item.unusable !== undefined) continue;
    try {
      prepared.push({
        index,
        apply: processor.prepare(item.command, item.receiptKey, item.actor),
      });
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  }
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
          ? { ok: true, value: result.value }
          : { ok: false, error: result.reason };
    });
  }
  // Stryker disable next-line ObjectLiteral,BooleanLiteral,StringLiteral: every item has its outcome by now; the fallback is for the type only
  return outcomes.map((o) => o ?? { ok: false, error: new Error("not applied") });
}

export const handler = createCommandsHandler(containerDefaults());
