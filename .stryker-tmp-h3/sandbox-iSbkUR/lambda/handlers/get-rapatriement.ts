/** Entry adapter: `GET /rapatriements/{id}`. */
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
import { etagOf, header, httpHandler, json, pathId } from "./http-handler.ts";
export function getRapatriementHandler(deps: HandlerDeps) {
  if (stryMutAct_9fa48("325")) {
    {}
  } else {
    stryCov_9fa48("325");
    return httpHandler(stryMutAct_9fa48("326") ? "" : (stryCov_9fa48("326"), "GET /rapatriements/{id}"), deps, async (event, {
      service,
      storage
    }) => {
      if (stryMutAct_9fa48("327")) {
        {}
      } else {
        stryCov_9fa48("327");
        const record = await service.get(pathId(event), storage);
        const etag = etagOf(record);
        if (stryMutAct_9fa48("329") ? false : stryMutAct_9fa48("328") ? true : (stryCov_9fa48("328", "329"), noneMatch(header(event, stryMutAct_9fa48("330") ? "" : (stryCov_9fa48("330"), "if-none-match")), etag))) return stryMutAct_9fa48("331") ? {} : (stryCov_9fa48("331"), {
          statusCode: 304,
          headers: stryMutAct_9fa48("332") ? {} : (stryCov_9fa48("332"), {
            etag
          })
        });
        return json(200, record, stryMutAct_9fa48("333") ? {} : (stryCov_9fa48("333"), {
          etag
        }));
      }
    });
  }
}

/** RFC 9110's If-None-Match: weak comparison, a list of ETags, or `*`. */
function noneMatch(value: string | undefined, etag: string): boolean {
  if (stryMutAct_9fa48("334")) {
    {}
  } else {
    stryCov_9fa48("334");
    if (stryMutAct_9fa48("337") ? value !== undefined : stryMutAct_9fa48("336") ? false : stryMutAct_9fa48("335") ? true : (stryCov_9fa48("335", "336", "337"), value === undefined)) return stryMutAct_9fa48("338") ? true : (stryCov_9fa48("338"), false);
    return stryMutAct_9fa48("339") ? value.split(",")
    // Stryker disable next-line Regex: our ETags are a number in quotes, so "W/" can only come first
    .map(tag => tag.trim().replace(/^W\//, "")).every(tag => tag === "*" || tag === etag) : (stryCov_9fa48("339"), value.split(stryMutAct_9fa48("340") ? "" : (stryCov_9fa48("340"), ","))
    // Stryker disable next-line Regex: our ETags are a number in quotes, so "W/" can only come first
    .map(stryMutAct_9fa48("341") ? () => undefined : (stryCov_9fa48("341"), tag => stryMutAct_9fa48("342") ? tag.replace(/^W\//, "") : (stryCov_9fa48("342"), tag.trim().replace(stryMutAct_9fa48("343") ? /W\// : (stryCov_9fa48("343"), /^W\//), stryMutAct_9fa48("344") ? "Stryker was here!" : (stryCov_9fa48("344"), ""))))).some(stryMutAct_9fa48("345") ? () => undefined : (stryCov_9fa48("345"), tag => stryMutAct_9fa48("348") ? tag === "*" && tag === etag : stryMutAct_9fa48("347") ? false : stryMutAct_9fa48("346") ? true : (stryCov_9fa48("346", "347", "348"), (stryMutAct_9fa48("350") ? tag !== "*" : stryMutAct_9fa48("349") ? false : (stryCov_9fa48("349", "350"), tag === (stryMutAct_9fa48("351") ? "" : (stryCov_9fa48("351"), "*")))) || (stryMutAct_9fa48("353") ? tag !== etag : stryMutAct_9fa48("352") ? false : (stryCov_9fa48("352", "353"), tag === etag))))));
  }
}