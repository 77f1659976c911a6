/**
 * Operators' CLI: what every command needs — the configuration read as the
 * Lambda functions read it, an S3 client, and the storage engine — and how
 * it talks to the person at the terminal.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { type Config, loadConfig } from "../../lambda/config.ts";
import { type Environment, readEnvironment } from "../../lambda/environment.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { DatabaseObject } from "../../lambda/storage/database-object.ts";
import { objectEncryption } from "../../lambda/storage/encryption.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Asks a yes/no question; undefined when nobody can answer (not a terminal). */
  confirm?(question: string): Promise<boolean>;
  /**
   * Rewrites the one progress line ("" clears it); undefined when nobody
   * watches (not a terminal), so logs hold only the summary lines.
   */
  progress?(line: string): void;
}

export interface CliEnvironment {
  /** The process environment (credentials visible to the SDK's default chain). */
  processEnv: Environment;
  /** Where `.env` is looked for. */
  cwd: string;
}

export interface Context {
  config: Config;
  s3: S3Client;
  sql: SqlJsStatic;
  store: DatabaseObject;
  service: RapatriementService<TransactionOptions>;
}

/** A usage error: bad arguments. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function readConfig(env: CliEnvironment): Config {
  return loadConfig(readEnvironment(env.processEnv, env.cwd), env.processEnv);
}

export async function openContext(env: CliEnvironment): Promise<Context> {
  const config = readConfig(env);
  const s3 = createS3Client(config);
  const sql = await loadSqlJs();
  const store = new DatabaseObject({
    s3,
    sql,
    schema: rapatriementsSchema,
    codec: codecFor(config.strategy),
    target: { bucket: config.bucket, key: config.key, region: config.region },
    encryption: objectEncryption(config.sseKmsKeyId),
  });
  return { config, s3, sql, store, service: new RapatriementService({ store }) };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
