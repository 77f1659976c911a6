/**
 * Entry adapters: the storage options of an invocation, from what Lambda and
 * the event say about it.
 */
import type { StorageReport, TransactionOptions } from "../storage/transaction-options.ts";

/**
 * What every storage call of an invocation carries: its report, the Lambda's
 * deadline, and when the request arrived (how recent a copy a read needs).
 */
export function transactionOptions(
  context: { getRemainingTimeInMillis?: () => number },
  report: StorageReport | undefined,
  requestArrived?: number,
): TransactionOptions {
  const options: TransactionOptions = {};
  if (report !== undefined) options.report = report;
  if (typeof requestArrived === "number" && Number.isFinite(requestArrived)) {
    options.notBefore = requestArrived;
  }
  const remaining = context.getRemainingTimeInMillis?.();
  if (typeof remaining === "number" && remaining > 0) options.deadline = Date.now() + remaining;
  return options;
}
