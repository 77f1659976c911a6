/**
 * Entry adapter: what becomes of a command that did not pass — handed back
 * to the queue for a later delivery, sent to the dead-letter queue with its
 * reason (it can never pass, or it failed its last delivery), or refused —
 * by whether a later delivery could change the answer.
 */
import type { Context } from "aws-lambda";
import {
  AppError,
  ForbiddenTransitionError,
  IdempotencyKeyReuseError,
  ValidationError,
  VersionMismatchError,
} from "../errors.ts";
import { refusalKeys, type Settled, summarise } from "./command-answers.ts";
import type { Channel, Item } from "./command-items.ts";
import type { CommandsQueue } from "./commands-queue.ts";

/** What became of a command that did not pass. */
export type Disposition = "retry" | "dead-letter" | "refused";

/**
 * What becomes of a failed command. From the queue: a command that can
 * never pass goes to the dead-letter queue at once, and so does any failure
 * on the message's last delivery (SQS would move it there without a reason);
 * the rest is handed back, since a later delivery may find the record
 * created, the status moved on or the version reached. A record SQS did not
 * confirm is handed back untouched. Elsewhere: refused, or (a fault) retried.
 */
export function dispose(
  channel: Channel,
  item: Item,
  error: unknown,
  queue: CommandsQueue | undefined,
): Disposition {
  const permanent = cannotPassLater(error);
  if (channel === "direct") return "refused";
  if (channel === "eventbridge") return permanent || !mayPassOnRetry(error) ? "refused" : "retry";
  // Nothing SQS did not confirm is applied, or copied to the dead-letter queue.
  if (item.confirmed !== true) return "retry";
  const receives = Number(item.record?.attributes.ApproximateReceiveCount);
  const last = queue !== undefined && receives >= queue.maxReceiveCount;
  return permanent || last ? "dead-letter" : "retry";
}

/**
 * A refusal that no delivery order can change: an invalid command, a key
 * already used for another command, a version the record has already passed
 * (versions only grow), a change to a received or cancelled rapatriement.
 */
function cannotPassLater(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof IdempotencyKeyReuseError ||
    (error instanceof VersionMismatchError && error.stale) ||
    (error instanceof ForbiddenTransitionError && error.final)
  );
}

/**
 * Whether another attempt could end otherwise: a fault of the storage or of
 * the function (5xx), or a refusal that another command arriving first would
 * lift (404 not found yet, 409 transition or reference, 412 version not yet
 * reached).
 */
function mayPassOnRetry(error: unknown): boolean {
  const status = error instanceof AppError ? error.status : 500;
  return status >= 500 || status === 404 || status === 409 || status === 412;
}

/** Sends what must be dead-lettered; returns the ids now kept there (the rest is handed back). */
export async function deadLetter(
  queue: CommandsQueue | undefined,
  items: readonly Item[],
  settled: readonly Settled[],
  dispositions: readonly (Disposition | undefined)[],
  context: Context,
): Promise<Set<string>> {
  const letters = items.flatMap((item, i) => {
    const outcome = settled[i];
    if (dispositions[i] !== "dead-letter" || outcome?.ok !== false || item.record === undefined) {
      return [];
    }
    return [
      {
        record: item.record,
        author: item.actor ?? "",
        reason: summarise(outcome.error),
        keys: refusalKeys(outcome.error),
      },
    ];
  });
  if (queue === undefined || letters.length === 0) return new Set();
  const remaining = context.getRemainingTimeInMillis?.() ?? 10_000;
  return queue.deadLetter(letters, AbortSignal.timeout(Math.max(1, remaining - 250)));
}
