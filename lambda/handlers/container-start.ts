/**
 * Entry adapters: the first module a Lambda container evaluates (each
 * function's entry imports it before anything else, and an ES module's
 * imports evaluate in order). In Lambda (the runtime sets
 * AWS_LAMBDA_FUNCTION_NAME) it starts the container's slow work — the data
 * object's GET and sql.js's compile — before the rest of the bundle (the
 * validation, the domain, the handlers, middy) is evaluated, and waits until
 * the GET is on the wire: the rest then evaluates while S3 answers, where it
 * used to be evaluated first and the GET sent after it. Anywhere else (tests,
 * the local API) it does nothing.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import type { S3Client } from "@aws-sdk/client-s3";
import { type Config, loadConfig } from "../config.ts";
import { readEnvironment } from "../environment.ts";
import { type Prefetch, prefetchObject } from "../storage/object-fetch.ts";
import { createS3Client } from "../storage/s3-client.ts";
import { loadSqlJs, type SqlJsStatic } from "../storage/sql-js.ts";

/** What the init phase started, for the container's dependencies to take over. */
export interface ContainerStart {
  config: Config;
  s3: S3Client;
  sql: Promise<SqlJsStatic>;
  prefetch: Prefetch;
}

/**
 * The most the init phase waits for the GET to be sent before evaluating the
 * rest anyway. Getting there takes the SDK's first request (its
 * configuration, signing, the connection): 60–120 ms measured on a busy
 * machine, all of it work the first request needs first. The bound only
 * stops a connection that hangs from holding the init phase; the SDK's
 * connection timeout (s3-client.ts) ends that request.
 */
export const SEND_WAIT_MS = 1_000;

/** Node's channel for each HTTP request a client starts (diagnostics_channel). */
const REQUEST_START = "http.client.request.start";

let started: ContainerStart | undefined;

/**
 * Starts the work, when in Lambda and the configuration is valid; an invalid
 * one is left for the first invocation to answer, as any configuration error is.
 */
export function startContainer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ContainerStart | undefined {
  if (env.AWS_LAMBDA_FUNCTION_NAME === undefined) return undefined;
  let config: Config;
  try {
    config = loadConfig(readEnvironment(env));
  } catch {
    return undefined;
  }
  const s3 = createS3Client(config);
  const prefetch = prefetchObject(s3, config);
  const sql = loadSqlJs();
  sql.catch(() => undefined); // answered by the invocation that awaits it
  return { config, s3, sql, prefetch };
}

/**
 * Resolves once the next HTTP request this process starts has been handed to
 * the operating system (or answered, or failed), or after `maxMs`.
 */
export function requestSent(maxMs: number = SEND_WAIT_MS): Promise<void> {
  return new Promise((resolve) => {
    let request: ClientRequest | undefined;
    const done = () => {
      clearTimeout(timer);
      unsubscribe(REQUEST_START, onStart);
      resolve();
    };
    const onStart = (message: unknown) => {
      if (request !== undefined) return;
      request = (message as { request: ClientRequest }).request;
      request.once("finish", done).once("response", done).once("error", done);
    };
    const timer = setTimeout(done, maxMs);
    subscribe(REQUEST_START, onStart);
  });
}

/** The work the init phase started, once: the first caller takes it over. */
export function takeContainerStart(): ContainerStart | undefined {
  const taken = started;
  started = undefined;
  return taken;
}

started = startContainer();
// The GET's request is started a few microtasks from now, after this subscribes.
if (started !== undefined) await requestSent();
