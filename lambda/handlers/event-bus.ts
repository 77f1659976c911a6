/**
 * Entry adapters: the change events' way out, EventBridge's PutEvents on the
 * stack's bus. Entries go in calls of at most 10 and 256 KB (EventBridge's
 * limits); the entries a call reports as failed (`FailedEntryCount`) are sent
 * again a few times, then given up on, so that the publisher does not move
 * its position past them and its next run sends them again.
 */
import {
  EventBridgeClient,
  type EventBridgeClientConfig,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import type { Config } from "../config.ts";
import { serviceClientOptions } from "./aws-clients.ts";

/** EventBridge's limits on one PutEvents call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** Times a failed entry is sent again within one run, before the run gives up on it. */
const RESENDS = 3;

export function createEventBridgeClient(
  config: Pick<Config, "region" | "credentials" | "commands">,
  overrides: EventBridgeClientConfig = {},
): EventBridgeClient {
  const options = serviceClientOptions(config, config.commands.eventsEndpoint);
  return new EventBridgeClient({ ...options, ...overrides });
}

/**
 * The size EventBridge counts for an entry: its time (14 bytes), source,
 * detail type, detail and resources, in UTF-8.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const text = [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])];
  return 14 + text.reduce((sum, part) => sum + Buffer.byteLength(part ?? "", "utf8"), 0);
}

/** `entries` in order, cut into calls within EventBridge's limits. */
export function putEventsCalls(
  entries: readonly PutEventsRequestEntry[],
): PutEventsRequestEntry[][] {
  const calls: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (
      current.length === PUT_EVENTS_MAX_ENTRIES ||
      (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)
    ) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/** What became of one call's entries: which of them (by index) still failed, and why. */
export interface CallOutcome {
  failed: number[];
  errors: string[];
}

/**
 * Sends one call's entries, and again those EventBridge reports as failed,
 * up to `RESENDS` times with a short pause. A call that throws (the bus
 * unreachable, access denied) throws.
 */
export async function putEvents(
  client: EventBridgeClient,
  entries: readonly PutEventsRequestEntry[],
  sleep: (ms: number) => Promise<void>,
): Promise<CallOutcome> {
  let pending = entries.map((_, i) => i);
  let errors: string[] = [];
  for (let attempt = 0; ; attempt++) {
    const answer = await client.send(
      new PutEventsCommand({ Entries: pending.map((i) => entries[i] as PutEventsRequestEntry) }),
    );
    if ((answer.FailedEntryCount ?? 0) === 0) return { failed: [], errors: [] };
    const results = answer.Entries ?? [];
    errors = [];
    pending = pending.filter((_, n) => {
      const result = results[n];
      // An entry without an event id was not put, whether or not it says why.
      const failed = result?.EventId === undefined || result.ErrorCode !== undefined;
      if (failed) errors.push(`${result?.ErrorCode ?? "NoEventId"}: ${result?.ErrorMessage ?? ""}`);
      return failed;
    });
    if (pending.length === 0) return { failed: [], errors: [] };
    if (attempt >= RESENDS) return { failed: pending, errors };
    await sleep(100 * 2 ** attempt);
  }
}
