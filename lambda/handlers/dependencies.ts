/**
 * Entry adapters: what every handler needs, built once per container (the S3
 * client, the compiled sql.js module, the cached database) and passed to the
 * handler factories. Tests build their own and pass them in instead.
 */
import { loadConfig, readEnvironment } from "../config.ts";
import { rapatriementsSchema } from "../rapatriements/schema.ts";
import { RapatriementService } from "../rapatriements/service.ts";
import { codecFor } from "../storage/codecs.ts";
import {
  DatabaseObject,
  type StorageReport,
  type TransactionOptions,
} from "../storage/database-object.ts";
import { createS3Client } from "../storage/s3-client.ts";
import { loadSqlJs } from "../storage/sql-js.ts";
import { measuredCodec, type ObjectGauge } from "./metrics.ts";

export type Service = RapatriementService<TransactionOptions>;

export interface Dependencies {
  service: Service;
  store: DatabaseObject;
  /** The data object's size and record count, for the metrics; absent in tests that skip them. */
  gauge?: ObjectGauge;
}

export type LogLine = Record<string, unknown>;

export interface HandlerDeps {
  /** Resolved on first use, so that a configuration error is answered (and logged) like any other. */
  dependencies: () => Promise<Dependencies>;
  log: (line: LogLine) => void;
}

/** Builds the dependencies from the configuration (environment, then `.env`). */
export async function createDependencies(
  env: Readonly<Record<string, string | undefined>> = readEnvironment(),
): Promise<Dependencies> {
  const config = loadConfig(env);
  const gauge: ObjectGauge = {};
  const store = new DatabaseObject({
    s3: createS3Client(config),
    sql: await loadSqlJs(),
    schema: rapatriementsSchema,
    codec: measuredCodec(codecFor(config.strategy), gauge),
    target: { bucket: config.bucket, key: config.key, region: config.region },
  });
  return { store, gauge, service: new RapatriementService({ store }) };
}

let containerDependencies: Promise<Dependencies> | undefined;

/** The container's dependencies: created on first use, then shared by every invocation. */
export function containerDefaults(): HandlerDeps {
  return {
    dependencies: () => {
      containerDependencies ??= createDependencies().catch((error: unknown) => {
        containerDependencies = undefined; // the next invocation tries again
        throw error;
      });
      return containerDependencies;
    },
    log: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
  };
}

/** What every storage call of an invocation carries: its report, and the Lambda's deadline. */
export function transactionOptions(
  context: { getRemainingTimeInMillis?: () => number },
  report: StorageReport | undefined,
): TransactionOptions {
  const options: TransactionOptions = {};
  if (report !== undefined) options.report = report;
  const remaining = context.getRemainingTimeInMillis?.();
  if (typeof remaining === "number" && remaining > 0) options.deadline = Date.now() + remaining;
  return options;
}
