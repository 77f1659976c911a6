/**
 * Infrastructure: the change events' names and settings, with no CDK import,
 * so that the operators' CLI (`redrive`, `doctor`) speaks of the same bus,
 * the same events and the same fix as the stack sets.
 */

import { DETAIL_TYPES } from "../lambda/rapatriements/outbox.ts";

/** The `source` of every change event (the outbox's); nobody but the publisher may put it on the bus. */
export { EVENT_SOURCE as EVENTS_SOURCE } from "../lambda/rapatriements/outbox.ts";

/** The `detail-type` of each change event, as the outbox names them and docs/events/ describes them. */
export const EVENT_DETAIL_TYPES: readonly string[] = Object.values(DETAIL_TYPES);

/** The custom bus the stack creates (context `eventBusName`): the publisher's and the CLI's default (`EVENT_BUS_NAME`). */
export { DEFAULT_EVENT_BUS_NAME } from "../lambda/config.ts";
/** The variable that names the bus to the publisher and to the CLI. */
export const EVENT_BUS_NAME_VARIABLE = "EVENT_BUS_NAME";
/** Days the archive keeps the change events for replay (context `eventArchiveDays`). */
export const DEFAULT_EVENT_ARCHIVE_DAYS = 90;
/**
 * Publication lag, in seconds, past which the PublicationLag alarm fires
 * (context `publicationLagAlarmSeconds`): three runs of the 5-minute schedule
 * that would have caught up on a missed notification.
 */
export const DEFAULT_PUBLICATION_LAG_ALARM_SECONDS = 900;
/** How often the scheduled run catches up on what a notification missed. */
export const PUBLISH_SCHEDULE_MINUTES = 5;

/** The publisher's metrics (namespace and dimension: lambda/handlers/metrics.ts). */
export const PUBLICATION_METRIC = {
  eventsPublished: "EventsPublished",
  lagMs: "PublicationLagMs",
  failures: "PublicationFailures",
} as const;

/** Where the publisher keeps its position (`EVENTS_POSITION_KEY`'s default). */
export { eventsPositionKey } from "../lambda/config.ts";

/**
 * EventBridge's rule for a bus name: 1 to 256 of letters, digits, `.`, `-`,
 * `_` and `/`; not `default` (the account's bus, which we do not own) and no
 * `aws.` prefix (reserved for partner buses).
 */
export function eventBusNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9._/-]{1,256}$/.test(name)) {
    return "1 to 256 letters, digits, dots, hyphens, underscores or slashes";
  }
  if (name === "default") return "not default: the account's own bus is not the stack's to govern";
  if (name.startsWith("aws.")) return "no aws. prefix: those names are for partner event sources";
  return undefined;
}

/**
 * The command that turns on the bucket's notifications to EventBridge, which
 * the publisher's rule listens to (the stack sets it on its own bucket).
 * put-bucket-notification-configuration replaces the whole configuration:
 * give the bucket's current one (`aws s3api get-bucket-notification-configuration`)
 * and the command keeps it.
 */
export function eventBridgeNotificationsFix(
  bucket: string,
  current: Record<string, unknown> = {},
): string {
  const configuration = JSON.stringify({ ...current, EventBridgeConfiguration: {} });
  return `aws s3api put-bucket-notification-configuration --bucket ${bucket} --notification-configuration '${configuration.replaceAll("'", "'\\''")}'`;
}
