/**
 * Test support: faults a real S3 server cannot be made to produce, injected
 * below the SDK (so its own retries run, as in production): 500s and 503
 * throttling answers, a request that times out before reaching the server,
 * a PUT that lands but whose response is lost, and a slow server.
 */
// @ts-nocheck

import { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { localEndpoint, REGION } from "./local-s3.ts";

export type Fault =
  | { kind: "status"; status: 500 | 503; code: "InternalError" | "SlowDown" }
  | { kind: "timeout" }
  | { kind: "lost-response" }
  | { kind: "slow"; ms: number };

interface Request {
  method: string;
  headers: Record<string, string>;
}

/** Decides, for each HTTP request the client sends (SDK retries included), whether it fails. */
export type FaultPlan = (request: { method: string; n: number }) => Fault | undefined;

class FaultInjectingHandler extends NodeHttpHandler {
  private sent = 0;
  private readonly plan: FaultPlan;

  constructor(plan: FaultPlan) {
    super();
    this.plan = plan;
  }

  override async handle(
    request: Request & Parameters<NodeHttpHandler["handle"]>[0],
    options?: Parameters<NodeHttpHandler["handle"]>[1],
  ) {
    const n = this.sent++;
    const fault = this.plan({ method: request.method, n });
    if (fault?.kind === "status") {
      const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`;
      return {
        response: {
          statusCode: fault.status,
          reason: fault.code,
          headers: { "content-type": "application/xml", "content-length": String(body.length) },
          body: Readable.from([Buffer.from(body)]),
        },
      } as unknown as Awaited<ReturnType<NodeHttpHandler["handle"]>>;
    }
    if (fault?.kind === "timeout") {
      throw Object.assign(new Error("injected: connection timed out"), { name: "TimeoutError" });
    }
    if (fault?.kind === "slow")
      await abortableDelay(fault.ms, options?.abortSignal as AbortSignal | undefined);
    const result = await super.handle(request, options);
    if (fault?.kind === "lost-response") {
      // Let the server finish, then lose the answer.
      for await (const _ of result.response.body as Readable) {
        // drain
      }
      throw Object.assign(new Error("injected: socket hang up"), {
        name: "TimeoutError",
        code: "ECONNRESET",
      });
    }
    return result;
  }
}

/** Waits `ms` before the request is sent, unless the caller aborts it first, as a stalled socket is. */
function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error("injected: request aborted"), { name: "AbortError" }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    if (signal?.aborted) aborted();
    else signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** A client of the local S3 server whose requests go through `plan`; the SDK retries as usual. */
export function faultInjectingClient(plan: FaultPlan, maxAttempts = 3): S3Client {
  return createS3Client(
    {
      region: REGION,
      s3Endpoint: localEndpoint(),
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    },
    {
      // The SDK's standard retries, with millisecond pauses to keep the suite quick.
      retryStrategy: new ConfiguredRetryStrategy(maxAttempts, () => 2),
      requestHandler: new FaultInjectingHandler(plan),
    },
  );
}
