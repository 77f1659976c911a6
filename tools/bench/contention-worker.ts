/**
 * Benchmarks: one of the contending writers, in a thread of its own with its
 * own S3 client, sql.js instance and cache — as one Lambda container would be.
 */
import { parentPort, workerData } from "node:worker_threads";
import { RetryLaterError } from "../../lambda/errors.ts";
import { emptyReport } from "../../lambda/storage/transaction-options.ts";
import { warmContainer } from "./container.ts";

export interface WriterInput {
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
  writer: number;
  creates: number;
}

export interface WriterOutput {
  latencies: number[];
  attempts: number;
  conflicts: number;
  /** Creates answered 503 (retry budget spent) and sent again after Retry-After. */
  busy: number;
}

const input = workerData as WriterInput;
const { service } = await warmContainer(input);
const report = emptyReport();
const latencies: number[] = [];
// Wait for the start signal so that every writer begins together.
await new Promise((resolve) => parentPort?.once("message", resolve));
let busy = 0;
for (let i = 0; i < input.creates; i++) {
  const started = performance.now();
  for (;;) {
    try {
      await service.create(
        {
          reference: `C-${input.writer}-${i}`,
          origin: "SITE-1",
          destination: "DEPOT-2",
          lines: [{ sku: "SKU-1", quantity: 1 }],
        },
        // The same key on a retry, as a client retrying after a 503 would send.
        { idempotencyKey: `bench-${input.writer}-${i}` },
        { report },
      );
      break;
    } catch (error) {
      if (!(error instanceof RetryLaterError)) throw error;
      busy += 1; // a 503 (busy, or outcome unknown: safe with the same key): wait Retry-After, send again
      await new Promise((resolve) => setTimeout(resolve, error.retryAfterSeconds * 1000));
    }
  }
  latencies.push(performance.now() - started);
}
const output: WriterOutput = {
  latencies,
  attempts: report.attempts,
  conflicts: report.s3Calls.filter((c) => c.command === "PutObject" && c.status === 412).length,
  busy,
};
parentPort?.postMessage(output);
