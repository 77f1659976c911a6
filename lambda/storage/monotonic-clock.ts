/**
 * Storage layer: the monotonic clock that durations are measured on — the
 * S3 calls of a round here, a whole invocation in the handlers' log line.
 */

/**
 * Milliseconds on a monotonic clock, for durations (S3 calls, requests).
 * Not `performance.now()`: Node loads its perf_hooks modules on the first use
 * of the `performance` global, 3–15 ms measured, paid by a cold container's
 * first answer; `process.hrtime` is there from the start.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
