/**
 * Entry adapters: what every handler needs, built once per container (the S3
 * client, the compiled sql.js module, the cached database) and passed to the
 * handler factories. Tests build their own and pass them in instead.
 */
import { type Config, loadConfig } from "../config.ts";
import { readEnvironment } from "../environment.ts";
import { RapatriementService } from "../rapatriements/service.ts";
import { rapatriementsSchema } from "../rapatriements/tables.ts";
import { codecFor } from "../storage/codec-for-strategy.ts";
import { DatabaseObject } from "../storage/database-object.ts";
import { objectEncryption } from "../storage/encryption.ts";
import { prefetchObject } from "../storage/object-fetch.ts";
import { createS3Client } from "../storage/s3-client.ts";
import { loadSqlJs } from "../storage/sql-js.ts";
import type { TransactionOptions } from "../storage/transaction-options.ts";
import { type ContainerStart, takeContainerStart } from "./container-start.ts";
import type { LogLine } from "./log-line.ts";
import { measuredCodec, type ObjectGauge } from "./metrics.ts";

export type Service = RapatriementService<TransactionOptions>;

export interface Dependencies {
  service: Service;
  store: DatabaseObject;
  /** What they were built from; the commands function builds its queue from it. */
  config?: Config;
  /** The data object's size and record count, for the metrics; absent in tests that skip them. */
  gauge?: ObjectGauge;
}

export interface HandlerDeps {
  /** Resolved on first use, so that a configuration error is answered (and logged) like any other. */
  dependencies: () => Promise<Dependencies>;
  log: (line: LogLine) => void;
}

/**
 * Builds the dependencies from the configuration (environment, then `.env`).
 * With `prefetch`, the object's download starts as soon as the configuration
 * names it, and runs while sql.js compiles. With `started`, they take over
 * what the init phase started instead (container-start.ts).
 */
export async function createDependencies(
  env: Readonly<Record<string, string | undefined>> = readEnvironment(),
  options: { prefetch?: boolean; started?: ContainerStart } = {},
): Promise<Dependencies> {
  const { started } = options;
  const config = started?.config ?? loadConfig(env);
  const sql = started?.sql ?? loadSqlJs();
  const s3 = started?.s3 ?? createS3Client(config);
  const target = { bucket: config.bucket, key: config.key, region: config.region };
  const prefetch =
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BooleanLiteral,ObjectLiteral: with or without prefetch the same object is read (test/lambda/handlers/composition-root.test.ts); prefetch only starts the download sooner, which `npm run bench` measures
    started?.prefetch ?? (options.prefetch === true ? prefetchObject(s3, target) : undefined);
  const gauge: ObjectGauge = {};
  const store = new DatabaseObject({
    s3,
    // Stryker disable next-line ConditionalExpression,EqualityOperator,BooleanLiteral,ObjectLiteral: with or without prefetch the same object is read (test/lambda/handlers/composition-root.test.ts); prefetch only starts the download sooner, which `npm run bench` measures
    ...(prefetch === undefined ? {} : { prefetch }),
    sql: await sql,
    schema: rapatriementsSchema,
    codec: measuredCodec(codecFor(config.strategy), gauge),
    target,
    encryption: objectEncryption(config.sseKmsKeyId),
  });
  return { store, gauge, config, service: new RapatriementService({ store }) };
}

let containerDependencies: Promise<Dependencies> | undefined;

/**
 * The container's dependencies: created once, then shared by every
 * invocation. In Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME) they are
 * started at import, in the init phase, object download included (begun by
 * container-start.ts before the rest of the bundle evaluates); anywhere
 * else (tests, the local API) on first use. A failure — a configuration
 * error, a missing wasm file — is not kept: the next invocation builds again
 * and answers the error (and a configuration error stops before any read).
 */
export function containerDefaults(
  env: Readonly<Record<string, string | undefined>> = process.env,
): HandlerDeps {
  const inLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  if (inLambda) void containerDependenciesOnce(true).catch(() => undefined);
  return {
    dependencies: () => containerDependenciesOnce(inLambda),
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
