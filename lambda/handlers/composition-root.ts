/**
 * Entry adapters: the composition root — the one place that builds a
 * container: its clients (opened by container-start.ts, the root's first
 * half, which Lambda evaluates first) and what is built on them, the storage
 * engine over the data object, its gauge for the metrics, and the domain's
 * service. Every entry calls it: the Lambda functions (`containerDefaults`,
 * once per container), the operators' CLI and the local API
 * (`createDependencies`). Tests build their own dependencies and pass them
 * to the handler factories instead; the bench builds bare storage engines,
 * to time the engine alone.
 */

import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { S3Client } from "@aws-sdk/client-s3";
import { type Config, loadEventsConfig } from "../config.ts";
import { type Environment, readEnvironment } from "../environment.ts";
import { RapatriementService } from "../rapatriements/service.ts";
import { rapatriementsSchema } from "../rapatriements/tables.ts";
import { codecFor } from "../storage/codec-for-strategy.ts";
import { DatabaseObject } from "../storage/database-object.ts";
import { type ObjectEncryption, objectEncryption } from "../storage/encryption.ts";
import type { SmallObjectTarget } from "../storage/small-object.ts";
import type { SqlJsStatic } from "../storage/sql-js.ts";
import type { TransactionOptions } from "../storage/transaction-options.ts";
import {
  type ClientOptions,
  type ContainerStart,
  inLambda,
  openClients,
  takeContainerStart,
} from "./container-start.ts";
import { createEventBridgeClient } from "./event-bus.ts";
import type { LogLine } from "./log-line.ts";
import { measuredCodec, type ObjectGauge } from "./metrics.ts";

export type Service = RapatriementService<TransactionOptions>;

/** What the handlers need of a container. */
export interface Dependencies {
  service: Service;
  store: DatabaseObject;
  /** What they were built from; the commands function builds its queue from it. */
  config?: Config;
  /** The data object's size and record count, for the metrics; absent in tests that skip them. */
  gauge?: ObjectGauge;
  /** The container's S3 client; the events publisher keeps its position with it. */
  s3?: S3Client;
}

/** What the composition root builds: a container, its clients included (the tools use them). */
export interface Container extends Dependencies {
  config: Config;
  s3: S3Client;
  sql: SqlJsStatic;
  gauge: ObjectGauge;
}

export interface ContainerOptions extends ClientOptions {
  /** What the init phase opened (container-start.ts): taken over, not opened again. */
  started?: ContainerStart | undefined;
}

/** What the events publisher needs besides a container: the bus, its client, its position's object. */
export interface Publication {
  s3: S3Client;
  events: EventBridgeClient;
  busName: string;
  position: SmallObjectTarget;
  encryption: ObjectEncryption;
}

/**
 * The events publisher's clients and settings, on a container's S3 client
 * and configuration (the bus and the position's key: `loadEventsConfig`).
 */
export function createPublication(
  container: Dependencies,
  env: Environment = readEnvironment(),
): Publication {
  const { config, s3 } = container;
  if (config === undefined || s3 === undefined) {
    throw new Error("internal: the events publisher needs a container built from a configuration");
  }
  const events = loadEventsConfig(env, config.key);
  return {
    s3,
    events: createEventBridgeClient(config),
    busName: events.busName,
    position: { bucket: config.bucket, key: events.positionKey },
    encryption: objectEncryption(config.sseKmsKeyId),
  };
}

export interface HandlerDeps {
  /** Resolved on first use, so that a configuration error is answered (and logged) like any other. */
  dependencies: () => Promise<Dependencies>;
  log: (line: LogLine) => void;
}

/**
 * Builds a container from the configuration `env` holds (by default the
 * environment, then `.env`), or on the clients the init phase opened
 * (`started`). With `prefetch`, the object's download starts as soon as the
 * configuration names it, and runs while sql.js compiles.
 */
export async function createDependencies(
  env: Environment = readEnvironment(),
  options: ContainerOptions = {},
): Promise<Container> {
  const { config, s3, sql, prefetch } = options.started ?? openClients(env, options);
  const SQL = await sql;
  const gauge: ObjectGauge = {};
  const store = new DatabaseObject({
    s3,
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BooleanLiteral,ObjectLiteral: with or without prefetch the same object is read (test/lambda/handlers/composition-root.test.ts); prefetch only starts the download sooner, which `npm run bench` measures
    ...(prefetch === undefined ? {} : { prefetch }),
    sql: SQL,
    schema: rapatriementsSchema,
    codec: measuredCodec(codecFor(config.strategy), gauge),
    target: { bucket: config.bucket, key: config.key, region: config.region },
    encryption: objectEncryption(config.sseKmsKeyId),
  });
  return { config, s3, sql: SQL, store, gauge, service: new RapatriementService({ store }) };
}

let containerDependencies: Promise<Dependencies> | undefined;

/**
 * The container's dependencies: created once, then shared by every
 * invocation. In Lambda they are built at import, in the init phase, on the
 * clients container-start.ts opened before the rest of the bundle evaluated;
 * anywhere else (tests, the local API's containers) on first use. A failure
 * — a configuration error, a missing wasm file — is not kept: the next
 * invocation builds again and answers the error (and a configuration error
 * stops before any read).
 */
export function containerDefaults(
  env: Readonly<Record<string, string | undefined>> = process.env,
): HandlerDeps {
  const atInit = inLambda(env);
  if (atInit) void containerDependenciesOnce(true).catch(() => undefined);
  return {
    dependencies: () => containerDependenciesOnce(atInit),
    log: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
  };
}

function containerDependenciesOnce(prefetch: boolean): Promise<Dependencies> {
  if (containerDependencies === undefined) {
    const building = createDependencies(readEnvironment(), {
      prefetch,
      started: takeContainerStart(),
    }).catch((error: unknown) => {
      if (containerDependencies === building) containerDependencies = undefined;
      throw error;
    });
    containerDependencies = building;
  }
  return containerDependencies;
}
