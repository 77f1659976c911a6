/** Entry adapter: `POST /rapatriements`. */
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
import { callerOf } from "./caller.ts";
import type { HandlerDeps } from "./dependencies.ts";
import { etagOf, header, httpHandler, json } from "./http-handler.ts";
export function createRapatriementHandler(deps: HandlerDeps) {
  if (stryMutAct_9fa48("257")) {
    {}
  } else {
    stryCov_9fa48("257");
    return httpHandler(stryMutAct_9fa48("258") ? "" : (stryCov_9fa48("258"), "POST /rapatriements"), deps, async (event, {
      service,
      storage
    }) => {
      if (stryMutAct_9fa48("259")) {
        {}
      } else {
        stryCov_9fa48("259");
        const idempotencyKey = header(event, stryMutAct_9fa48("260") ? "" : (stryCov_9fa48("260"), "idempotency-key"));
        const actor = callerOf(event);
        const record = await service.create(event.jsonBody,
        // Stryker disable next-line ConditionalExpression: an idempotencyKey of undefined is no key, as an absent one
        (stryMutAct_9fa48("263") ? idempotencyKey !== undefined : (stryCov_9fa48("263"), idempotencyKey === undefined)) ? stryMutAct_9fa48("264") ? {} : (stryCov_9fa48("264"), {
          actor
        }) : stryMutAct_9fa48("265") ? {} : (stryCov_9fa48("265"), {
          idempotencyKey,
          actor
        }), storage);
        return json(201, record, stryMutAct_9fa48("266") ? {} : (stryCov_9fa48("266"), {
          location: stryMutAct_9fa48("267") ? `` : (stryCov_9fa48("267"), `/rapatriements/${encodeURIComponent(record.id)}`),
          etag: etagOf(record)
        }));
      }
    });
  }
}