/**
 * Entry adapters: the parts of a handler's one JSON log line that every
 * handler shares — what the storage cost, and what went wrong.
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
import { AppError } from "../errors.ts";
import type { StorageReport } from "../storage/database-object.ts";

/** S3 calls with their status and time, retries, and whether the cached database was reused. */
export function storageFields(report: StorageReport): Record<string, unknown> {
  if (stryMutAct_9fa48("638")) {
    {}
  } else {
    stryCov_9fa48("638");
    const fields: Record<string, unknown> = stryMutAct_9fa48("639") ? {} : (stryCov_9fa48("639"), {
      s3: stryMutAct_9fa48("640") ? {} : (stryCov_9fa48("640"), {
        calls: report.s3Calls.map(stryMutAct_9fa48("641") ? () => undefined : (stryCov_9fa48("641"), c => stryMutAct_9fa48("642") ? `` : (stryCov_9fa48("642"), `${c.command} ${stryMutAct_9fa48("643") ? c.status && "no-response" : (stryCov_9fa48("643"), c.status ?? (stryMutAct_9fa48("644") ? "" : (stryCov_9fa48("644"), "no-response")))} ${round(c.ms)}ms`))),
        count: report.s3Calls.length,
        ms: round(report.s3Calls.reduce(stryMutAct_9fa48("645") ? () => undefined : (stryCov_9fa48("645"), (sum, c) => stryMutAct_9fa48("646") ? sum - c.ms : (stryCov_9fa48("646"), sum + c.ms)), 0))
      }),
      retries: stryMutAct_9fa48("647") ? Math.min(0, report.attempts - 1) : (stryCov_9fa48("647"), Math.max(0, stryMutAct_9fa48("648") ? report.attempts + 1 : (stryCov_9fa48("648"), report.attempts - 1))),
      cache: stryMutAct_9fa48("649") ? report.cache && null : (stryCov_9fa48("649"), report.cache ?? null)
    });
    if (stryMutAct_9fa48("653") ? report.roundSize <= 1 : stryMutAct_9fa48("652") ? report.roundSize >= 1 : stryMutAct_9fa48("651") ? false : stryMutAct_9fa48("650") ? true : (stryCov_9fa48("650", "651", "652", "653"), report.roundSize > 1)) fields.roundSize = report.roundSize;
    if (stryMutAct_9fa48("657") ? report.warnings.length <= 0 : stryMutAct_9fa48("656") ? report.warnings.length >= 0 : stryMutAct_9fa48("655") ? false : stryMutAct_9fa48("654") ? true : (stryCov_9fa48("654", "655", "656", "657"), report.warnings.length > 0)) fields.warnings = report.warnings;
    return fields;
  }
}

/** The stable code of an error: its own for ours, INTERNAL_ERROR for anything else. */
export function codeOf(error: unknown): string {
  if (stryMutAct_9fa48("658")) {
    {}
  } else {
    stryCov_9fa48("658");
    return error instanceof AppError ? error.code : stryMutAct_9fa48("659") ? "" : (stryCov_9fa48("659"), "INTERNAL_ERROR");
  }
}

/** Error name, message and causes, for the log only. */
export function describeError(error: unknown): Record<string, unknown> {
  if (stryMutAct_9fa48("660")) {
    {}
  } else {
    stryCov_9fa48("660");
    const out: Record<string, unknown> = {};
    if (stryMutAct_9fa48("662") ? false : stryMutAct_9fa48("661") ? true : (stryCov_9fa48("661", "662"), error instanceof Error)) {
      if (stryMutAct_9fa48("663")) {
        {}
      } else {
        stryCov_9fa48("663");
        out.name = error.name;
        out.message = error.message;
        if (stryMutAct_9fa48("666") ? error.cause === undefined : stryMutAct_9fa48("665") ? false : stryMutAct_9fa48("664") ? true : (stryCov_9fa48("664", "665", "666"), error.cause !== undefined)) out.cause = describeError(error.cause);
      }
    } else {
      if (stryMutAct_9fa48("667")) {
        {}
      } else {
        stryCov_9fa48("667");
        out.message = String(error);
      }
    }
    return out;
  }
}
export function round(ms: number): number {
  if (stryMutAct_9fa48("668")) {
    {}
  } else {
    stryCov_9fa48("668");
    return stryMutAct_9fa48("669") ? Math.round(ms * 10) * 10 : (stryCov_9fa48("669"), Math.round(stryMutAct_9fa48("670") ? ms / 10 : (stryCov_9fa48("670"), ms * 10)) / 10);
  }
}