/**
 * Storage layer: what a transaction on the object is given — the time by
 * which it must settle, how recent a copy it needs, a report to fill — and
 * what that report holds once it has settled.
 */

export interface S3CallRecord {
  command: string;
  /** HTTP status, or undefined when no response arrived. */
  status: number | undefined;
  ms: number;
}

/** What one operation cost: filled in when the operation settles. */
export interface StorageReport {
  s3Calls: S3CallRecord[];
  /** "hit": served from the 304 path; "miss": object downloaded; "absent": no object yet. */
  cache: "hit" | "miss" | "absent" | undefined;
  /** PUT attempts (0 for a read or a write that changed nothing). */
  attempts: number;
  /** Operations that shared this round's load and PUT, this one included. */
  roundSize: number;
  warnings: string[];
}

export function emptyReport(): StorageReport {
  return { s3Calls: [], cache: undefined, attempts: 0, roundSize: 0, warnings: [] };
}

export interface TransactionOptions {
  /**
   * Epoch milliseconds by which the operation must have settled (the Lambda's
   * remaining time): S3 calls are aborted before it, and no attempt starts
   * that could not finish before it.
   */
  deadline?: number;
  report?: StorageReport;
  /**
   * Epoch ms when the caller sent its request (API Gateway's `timeEpoch`, an
   * SQS message's `SentTimestamp`). An operation may be answered from a copy
   * of the object fetched before it began (the container's prefetch, taken in
   * Lambda's init phase, maybe long before) only when that fetch started
   * after this; otherwise the copy is confirmed with a conditional GET first.
   * Writes as much as reads: a stale copy's conditional PUT would fail, but a
   * write that changes nothing sends no PUT, and a refusal (404, 409, 412)
   * sends none either, so either would be answered from the stale copy as if
   * it were current. Absent: the copy is always confirmed.
   */
  notBefore?: number;
}
