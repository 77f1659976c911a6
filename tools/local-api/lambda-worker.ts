/**
 * Local tools: one Lambda "container" of `npm start`. A worker thread that
 * imports one handler module (the init phase), then runs one invocation at a
 * time, as a Lambda execution environment does. The parent terminates the
 * thread when an invocation outlives the function's timeout, as Lambda ends
 * the environment, so the next request starts cold. What the function writes
 * to stdout (its JSON log line) is handed to the parent, as Lambda's runtime
 * hands it to CloudWatch.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { lambdaContext } from "./api-gateway.ts";
import type { LambdaHttpHandler } from "./lambda-runtime.ts";

export interface Invoke {
  event: APIGatewayProxyEventV2;
  requestId: string;
  timeoutMs: number;
}

export type WorkerMessage =
  | { type: "ready" }
  | { type: "log"; line: string }
  | { type: "result"; result: unknown }
  | { type: "error"; message: string };

const port = parentPort;
if (port === null) throw new Error("lambda-worker.ts runs as a worker thread");

// Lambda's runtime takes what the function writes to stdout, line by line,
// for its log; so does this one. The lines go to the parent on the answer's
// own port, so an invocation's line always arrives before its answer.
let partial = "";
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  partial += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
  const lines = partial.split("\n");
  partial = lines.pop() ?? "";
  for (const line of lines) port.postMessage({ type: "log", line } satisfies WorkerMessage);
  const done = rest.find((r) => typeof r === "function") as (() => void) | undefined;
  if (done !== undefined) queueMicrotask(done);
  return true;
}) as typeof process.stdout.write;
const { url } = workerData as { url: string };
const { handler } = (await import(url)) as { handler: LambdaHttpHandler };
port.on("message", (invoke: Invoke) => {
  handler(invoke.event, lambdaContext(invoke.requestId, invoke.timeoutMs)).then(
    (result) => port.postMessage({ type: "result", result } satisfies WorkerMessage),
    (error: unknown) =>
      port.postMessage({
        type: "error",
        message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      } satisfies WorkerMessage),
  );
});
port.postMessage({ type: "ready" } satisfies WorkerMessage);
