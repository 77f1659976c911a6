/**
 * Entry adapters: the invocation's metrics, in CloudWatch's embedded metric
 * format (EMF), serialised by Powertools for AWS Lambda's Metrics. They ride
 * on the invocation's one JSON log line: CloudWatch Logs extracts them from
 * the `_aws` block, so there is still exactly one line per invocation and no
 * PutMetricData call (no extra permission, no latency).
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { FileCodec } from "../storage/codec.ts";
import type { StorageReport } from "../storage/database-object.ts";
import type { Database } from "../storage/sql-js.ts";
export const METRICS_NAMESPACE = stryMutAct_9fa48("671") ? "" : (stryCov_9fa48("671"), "Rapatriements");
/** The one dimension every metric carries; alarms name it. */
export const METRICS_SERVICE = stryMutAct_9fa48("672") ? "" : (stryCov_9fa48("672"), "rapatriements");

/** Metric names, as the alarms and the README's table name them. */
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
  batchSize: "BatchSize"
} as const;

/**
 * The data object's size and record count as this container last saw them.
 * Filled by `measuredCodec` on every load and save; a 304 leaves them as they
 * are, which is still true since the object did not change.
 */
export interface ObjectGauge {
  objectBytes?: number;
  recordCount?: number;
}

/** `codec`, noting the bytes and the record count of each object it opens or writes. */
export function measuredCodec(codec: FileCodec, gauge: ObjectGauge): FileCodec {
  if (stryMutAct_9fa48("673")) {
    {}
  } else {
    stryCov_9fa48("673");
    const note = (bytes: Uint8Array, db: Database) => {
      if (stryMutAct_9fa48("674")) {
        {}
      } else {
        stryCov_9fa48("674");
        gauge.objectBytes = bytes.byteLength;
        gauge.recordCount = Number(// Stryker disable next-line OptionalChaining: SELECT COUNT(*) always answers one row of one value; `?.` is for the type only
        stryMutAct_9fa48("675") ?
        // Stryker disable next-line OptionalChaining: SELECT COUNT(*) always answers one row of one value; `?.` is for the type only
        db.exec("SELECT COUNT(*) FROM rapatriements")[0]?.values[0]?.[0] && 0 : (stryCov_9fa48("675"), db.exec(stryMutAct_9fa48("678") ? "" : (stryCov_9fa48("678"), "SELECT COUNT(*) FROM rapatriements"))[0]?.values[0]?.[0] ?? 0));
      }
    };
    return stryMutAct_9fa48("679") ? {} : (stryCov_9fa48("679"), {
      format: codec.format,
      contentType: codec.contentType,
      decode(bytes, SQL, schema, options) {
        if (stryMutAct_9fa48("680")) {
          {}
        } else {
          stryCov_9fa48("680");
          const db = codec.decode(bytes, SQL, schema, options);
          if (stryMutAct_9fa48("681")) {
            ;
          } else {
            stryCov_9fa48("681");
            note(bytes, db);
          }
          return db;
        }
      },
      encode(db, schema) {
        if (stryMutAct_9fa48("682")) {
          {}
        } else {
          stryCov_9fa48("682");
          const bytes = codec.encode(db, schema);
          if (stryMutAct_9fa48("683")) {
            ;
          } else {
            stryCov_9fa48("683");
            note(bytes, db);
          }
          return bytes;
        }
      }
    });
  }
}
export interface InvocationMeasures {
  report: StorageReport;
  /** The stable codes of what was answered as failed (one per failed command). */
  codes: readonly string[];
  gauge?: ObjectGauge | undefined;
  /** Commands in the invocation; only the commands function has one. */
  batchSize?: number;
}

// One per container; serialised and cleared synchronously, so invocations never mix.
const metrics = new Metrics(stryMutAct_9fa48("684") ? {} : (stryCov_9fa48("684"), {
  namespace: METRICS_NAMESPACE,
  serviceName: METRICS_SERVICE
}));

/** The EMF fields (`_aws`, `service`, and one field per metric) for the log line. */
export function metricFields(measures: InvocationMeasures): Record<string, unknown> {
  if (stryMutAct_9fa48("685")) {
    {}
  } else {
    stryCov_9fa48("685");
    const {
      report,
      codes,
      gauge
    } = measures;
    const count = stryMutAct_9fa48("686") ? () => undefined : (stryCov_9fa48("686"), (() => {
      const count = (code: string) => stryMutAct_9fa48("687") ? codes.length : (stryCov_9fa48("687"), codes.filter(stryMutAct_9fa48("688") ? () => undefined : (stryCov_9fa48("688"), c => stryMutAct_9fa48("691") ? c !== code : stryMutAct_9fa48("690") ? false : stryMutAct_9fa48("689") ? true : (stryCov_9fa48("689", "690", "691"), c === code))).length);
      return count;
    })());
    const conflicts = stryMutAct_9fa48("692") ? report.s3Calls.length : (stryCov_9fa48("692"), report.s3Calls.filter(stryMutAct_9fa48("693") ? () => undefined : (stryCov_9fa48("693"), call => stryMutAct_9fa48("696") ? call.command === "PutObject" || call.status === 412 || call.status === 409 : stryMutAct_9fa48("695") ? false : stryMutAct_9fa48("694") ? true : (stryCov_9fa48("694", "695", "696"), (stryMutAct_9fa48("698") ? call.command !== "PutObject" : stryMutAct_9fa48("697") ? true : (stryCov_9fa48("697", "698"), call.command === (stryMutAct_9fa48("699") ? "" : (stryCov_9fa48("699"), "PutObject")))) && (stryMutAct_9fa48("701") ? call.status === 412 && call.status === 409 : stryMutAct_9fa48("700") ? true : (stryCov_9fa48("700", "701"), (stryMutAct_9fa48("703") ? call.status !== 412 : stryMutAct_9fa48("702") ? false : (stryCov_9fa48("702", "703"), call.status === 412)) || (stryMutAct_9fa48("705") ? call.status !== 409 : stryMutAct_9fa48("704") ? false : (stryCov_9fa48("704", "705"), call.status === 409))))))).length);
    if (stryMutAct_9fa48("706")) {
      ;
    } else {
      stryCov_9fa48("706");
      metrics.addMetric(METRIC.conflicts, MetricUnit.Count, conflicts);
    }
    metrics.addMetric(METRIC.retries, MetricUnit.Count, stryMutAct_9fa48("708") ? Math.min(0, report.attempts - 1) : (stryCov_9fa48("708"), Math.max(0, stryMutAct_9fa48("709") ? report.attempts + 1 : (stryCov_9fa48("709"), report.attempts - 1))));
    metrics.addMetric(METRIC.busyAnswers, MetricUnit.Count, count(stryMutAct_9fa48("711") ? "" : (stryCov_9fa48("711"), "STORAGE_BUSY")));
    metrics.addMetric(METRIC.outcomeUnknown, MetricUnit.Count, count(stryMutAct_9fa48("713") ? "" : (stryCov_9fa48("713"), "STORAGE_OUTCOME_UNKNOWN")));
    metrics.addMetric(METRIC.cacheHits, MetricUnit.Count, (stryMutAct_9fa48("717") ? report.cache !== "hit" : stryMutAct_9fa48("716") ? false : stryMutAct_9fa48("715") ? true : (stryCov_9fa48("715", "716", "717"), report.cache === (stryMutAct_9fa48("718") ? "" : (stryCov_9fa48("718"), "hit")))) ? 1 : 0);
    if (stryMutAct_9fa48("721") ? gauge?.objectBytes === undefined : stryMutAct_9fa48("720") ? false : stryMutAct_9fa48("719") ? true : (stryCov_9fa48("719", "720", "721"), (stryMutAct_9fa48("722") ? gauge.objectBytes : (stryCov_9fa48("722"), gauge?.objectBytes)) !== undefined)) {
      if (stryMutAct_9fa48("723")) {
        {}
      } else {
        stryCov_9fa48("723");
        if (stryMutAct_9fa48("724")) {
          ;
        } else {
          stryCov_9fa48("724");
          metrics.addMetric(METRIC.objectBytes, MetricUnit.Bytes, gauge.objectBytes);
        }
      }
    }
    if (stryMutAct_9fa48("727") ? gauge?.recordCount === undefined : stryMutAct_9fa48("726") ? false : stryMutAct_9fa48("725") ? true : (stryCov_9fa48("725", "726", "727"), (stryMutAct_9fa48("728") ? gauge.recordCount : (stryCov_9fa48("728"), gauge?.recordCount)) !== undefined)) {
      if (stryMutAct_9fa48("729")) {
        {}
      } else {
        stryCov_9fa48("729");
        if (stryMutAct_9fa48("730")) {
          ;
        } else {
          stryCov_9fa48("730");
          metrics.addMetric(METRIC.recordCount, MetricUnit.Count, gauge.recordCount);
        }
      }
    }
    if (stryMutAct_9fa48("733") ? measures.batchSize === undefined : stryMutAct_9fa48("732") ? false : stryMutAct_9fa48("731") ? true : (stryCov_9fa48("731", "732", "733"), measures.batchSize !== undefined)) {
      if (stryMutAct_9fa48("734")) {
        {}
      } else {
        stryCov_9fa48("734");
        if (stryMutAct_9fa48("735")) {
          ;
        } else {
          stryCov_9fa48("735");
          metrics.addMetric(METRIC.batchSize, MetricUnit.Count, measures.batchSize);
        }
      }
    }
    try {
      if (stryMutAct_9fa48("736")) {
        {}
      } else {
        stryCov_9fa48("736");
        return metrics.serializeMetrics() as unknown as Record<string, unknown>;
      }
    } finally {
      if (stryMutAct_9fa48("737")) {
        {}
      } else {
        stryCov_9fa48("737");
        if (stryMutAct_9fa48("738")) {
          ;
        } else {
          stryCov_9fa48("738");
          metrics.clearMetrics();
        }
      }
    }
  }
}