/**
 * Benchmarks: what one Lambda container of the product holds — its own S3
 * client, sql.js instance and cached database — warmed by a first read, as a
 * container that has served before. Each worker thread builds one.
 */

import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { DatabaseObject } from "../../lambda/storage/database-object.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";

export interface ContainerTarget {
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
}

export async function warmContainer(target: ContainerTarget) {
  const store = new DatabaseObject({
    s3: createS3Client({
      region: target.region,
      s3Endpoint: target.endpoint,
      credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    }),
    sql: await loadSqlJs(),
    schema: rapatriementsSchema,
    codec: codecFor("sqlite"),
    target: { bucket: target.bucket, key: target.key, region: target.region },
  });
  const service = new RapatriementService<TransactionOptions>({ store });
  await service.get("seed-0");
  return { store, service };
}
