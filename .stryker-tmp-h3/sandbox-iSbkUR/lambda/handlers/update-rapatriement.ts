/** Entry adapter: `PATCH /rapatriements/{id}`. */
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
import type { HandlerDeps } from "./dependencies.ts";
import { etagOf, httpHandler, json, pathId, writeOptions } from "./http-handler.ts";
export function updateRapatriementHandler(deps: HandlerDeps) {
  if (stryMutAct_9fa48("774")) {
    {}
  } else {
    stryCov_9fa48("774");
    return httpHandler(stryMutAct_9fa48("775") ? "" : (stryCov_9fa48("775"), "PATCH /rapatriements/{id}"), deps, async (event, {
      service,
      storage
    }) => {
      if (stryMutAct_9fa48("776")) {
        {}
      } else {
        stryCov_9fa48("776");
        const record = await service.update(pathId(event), event.jsonBody, writeOptions(event), storage);
        return json(200, record, stryMutAct_9fa48("777") ? {} : (stryCov_9fa48("777"), {
          etag: etagOf(record)
        }));
      }
    });
  }
}