/**
 * Benchmarks: publication lag, from a change to its event on the bus. One
 * container writes (updates, one after another, as fast as it can), while
 * the events publisher — a container of its own, the deployed handler —
 * runs after each write as `npm start` runs it (after the answer, one run at
 * a time, once more if writes came meanwhile), against a bus on the local
 * server with a rule -> SQS target. An event's lag is the end of the
 * publisher run that put it on the bus minus the change's time (its
 * `detail.time`). Locally, S3 and EventBridge are one server answering one
 * request at a time, shared with the writer: read the figures as orders of
 * magnitude. In AWS the run starts on S3's `Object Created` event instead,
 * which EventBridge delivers in about a second.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { eventsPositionKey } from "../../lambda/config.ts";
import { createSqsClient } from "../../lambda/handlers/commands-queue.ts";
import { createEventBridgeClient } from "../../lambda/handlers/event-bus.ts";
import {
  createPublishEventsHandler,
  type PublishResult,
} from "../../lambda/handlers/publish-events.ts";
import { EVENT_SOURCE } from "../../lambda/rapatriements/outbox.ts";
import type { RapatriementService } from "../../lambda/rapatriements/service.ts";
import type { DatabaseObject } from "../../lambda/storage/database-object.ts";
import { SSE_S3 } from "../../lambda/storage/encryption.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";
import { lambdaContext } from "../local-api/api-gateway.ts";
import { coalesced } from "../local-api/coalesced.ts";
import { createBusTarget, drainBusTarget } from "../local-sqs/bus-target.ts";
import { percentile } from "./stats.ts";

export interface LagResult {
  records: number;
  writes: number;
  events: number;
  publisherRuns: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LagInput {
  endpoint: string;
  region: string;
  bucket: string;
  key: string;
  records: number;
  writes: number;
  /** The writing container, warm. */
  writer: RapatriementService<TransactionOptions>;
  /** The publisher's container: its own client and cache. */
  publisher: {
    store: DatabaseObject;
    service: RapatriementService<TransactionOptions>;
    s3: S3Client;
  };
}

export async function publicationLag(input: LagInput): Promise<LagResult> {
  const config = {
    region: input.region,
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    commands: {
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 180,
      eventsEndpoint: input.endpoint,
      sqsEndpoint: input.endpoint,
    },
  };
  const events = createEventBridgeClient(config);
  const sqs = createSqsClient(config);
  const name = `bench-events-${Date.now().toString(36)}`;
  const target = await createBusTarget(
    { events, sqs },
    { busName: name, queueName: `${name}-target`, source: EVENT_SOURCE },
  );
  const publish = createPublishEventsHandler({
    dependencies: async () => input.publisher,
    log: () => {},
    publication: {
      s3: input.publisher.s3,
      events,
      busName: name,
      position: { bucket: input.bucket, key: eventsPositionKey(input.key) },
      encryption: SSE_S3,
    },
  }) as (event: unknown, context: Context) => Promise<PublishResult>;

  // Events saved before (the seeding write) are published first, untimed.
  await publish({}, lambdaContext("bench-publish-0"));
  await drainBusTarget(sqs, target);

  const lags: number[] = [];
  let runs = 0;
  const publisher = coalesced(async () => {
    runs += 1;
    await publish({}, lambdaContext(`bench-publish-${runs}`));
    const done = Date.now();
    for (const event of await drainBusTarget(sqs, target)) {
      lags.push(done - Date.parse(String(event.detail.time)));
    }
  });
  for (let i = 0; i < input.writes; i++) {
    // Every fifth seeded record is a draft (seed.ts), which can always change.
    const id = `seed-${((i * 7919) % Math.floor(input.records / 5)) * 5}`;
    await input.writer.update(id, { comment: `publication lag ${i}` });
    publisher.soon();
  }
  await publisher.settled();
  return {
    records: input.records,
    writes: input.writes,
    events: lags.length,
    publisherRuns: runs,
    p50Ms: Math.round(percentile(lags, 50)),
    p99Ms: Math.round(percentile(lags, 99)),
    maxMs: Math.round(Math.max(...lags)),
  };
}

export function describeLag(result: LagResult): string {
  return `publication lag p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (max ${result.maxMs} ms) over ${result.events} events of ${result.writes} back-to-back updates, ${result.publisherRuns} publisher runs`;
}
