/**
 * Test support: clients and buckets on the local S3 server, and engines built
 * the way a Lambda container builds its own (own client, own cache).
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { expect, inject } from "vitest";
import type { StorageStrategy } from "../../lambda/config.ts";
import { OUTBOX_WINDOW_MS } from "../../lambda/rapatriements/outbox.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { DatabaseObject, type DatabaseObjectDeps } from "../../lambda/storage/database-object.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { type Database, loadSqlJs } from "../../lambda/storage/sql-js.ts";
import type {
  StorageReport,
  TransactionOptions,
} from "../../lambda/storage/transaction-options.ts";

export const REGION = "eu-west-1";

export function localEndpoint(): string {
  return inject("s3Endpoint");
}

export function localS3Client(region = REGION, overrides: S3ClientConfig = {}): S3Client {
  return createS3Client(
    {
      region,
      s3Endpoint: localEndpoint(),
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    },
    // No SDK retries unless a test asks: keeps request counts exact.
    { maxAttempts: 1, ...overrides },
  );
}

let buckets = 0;

/** A bucket name no other test uses. */
export function uniqueBucketName(prefix = "t"): string {
  buckets += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${buckets}`.toLowerCase();
}

export async function createBucket(client: S3Client, name = uniqueBucketName()): Promise<string> {
  await client.send(
    new CreateBucketCommand({
      Bucket: name,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  return name;
}

export interface Target {
  bucket: string;
  key: string;
  strategy: StorageStrategy;
}

export async function newTarget(strategy: StorageStrategy): Promise<Target> {
  const bucket = await createBucket(localS3Client());
  return {
    bucket,
    key: `rapatriements/rapatriements.${strategy === "json" ? "json" : "db"}`,
    strategy,
  };
}

/** A target in a versioned bucket, as the stack's: a deletion leaves a delete marker. */
export async function newVersionedTarget(strategy: StorageStrategy): Promise<Target> {
  const target = await newTarget(strategy);
  await localS3Client().send(
    new PutBucketVersioningCommand({
      Bucket: target.bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
  return target;
}

/** A storage engine as one Lambda container would have it: its own client and cache. */
export async function newEngine(
  target: Target,
  overrides: Partial<DatabaseObjectDeps> = {},
): Promise<{
  store: DatabaseObject;
  service: RapatriementService<TransactionOptions>;
  s3: S3Client;
}> {
  const s3 = overrides.s3 ?? localS3Client();
  const store = new DatabaseObject({
    s3,
    sql: await loadSqlJs(),
    schema: rapatriementsSchema,
    codec: codecFor(target.strategy),
    target: { bucket: target.bucket, key: target.key, region: REGION },
    ...overrides,
  });
  return { store, s3, service: new RapatriementService({ store }) };
}

/**
 * An engine and a service on one simulated clock (`clock.now`, epoch ms),
 * for what happens by age: receipts and events expiring.
 */
export async function newClockedEngine(
  target: Target,
  start = Date.parse("2026-03-01T08:00:00.000Z"),
) {
  const clock = { now: start };
  const { store, s3 } = await newEngine(target, { now: () => clock.now });
  const service = new RapatriementService({ store, now: () => new Date(clock.now) });
  return { clock, store, s3, service };
}

/**
 * Moves `clock` past the change events' window and saves once more (a new
 * record): the events that held the older changes' records are then gone.
 */
export async function pastEventsWindow(
  clock: { now: number },
  service: RapatriementService<TransactionOptions>,
): Promise<void> {
  clock.now += OUTBOX_WINDOW_MS + 60_000;
  await service.create(sampleInput(`after-the-window-${clock.now}`));
}

export async function etagOf(target: Target): Promise<string | undefined> {
  const head = await localS3Client().send(
    new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
  );
  return head.ETag;
}

export async function getBytes(target: Target): Promise<Uint8Array> {
  const object = await localS3Client().send(
    new GetObjectCommand({ Bucket: target.bucket, Key: target.key }),
  );
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}

/** What `sql` selects from a stored object, decoded as the engine decodes it. */
export async function tableRows(strategy: StorageStrategy, bytes: Uint8Array, sql: string) {
  const SQL = await loadSqlJs();
  const db = codecFor(strategy).decode(bytes, SQL, rapatriementsSchema);
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

export async function putBytes(
  target: Target,
  body: Uint8Array | string,
): Promise<string | undefined> {
  const put = await localS3Client().send(
    new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: body }),
  );
  return put.ETag;
}

export interface RecordedRequest {
  command: string;
  status: number | undefined;
}

/** Records every request the client sends (SDK retries included) and its HTTP status. */
export function recordRequests(client: S3Client): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? "").replace(/Command$/, "");
      try {
        const output = await next(args);
        requests.push({ command, status: (output.response as { statusCode?: number }).statusCode });
        return output;
      } catch (error) {
        requests.push({
          command,
          status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        });
        throw error;
      }
    },
    { step: "deserialize", name: "recordRequests" },
  );
  return requests;
}

/** The S3 calls an operation reported, as "command status" (as its log line shows them). */
export function callsOf(report: StorageReport): string[] {
  return report.s3Calls.map((call) => `${call.command} ${call.status}`);
}

/** How many rapatriements a database holds. */
export function recordCount(db: Database): number {
  return Number(db.exec("SELECT COUNT(*) FROM rapatriements")[0]?.values[0]?.[0]);
}

/** A valid create body; `n` makes the reference unique. */
export function sampleInput(n: number | string, overrides: Record<string, unknown> = {}) {
  return {
    reference: `RAP-${n}`,
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: `SKU-${n}`, quantity: 3, unit: "carton" }],
    ...overrides,
  };
}

/**
 * `body` stored by hand, then a write through a fresh engine: refused as
 * STORAGE_UNREADABLE with `message`, after one GET and no other request, and
 * the object is left exactly as it was.
 */
export async function expectStoredAndRefused(
  target: Target,
  body: Uint8Array | string,
  message: string,
): Promise<void> {
  const etag = await putBytes(target, body);
  const { service, s3 } = await newEngine(target);
  const requests = recordRequests(s3);
  await expect(service.create(sampleInput(2))).rejects.toMatchObject({
    status: 500,
    code: "STORAGE_UNREADABLE",
    message,
  });
  expect(await etagOf(target)).toBe(etag);
  expect(requests.map((r) => r.command)).toEqual(["GetObject"]);
}
