/**
 * Local tools: runs the route handlers of `npm start` under Lambda's limits,
 * answered the way API Gateway (HTTP API) answers them, so that a local run
 * shows what production does:
 *
 * - each invocation runs in a "container" (a worker thread) of its function,
 *   one invocation at a time; concurrent requests use more containers;
 * - an invocation that outlives the function's timeout is killed with its
 *   container ("Task timed out after … seconds" in the log) and answered
 *   500 `{"message":"Internal Server Error"}`, as HTTP API answers any
 *   function error; past HTTP API's 30-second integration timeout (a function
 *   timeout above 30 s) the answer is 503 `{"message":"Service Unavailable"}`;
 * - a response over Lambda's 6 MB limit for a synchronous invocation is never
 *   sent: Lambda replaces it by its `Function.ResponseSizeTooLarge` error, and
 *   the client gets the same 500.
 */
import { Worker } from "node:worker_threads";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from "aws-lambda";
import type { Invoke, WorkerMessage } from "./lambda-worker.ts";

export type LambdaHttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** Lambda refuses a synchronous response over 6 MB; its error names this figure. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;
/** HTTP API's integration timeout: it stops waiting for any integration after 30 s. */
export const INTEGRATION_TIMEOUT_MS = 30_000;
/** The deployed functions' timeout (infra/rapatriements-function.ts). */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 10_000;
/**
 * Containers per function at most; further concurrent requests wait for one.
 * Lambda would start more, but each costs a Node.js isolate and sql.js here.
 */
const MAX_CONTAINERS_PER_FUNCTION = 4;

const INTERNAL_SERVER_ERROR: APIGatewayProxyResultV2 = gatewayError(500, "Internal Server Error");
const SERVICE_UNAVAILABLE: APIGatewayProxyResultV2 = gatewayError(503, "Service Unavailable");

function gatewayError(statusCode: number, message: string): APIGatewayProxyResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  };
}

export interface LocalFunctionsOptions {
  timeoutMs?: number;
  /** Where a function's module is (default: the modules of lambda/handlers). */
  moduleUrl?: (module: string) => string;
  /** Where the platform's own lines go (Lambda writes them to the function's log). */
  log?: (line: string) => void;
  /** Where each line the function writes to stdout goes (default: this process's stdout, as it is). */
  functionLog?: (line: string) => void;
}

interface Container {
  worker: Worker;
  ready: Promise<void>;
}

export class LocalFunctions {
  private readonly timeoutMs: number;
  private readonly moduleUrl: (module: string) => string;
  private readonly log: (line: string) => void;
  private readonly functionLog: (line: string) => void;
  private readonly idle = new Map<string, Container[]>();
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly all = new Set<Worker>();

  constructor(options: LocalFunctionsOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    this.moduleUrl =
      options.moduleUrl ??
      ((module) => new URL(`../../lambda/handlers/${module}.ts`, import.meta.url).href);
    this.log = options.log ?? ((line) => console.error(line));
    this.functionLog = options.functionLog ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /** Invokes the function of `module` as API Gateway does, and returns what the client gets. */
  async invoke(
    module: string,
    event: APIGatewayProxyEventV2,
    requestId: string,
  ): Promise<APIGatewayProxyResultV2> {
    const container = await this.acquire(module);
    let healthy = true;
    try {
      await container.ready;
      const outcome = await this.run(container, { event, requestId, timeoutMs: this.timeoutMs });
      if (outcome.type === "timeout") {
        healthy = false;
        const seconds = (Math.min(this.timeoutMs, INTEGRATION_TIMEOUT_MS) / 1000).toFixed(2);
        if (this.timeoutMs > INTEGRATION_TIMEOUT_MS) {
          this.log(`${requestId} API Gateway: integration timed out after ${seconds} seconds`);
          return SERVICE_UNAVAILABLE;
        }
        this.log(`${requestId} Task timed out after ${seconds} seconds`);
        return INTERNAL_SERVER_ERROR;
      }
      if (outcome.type === "error") {
        this.log(`${requestId} Lambda function error: ${outcome.message}`);
        return INTERNAL_SERVER_ERROR;
      }
      const size = Buffer.byteLength(JSON.stringify(outcome.result) ?? "");
      if (size > LAMBDA_RESPONSE_LIMIT_BYTES) {
        this.log(
          `${requestId} Function.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size (${LAMBDA_RESPONSE_LIMIT_BYTES} bytes): ${size} bytes`,
        );
        return INTERNAL_SERVER_ERROR;
      }
      return outcome.result as APIGatewayProxyResultV2;
    } catch (error) {
      healthy = false;
      this.log(`${requestId} Lambda container failed: ${String(error)}`);
      return INTERNAL_SERVER_ERROR;
    } finally {
      this.release(module, container, healthy);
    }
  }

  /** Ends every container. */
  async close(): Promise<void> {
    await Promise.all([...this.all].map((worker) => worker.terminate()));
  }

  private run(
    container: Container,
    invoke: Invoke,
  ): Promise<
    { type: "result"; result: unknown } | { type: "error"; message: string } | { type: "timeout" }
  > {
    return new Promise((resolve, reject) => {
      const { worker } = container;
      const limit = Math.min(invoke.timeoutMs, INTEGRATION_TIMEOUT_MS);
      const timer = setTimeout(() => {
        cleanup();
        resolve({ type: "timeout" });
      }, limit);
      const onMessage = (message: WorkerMessage) => {
        if (message.type === "ready" || message.type === "log") return;
        cleanup();
        resolve(message);
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`the runtime exited with code ${code}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.once("error", onError);
      worker.once("exit", onExit);
      worker.postMessage(invoke);
    });
  }

  private async acquire(module: string): Promise<Container> {
    for (;;) {
      const container = this.idle.get(module)?.pop();
      if (container !== undefined) {
        this.busy.set(module, (this.busy.get(module) ?? 0) + 1);
        return container;
      }
      if ((this.busy.get(module) ?? 0) < MAX_CONTAINERS_PER_FUNCTION) {
        this.busy.set(module, (this.busy.get(module) ?? 0) + 1);
        return this.start(module);
      }
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(module) ?? [];
        queue.push(resolve);
        this.waiting.set(module, queue);
      });
    }
  }

  private release(module: string, container: Container, healthy: boolean): void {
    this.busy.set(module, (this.busy.get(module) ?? 1) - 1);
    if (healthy) {
      const idle = this.idle.get(module) ?? [];
      idle.push(container);
      this.idle.set(module, idle);
    } else {
      // Lambda ends an environment whose invocation timed out or crashed.
      this.all.delete(container.worker);
      void container.worker.terminate();
    }
    this.waiting.get(module)?.shift()?.();
  }

  private start(module: string): Container {
    const worker = new Worker(new URL("./lambda-worker.ts", import.meta.url), {
      workerData: { url: this.moduleUrl(module) },
    });
    this.all.add(worker);
    worker.once("exit", () => this.all.delete(worker));
    // The function's lines, from its init phase on, before the answer they belong to.
    worker.on("message", (message: WorkerMessage) => {
      if (message.type === "log") this.functionLog(message.line);
    });
    // A container that fails between invocations is gone; the next request starts another.
    worker.on("error", (error) => this.log(`${module}: Lambda container failed: ${String(error)}`));
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: WorkerMessage) => {
        if (message.type !== "ready") return;
        worker.off("message", onMessage);
        worker.off("error", reject);
        resolve();
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
    });
    return { worker, ready };
  }
}
