/**
 * Entry adapters: the first half of the composition root — the one place
 * that opens a container's clients — and the first module a Lambda container
 * evaluates (each function's entry imports it before anything else, and an
 * ES module's imports evaluate in order). In Lambda it opens them at import,
 * the data object's GET and sql.js's compile included, before the rest of
 * the bundle (the validation, the domain, the handlers, middy) is evaluated,
 * and waits until the GET is on the wire: the rest then evaluates while S3
 * answers. Anywhere else (tests, the CLI, the local API) it opens nothing at
 * import. What is built on the clients is composition-root.ts's part; it is
 * kept out of this file so that this one stays light to evaluate.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import type { S3Client } from "@aws-sdk/client-s3";
import { type Config, loadConfig } from "../config.ts";
import { type Environment, readEnvironment } from "../environment.ts";
import { type Prefetch, prefetchObject } from "../storage/object-fetch.ts";
import { createS3Client } from "../storage/s3-client.ts";
import { loadSqlJs, type SqlJsStatic } from "../storage/sql-js.ts";

/** A container's clients: its configuration, its S3 client, sql.js's module, the object's GET. */
export interface Clients {
  config: Config;
  s3: S3Client;
  sql: Promise<SqlJsStatic>;
  /** The object's GET, started with the clients when asked for. */
  prefetch?: Prefetch | undefined;
}

/** What the init phase started, for the container's dependencies to take over. */
export interface ContainerStart extends Clients {
  prefetch: Prefetch;
}

export interface ClientOptions {
  /** Starts the object's GET now, so that it travels while sql.js compiles. */
  prefetch?: boolean;
  /**
   * The process environment, which says which credentials the SDK's default
   * chain already sees (see `loadConfig`); default `process.env`.
   */
  processEnv?: Environment;
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

/** Lambda's runtime sets this variable in every function: the one sign of a Lambda container. */
export function inLambda(env: Environment): boolean {
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
}

/**
 * Opens a container's clients from the configuration `env` holds. With
 * `prefetch`, the object's GET is sent first and sql.js's wasm compiles
 * while it travels. Throws the configuration's `ValueError`, before anything
 * is opened.
 */
export function openClients(
  env: Environment,
  options: ClientOptions & { prefetch: true },
): ContainerStart;
export function openClients(env: Environment, options?: ClientOptions): Clients;
export function openClients(env: Environment, options: ClientOptions = {}): Clients {
  const config = loadConfig(env, options.processEnv);
  const s3 = createS3Client(config);
  const prefetch =
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BooleanLiteral: with or without prefetch the same object is read (test/lambda/handlers/composition-root.test.ts); prefetch only starts the download sooner, which `npm run bench` measures
    options.prefetch === true ? prefetchObject(s3, config) : undefined;
  const sql = loadSqlJs();
  sql.catch(() => undefined); // answered by whoever awaits it
  return { config, s3, sql, prefetch };
}

/**
 * Opens the clients, when in Lambda and the configuration is valid; an
 * invalid one is left for the first invocation to answer, as any
 * configuration error is.
 */
export function startContainer(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ContainerStart | undefined {
  if (!inLambda(env)) return undefined;
  try {
    return openClients(readEnvironment(env), { prefetch: true });
  } catch {
    return undefined;
  }
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
