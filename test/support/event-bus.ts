/**
 * Test support: the change events' way out on the local server — a bus of
 * the test's own, a rule on it whose target is an SQS queue (what a
 * consumer's target receives is read back from there), and the events
 * publisher over a test's engine, its position kept beside the test's data.
 */
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { createSqsClient } from "../../lambda/handlers/commands-queue.ts";
import type { Publication } from "../../lambda/handlers/composition-root.ts";
import { createEventBridgeClient } from "../../lambda/handlers/event-bus.ts";
import type { LogLine } from "../../lambda/handlers/log-line.ts";
import {
  createPublishEventsHandler,
  type PublisherDeps,
  type PublishResult,
} from "../../lambda/handlers/publish-events.ts";
import { EVENT_SOURCE } from "../../lambda/rapatriements/outbox.ts";
import { SSE_S3 } from "../../lambda/storage/encryption.ts";
import { lambdaContext } from "../../tools/local-api/api-gateway.ts";
import {
  type BusTarget,
  createBusTarget,
  type DeliveredEvent,
  drainBusTarget,
} from "../../tools/local-sqs/bus-target.ts";
import { validateEvent } from "./event-schemas.ts";
import { localEndpoint, localS3Client, newEngine, REGION, type Target } from "./local-s3.ts";

export interface TestBus {
  events: EventBridgeClient;
  sqs: SQSClient;
  target: BusTarget;
  /** What the rule's target received since the last call, each event checked against its schema. */
  received(): Promise<DeliveredEvent[]>;
}

let buses = 0;

function localConfig() {
  return {
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    commands: {
      maxReceiveCount: 5,
      visibilityTimeoutSeconds: 180,
      sqsEndpoint: localEndpoint(),
      eventsEndpoint: localEndpoint(),
    },
  };
}

/** A client of the local server's EventBridge of a test's own (to stub, say). */
export function localEventBridge(): EventBridgeClient {
  return createEventBridgeClient(localConfig(), { maxAttempts: 1 });
}

/** A bus of this test's own, with a rule sending our events to a queue. */
export async function newTestBus(): Promise<TestBus> {
  const config = localConfig();
  const events = localEventBridge();
  const sqs = createSqsClient(config);
  buses += 1;
  const name = `events-${process.pid}-${Date.now().toString(36)}-${buses}`;
  const target = await createBusTarget(
    { events, sqs },
    { busName: name, queueName: `${name}-target`, source: EVENT_SOURCE },
  );
  return {
    events,
    sqs,
    target,
    async received() {
      const delivered = await drainBusTarget(sqs, target);
      for (const event of delivered) validateEvent(event);
      return delivered;
    },
  };
}

/** The publisher's view of `bus`, its position beside `data`. */
export function publicationFor(
  bus: TestBus,
  data: Target,
  events: EventBridgeClient = bus.events,
): Publication {
  return {
    s3: localS3Client(),
    events,
    busName: bus.target.busName,
    position: { bucket: data.bucket, key: `${data.key}.events-position.json` },
    encryption: SSE_S3,
  };
}

/** The events publisher over its own engine (a container of its own) on `data`. */
export async function newPublisher(
  data: Target,
  publication: Publication,
  overrides: Partial<PublisherDeps> = {},
): Promise<{ run: () => Promise<PublishResult>; lines: LogLine[] }> {
  const engine = await newEngine(data);
  const lines: LogLine[] = [];
  const handler = createPublishEventsHandler({
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: (line) => lines.push(line),
    publication,
    sleep: async () => {},
    ...overrides,
  }) as (event: unknown, context: Context) => Promise<PublishResult>;
  let runs = 0;
  return {
    run: () => {
      runs += 1;
      return handler({}, lambdaContext(`publish-${runs}`));
    },
    lines,
  };
}
