/**
 * Entry adapters: the invocation's metrics, in CloudWatch's embedded metric
 * format (EMF), serialised by Powertools for AWS Lambda's Metrics. They ride
 * on the invocation's one JSON log line: CloudWatch Logs extracts them from
 * the `_aws` block, so there is still exactly one line per invocation and no
 * PutMetricData call (no extra permission, no latency).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { FileCodec } from "../storage/file-codec.ts";
import type { Database } from "../storage/sql-js.ts";
import type { StorageReport } from "../storage/transaction-options.ts";

export const METRICS_NAMESPACE = "Rapatriements";
/** The one dimension every metric carries; alarms name it. */
export const METRICS_SERVICE = "rapatriements";

/** Metric names, as the alarms and docs/deploy.md's table ("Metrics and alarms") name them. */
export const METRIC = {
  /** PUTs refused because the object changed meanwhile (412 or 409). */
  conflicts: "Conflicts",
  /** PUT attempts after the first. */
  retries: "Retries",
  /** Answers "busy, nothing applied: retry" (STORAGE_BUSY). */
  busyAnswers: "BusyAnswers",
  /** Answers "may have been applied" (STORAGE_OUTCOME_UNKNOWN). */
  outcomeUnknown: "OutcomeUnknown",
  /** Loads served by a 304 from the container's cached database. */
  cacheHits: "CacheHits",
  /** Size of the data object as last loaded or saved. */
  objectBytes: "ObjectBytes",
  /** Records in the data object as last loaded or saved. */
  recordCount: "RecordCount",
  /** Commands in one invocation of the commands function. */
  batchSize: "BatchSize",
  /** Commands sent to the dead-letter queue with their reason (they cannot pass, or failed their last delivery). */
  commandsDeadLettered: "CommandsDeadLettered",
  /** Commands handed back to the queue for a later delivery (not found yet, out of order, busy). */
  commandsHandedBack: "CommandsHandedBack",
  /** Share of the records the invocation's save removed, of those in the object it replaced. */
  recordsRemovedPercent: "RecordsRemovedPercent",
  /** Change events the publisher put on the bus. */
  eventsPublished: "EventsPublished",
  /** The longest time from a change to its publication, in one run of the publisher. */
  publicationLagMs: "PublicationLagMs",
  /** Events a run of the publisher could not publish (the next run sends them again). */
  publicationFailures: "PublicationFailures",
} as const;

/**
 * The data object's size and record count as this container last saw them.
 * Filled by `measuredCodec` on every load and save; a 304 leaves them as they
 * are, which is still true since the object did not change.
 */
export interface ObjectGauge {
  objectBytes?: number;
  recordCount?: number;
  /**
   * The record count before and after the last save this container encoded:
   * before is what it last loaded or saved, the object that save replaces.
   * Taken (and cleared) by the metrics of the invocation whose save landed.
   */
  lastSave?: { recordsBefore: number; recordsAfter: number } | undefined;
}

/** `codec`, noting the bytes and the record count of each object it opens or writes. */
export function measuredCodec(codec: FileCodec, gauge: ObjectGauge): FileCodec {
  const note = (bytes: Uint8Array, db: Database) => {
    gauge.objectBytes = bytes.byteLength;
    gauge.recordCount = Number(
      // Stryker disable next-line OptionalChaining: SELECT COUNT(*) always answers one row of one value; `?.` is for the type only
      db.exec("SELECT COUNT(*) FROM rapatriements")[0]?.values[0]?.[0] ?? 0,
    );
  };
  return {
    format: codec.format,
    contentType: codec.contentType,
    decode(bytes, SQL, schema, options) {
      const db = codec.decode(bytes, SQL, schema, options);
      note(bytes, db);
      return db;
    },
    encode(db, schema) {
      const bytes = codec.encode(db, schema);
      // A save after a lost race is encoded again on a fresh load (decoded
      // first), so "before" is always the object this encoding would replace.
      const recordsBefore = gauge.recordCount;
      note(bytes, db);
      gauge.lastSave =
        recordsBefore === undefined
          ? undefined
          : { recordsBefore, recordsAfter: gauge.recordCount ?? 0 };
      return bytes;
    },
  };
}

export interface InvocationMeasures {
  report: StorageReport;
  /** The stable codes of what was answered as failed (one per failed command). */
  codes: readonly string[];
  gauge?: ObjectGauge | undefined;
  /** Commands in the invocation; only the commands function has one. */
  batchSize?: number;
  /** What became of the commands that did not pass; only the commands function has them. */
  commands?: { deadLettered: number; handedBack: number };
}

// One per container; serialised and cleared synchronously, so invocations never mix.
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

/** The EMF fields (`_aws`, `service`, and one field per metric) for the log line. */
export function metricFields(measures: InvocationMeasures): Record<string, unknown> {
  const { report, codes, gauge } = measures;
  const count = (code: string) => codes.filter((c) => c === code).length;
  const conflicts = report.s3Calls.filter(
    (call) => call.command === "PutObject" && (call.status === 412 || call.status === 409),
  ).length;
  metrics.addMetric(METRIC.conflicts, MetricUnit.Count, conflicts);
  metrics.addMetric(METRIC.retries, MetricUnit.Count, Math.max(0, report.attempts - 1));
  metrics.addMetric(METRIC.busyAnswers, MetricUnit.Count, count("STORAGE_BUSY"));
  metrics.addMetric(METRIC.outcomeUnknown, MetricUnit.Count, count("STORAGE_OUTCOME_UNKNOWN"));
  metrics.addMetric(METRIC.cacheHits, MetricUnit.Count, report.cache === "hit" ? 1 : 0);
  if (gauge?.objectBytes !== undefined) {
    metrics.addMetric(METRIC.objectBytes, MetricUnit.Bytes, gauge.objectBytes);
  }
  if (gauge?.recordCount !== undefined) {
    metrics.addMetric(METRIC.recordCount, MetricUnit.Count, gauge.recordCount);
  }
  const removed = removedPercent(report, gauge);
  if (removed !== undefined) {
    metrics.addMetric(METRIC.recordsRemovedPercent, MetricUnit.Percent, removed);
  }
  if (measures.batchSize !== undefined) {
    metrics.addMetric(METRIC.batchSize, MetricUnit.Count, measures.batchSize);
  }
  if (measures.commands !== undefined) {
    const { deadLettered, handedBack } = measures.commands;
    metrics.addMetric(METRIC.commandsDeadLettered, MetricUnit.Count, deadLettered);
    metrics.addMetric(METRIC.commandsHandedBack, MetricUnit.Count, handedBack);
  }
  return serialized();
}

/** The metrics added so far, as EMF fields; then none are left for the next line. */
function serialized(): Record<string, unknown> {
  try {
    return metrics.serializeMetrics() as unknown as Record<string, unknown>;
  } finally {
    metrics.clearMetrics();
  }
}

/** The events publisher's metrics: what one run published, its lag, its failures. */
export function publicationMetricFields(run: {
  published: number;
  lagMs: number | undefined;
  failures: number;
}): Record<string, unknown> {
  metrics.addMetric(METRIC.eventsPublished, MetricUnit.Count, run.published);
  if (run.lagMs !== undefined) {
    metrics.addMetric(METRIC.publicationLagMs, MetricUnit.Milliseconds, run.lagMs);
  }
  metrics.addMetric(METRIC.publicationFailures, MetricUnit.Count, run.failures);
  return serialized();
}

/**
 * The share of records this invocation's save removed (0 when it removed
 * none), or undefined when it saved nothing, or replaced an object holding no
 * record (or one this container had not loaded: nothing to compare with).
 * The gauge's last save is this invocation's when the report shows a PUT that
 * S3 accepted: a container runs one invocation at a time, and a save is
 * encoded anew on every attempt.
 */
function removedPercent(report: StorageReport, gauge: ObjectGauge | undefined): number | undefined {
  const saved = report.s3Calls.some((c) => c.command === "PutObject" && c.status === 200);
  const last = gauge?.lastSave;
  if (gauge !== undefined) gauge.lastSave = undefined;
  if (!saved || last === undefined || last.recordsBefore === 0) return undefined;
  const removed = Math.max(0, last.recordsBefore - last.recordsAfter);
  return Math.round((removed / last.recordsBefore) * 1000) / 10;
}
