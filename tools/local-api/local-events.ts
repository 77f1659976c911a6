/**
 * Local tools: the change events of `npm start`, as in production. The bus
 * `rapatriements` is created on the local server (moto serves EventBridge
 * and SQS beside S3) with a rule whose target is an SQS queue, as a
 * consumer's would be. After each answered write (never before the answer)
 * the events publisher runs — the same handler as the deployed function,
 * with a container of its own — and what the rule's target received is
 * listed at `GET /_local/events` (newest last, each as a target receives it:
 * `{ id, source, "detail-type", detail, time }`), one short line each on
 * the terminal.
 *
 * The publisher's position object is not kept across restarts (only the
 * data is, in .local/): the first run after a start publishes again the
 * events of the last 12 hours, as a publisher that lost its position must.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Context } from "aws-lambda";
import type { Environment } from "../../lambda/environment.ts";
import { createSqsClient } from "../../lambda/handlers/commands-queue.ts";
import { createDependencies, createPublication } from "../../lambda/handlers/composition-root.ts";
import { createEventBridgeClient } from "../../lambda/handlers/event-bus.ts";
import {
  createPublishEventsHandler,
  type PublishResult,
} from "../../lambda/handlers/publish-events.ts";
import { EVENT_SOURCE } from "../../lambda/rapatriements/outbox.ts";
import { createBusTarget, type DeliveredEvent, drainBusTarget } from "../local-sqs/bus-target.ts";
import { lambdaContext } from "./api-gateway.ts";
import { coalesced } from "./coalesced.ts";

export const LOCAL_EVENTS_PATH = "/_local/events";

export interface LocalEvents {
  /** Runs the publisher soon, after the current answer has gone out; runs again if asked meanwhile. */
  publishSoon(): void;
  /** `app`, with `GET /_local/events` served before it. */
  serve(app: RequestListener): RequestListener;
  /** The events the target received so far, oldest first. */
  readonly received: readonly DeliveredEvent[];
  /** Waits for a run under way. */
  close(): Promise<void>;
}

export async function startLocalEvents(options: {
  /** The local server's endpoint (S3, SQS and EventBridge alike). */
  endpoint: string;
  settings: Environment;
  log: (line: string) => void;
}): Promise<LocalEvents> {
  const { endpoint, settings, log } = options;
  const container = await createDependencies(settings);
  const local = {
    ...container.config,
    commands: { ...container.config.commands, eventsEndpoint: endpoint, sqsEndpoint: endpoint },
  };
  const publication = { ...createPublication(container, settings) };
  publication.events = createEventBridgeClient(local);
  const sqs = createSqsClient(local);
  const target = await createBusTarget(
    { events: publication.events, sqs },
    {
      busName: publication.busName,
      queueName: "rapatriements-local-events",
      source: EVENT_SOURCE,
    },
  );
  const publish = createPublishEventsHandler({
    dependencies: async () => container,
    // The function's own log line would drown the terminal; its events are shown below.
    log: () => {},
    publication,
  }) as (event: unknown, context: Context) => Promise<PublishResult>;

  const received: DeliveredEvent[] = [];
  let runs = 0;
  const publisher = coalesced(async () => {
    runs += 1;
    try {
      await publish({}, lambdaContext(`local-publish-${runs}`));
    } catch (error) {
      log(`events: the publisher failed (${String(error)}); the next write publishes again`);
    }
    for (const event of await drainBusTarget(sqs, target)) {
      received.push(event);
      log(eventLine(event));
    }
  });

  // Events saved before this start (the data of .local/) are published once now.
  publisher.soon();
  return {
    received,
    publishSoon: () => publisher.soon(),
    serve(app) {
      return (request, response) => {
        if (new URL(request.url ?? "/", "http://localhost").pathname !== LOCAL_EVENTS_PATH) {
          return app(request, response);
        }
        answer(request, response, received);
      };
    },
    close: () => publisher.settled(),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  received: readonly DeliveredEvent[],
): void {
  request.resume();
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { allow: "GET", "content-type": "application/json" });
    response.end(JSON.stringify({ message: "Method Not Allowed" }));
    return;
  }
  const listed = received.map((e) => ({
    id: e.id,
    source: e.source,
    "detail-type": e["detail-type"],
    detail: e.detail,
    time: e.time,
  }));
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(listed, null, 2));
}

/** One short line: `event Rapatriement Updated RAP-1 v2 status draft → requested`. */
export function eventLine(event: DeliveredEvent): string {
  const { detail } = event;
  const type = event["detail-type"];
  if (typeof detail.reference !== "string") {
    return `  event ${type}: ${String(detail.count)} rapatriements (${String(detail.eventId)})`;
  }
  const changes = Object.entries(
    (detail.changes ?? {}) as Record<string, { from: unknown; to: unknown }>,
  ).map(([field, { from, to }]) =>
    field === "status" ? `status ${String(from)} → ${String(to)}` : field,
  );
  const what = changes.length === 0 ? "" : ` ${changes.join(", ")}`;
  return `  event ${type} ${detail.reference} v${String(detail.version)}${what}`;
}
