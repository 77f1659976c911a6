/**
 * Entry adapter: the events publisher, the function that sends the outbox's
 * change events (lambda/rapatriements/outbox.ts) to the stack's EventBridge
 * bus. S3's `Object Created` event for the data key starts it after each
 * save, a schedule every 5 minutes catches anything missed, and `npm start`
 * calls it with `{}`; each run does the same: read the data object, publish
 * the events after its position, then move the position.
 *
 * At least once: events are published first and the position moved after,
 * with a conditional PUT on an object of its own (EVENTS_POSITION_KEY), so a
 * run that dies in between, or whose PutEvents fails, leaves the position
 * where it was and the next run publishes those events again. A consumer
 * tells a repeat by `detail.eventId`. The publisher never writes the data
 * object, so it never competes with the writers for it.
 */
// First: in Lambda it starts the object's GET before the modules below evaluate.
import "./container-start.ts";
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { EVENT_SOURCE } from "../rapatriements/outbox.ts";
import {
  eventsAfter,
  type OutboxEvent,
  type OutboxPosition,
} from "../rapatriements/outbox-events.ts";
import { monotonicMs } from "../storage/monotonic-clock.ts";
import { readSmallObject, replaceSmallObject } from "../storage/small-object.ts";
import { emptyReport } from "../storage/transaction-options.ts";
import {
  containerDefaults,
  createPublication,
  type HandlerDeps,
  type Publication,
} from "./composition-root.ts";
import { putEvents, putEventsCalls } from "./event-bus.ts";
import { invocationLine, round } from "./log-line.ts";
import { publicationMetricFields } from "./metrics.ts";

export interface PublisherDeps extends HandlerDeps {
  /** The bus, its client and the position's object; by default built from the container's configuration. */
  publication?: Publication;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a run did. */
export interface PublishResult {
  published: number;
  /** Events a failure left unpublished (the next run sends them). */
  failed: number;
  /** Where the position now is (undefined: nothing was ever published). */
  position: OutboxPosition | undefined;
  /** The longest time from a change to its publication, in this run (ms). */
  lagMs: number | undefined;
  /** The outbox did not follow on from the position: every event in it was given again. */
  restarted: boolean;
}

/** The position object as stored: the last event published, and when. */
interface StoredPosition extends OutboxPosition {
  publishedAt: string;
}

const POSITION_WRITES = 5;

export function createPublishEventsHandler(deps: PublisherDeps) {
  let publication = deps.publication;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  return middy<unknown, PublishResult>().handler(async (event, context: Context) => {
    const started = monotonicMs();
    const report = emptyReport();
    const trigger = triggerOf(event);
    let result: PublishResult | undefined;
    let failure: unknown;
    try {
      const container = await deps.dependencies();
      publication ??= createPublication(container);
      const { store } = container;
      const target = publication.position;
      const read = await readSmallObject(publication.s3, target);
      const from = positionOf(read.value);
      const pending = await store.read((db) => eventsAfter(db, from), { report });
      if (pending.unreadable.length > 0) {
        report.warnings.push(
          `outbox rows without their record, left out: ${pending.unreadable.join(", ")}`,
        );
      }
      const sent = await publish(publication, pending.events, now, sleep);
      let position = from;
      if (sent.last !== undefined) {
        position = await movePosition(publication, read.etag, sent.last, now);
      }
      result = {
        published: sent.published,
        failed: pending.events.length - sent.published,
        position,
        lagMs: sent.lagMs,
        restarted: pending.restarted,
      };
      failure = sent.failure;
    } catch (error) {
      failure = error;
    }
    const line = invocationLine({
      level: failure === undefined ? "info" : "error",
      requestId: context.awsRequestId,
      route: "publish-events",
      fields: {
        trigger,
        published: result?.published ?? 0,
        failed: result?.failed ?? 0,
        ...(result?.restarted === true ? { restarted: true } : {}),
        position: result?.position ?? null,
        lagMs: result?.lagMs ?? null,
        durationMs: round(monotonicMs() - started),
      },
      report,
      error: failure,
      closing: publicationMetricFields({
        published: result?.published ?? 0,
        lagMs: result?.lagMs,
        // A run that failed before it knew what was pending still failed once.
        failures: failure === undefined ? 0 : Math.max(1, result?.failed ?? 0),
      }),
    });
    deps.log(line);
    // Failing the run makes Lambda (or EventBridge) try it again soon.
    if (failure !== undefined) throw failure;
    return result as PublishResult;
  });
}

/** What set the run off: S3's event, the schedule, or a direct call. */
function triggerOf(event: unknown): string {
  const type = (event as { "detail-type"?: unknown } | null)?.["detail-type"];
  return typeof type === "string" ? type : "direct";
}

function positionOf(value: unknown): OutboxPosition | undefined {
  const stored = value as Partial<StoredPosition> | undefined;
  if (typeof stored?.seq !== "number" || typeof stored.commit !== "string") return undefined;
  return { seq: stored.seq, commit: stored.commit };
}

/** The entry EventBridge is given for an event: its time is the change's. */
export function entryOf(busName: string, event: OutboxEvent): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: EVENT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    Time: new Date(event.at),
  };
}

/**
 * Publishes `events` in order, call by call; stops at the first call that
 * fails. `last` is the last event of the unbroken run of published ones.
 */
async function publish(
  publication: Publication,
  events: readonly OutboxEvent[],
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): Promise<{ published: number; last?: OutboxEvent; lagMs?: number; failure?: unknown }> {
  const entries = events.map((event) => entryOf(publication.busName, event));
  let published = 0;
  let lagMs: number | undefined;
  for (const call of putEventsCalls(entries)) {
    const batch = events.slice(published, published + call.length);
    let outcome: Awaited<ReturnType<typeof putEvents>>;
    try {
      outcome = await putEvents(publication.events, call, sleep);
    } catch (error) {
      return { published, ...lastOf(events, published), lagMs, failure: error };
    }
    const sentAt = now();
    const through = outcome.failed.length === 0 ? batch.length : Math.min(...outcome.failed);
    for (const event of batch.slice(0, through)) lagMs = Math.max(lagMs ?? 0, sentAt - event.at);
    published += through;
    if (outcome.failed.length > 0) {
      const failure = new Error(
        `EventBridge refused ${outcome.failed.length} event(s) after retries: ${outcome.errors.join("; ")}`,
      );
      return { published, ...lastOf(events, published), lagMs, failure };
    }
  }
  return { published, ...lastOf(events, published), lagMs };
}

function lastOf(events: readonly OutboxEvent[], published: number): { last?: OutboxEvent } {
  const last = events[published - 1];
  return last === undefined ? {} : { last };
}

/**
 * Moves the position to `last`, if the position object is still the one
 * read. Where another run moved it meanwhile, the position furthest on is
 * kept: both runs published everything up to their own.
 */
async function movePosition(
  publication: Publication,
  etag: string | null,
  last: OutboxEvent,
  now: () => number,
): Promise<OutboxPosition> {
  const ours: StoredPosition = {
    seq: last.seq,
    commit: last.commit,
    publishedAt: new Date(now()).toISOString(),
  };
  let expected = etag;
  for (let attempt = 1; ; attempt++) {
    const saved = await replaceSmallObject(
      publication.s3,
      publication.position,
      ours,
      expected,
      publication.encryption,
    );
    if (saved === "saved") return { seq: ours.seq, commit: ours.commit };
    const theirs = await readSmallObject(publication.s3, publication.position);
    const moved = positionOf(theirs.value);
    if (moved !== undefined && moved.seq >= ours.seq) return moved;
    if (attempt >= POSITION_WRITES) {
      throw new Error(
        "the events position kept changing: it was not moved (the next run publishes again)",
      );
    }
    expected = theirs.etag;
  }
}

export const handler = createPublishEventsHandler(containerDefaults());
