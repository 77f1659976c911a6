/**
 * Entry adapters: who calls the HTTP API, as API Gateway's authorizer says —
 * never a header or the body, which the caller writes. The authorizer has
 * checked the caller before the function runs; its context is the only place
 * an identity can come from that the caller cannot choose.
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
import type { APIGatewayEventRequestContextIAMAuthorizer, APIGatewayEventRequestContextJWTAuthorizer, APIGatewayProxyEventV2 } from "aws-lambda";
import type { Actor } from "../rapatriements/model.ts";
type Authorizer = Partial<APIGatewayEventRequestContextJWTAuthorizer & APIGatewayEventRequestContextIAMAuthorizer>;

/**
 * The JWT's `sub` (JWT authorizer: `requestContext.authorizer.jwt.claims`),
 * else the IAM caller's ARN (IAM authorization: `requestContext.authorizer.iam`),
 * else `null`: an event with no authorizer, which the deployed API never
 * sends since every route has one.
 */
export function callerOf(event: APIGatewayProxyEventV2): Actor {
  if (stryMutAct_9fa48("233")) {
    {}
  } else {
    stryCov_9fa48("233");
    // The payload type leaves the authorizer out: it depends on the route's.
    const {
      authorizer
    } = event.requestContext as {
      authorizer?: Authorizer | null;
    };
    const sub = stryMutAct_9fa48("236") ? authorizer.jwt?.claims?.sub : stryMutAct_9fa48("235") ? authorizer?.jwt.claims?.sub : stryMutAct_9fa48("234") ? authorizer?.jwt?.claims.sub : (stryCov_9fa48("234", "235", "236"), authorizer?.jwt?.claims?.sub);
    if (stryMutAct_9fa48("239") ? typeof sub === "string" || sub !== "" : stryMutAct_9fa48("238") ? false : stryMutAct_9fa48("237") ? true : (stryCov_9fa48("237", "238", "239"), (stryMutAct_9fa48("241") ? typeof sub !== "string" : stryMutAct_9fa48("240") ? true : (stryCov_9fa48("240", "241"), typeof sub === (stryMutAct_9fa48("242") ? "" : (stryCov_9fa48("242"), "string")))) && (stryMutAct_9fa48("244") ? sub === "" : stryMutAct_9fa48("243") ? true : (stryCov_9fa48("243", "244"), sub !== (stryMutAct_9fa48("245") ? "Stryker was here!" : (stryCov_9fa48("245"), "")))))) return sub;
    const arn = stryMutAct_9fa48("247") ? authorizer.iam?.userArn : stryMutAct_9fa48("246") ? authorizer?.iam.userArn : (stryCov_9fa48("246", "247"), authorizer?.iam?.userArn);
    if (stryMutAct_9fa48("250") ? typeof arn === "string" || arn !== "" : stryMutAct_9fa48("249") ? false : stryMutAct_9fa48("248") ? true : (stryCov_9fa48("248", "249", "250"), (stryMutAct_9fa48("252") ? typeof arn !== "string" : stryMutAct_9fa48("251") ? true : (stryCov_9fa48("251", "252"), typeof arn === (stryMutAct_9fa48("253") ? "" : (stryCov_9fa48("253"), "string")))) && (stryMutAct_9fa48("255") ? arn === "" : stryMutAct_9fa48("254") ? true : (stryCov_9fa48("254", "255"), arn !== (stryMutAct_9fa48("256") ? "Stryker was here!" : (stryCov_9fa48("256"), "")))))) return arn;
    return null;
  }
}