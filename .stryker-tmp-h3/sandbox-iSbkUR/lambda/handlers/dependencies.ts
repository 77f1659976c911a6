/**
 * Entry adapters: what every handler needs, built once per container (the S3
 * client, the compiled sql.js module, the cached database) and passed to the
 * handler factories. Tests build their own and pass them in instead.
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
import { loadConfig, readEnvironment } from "../config.ts";
import { rapatriementsSchema } from "../rapatriements/schema.ts";
import { RapatriementService } from "../rapatriements/service.ts";
import { codecFor } from "../storage/codecs.ts";
import { DatabaseObject, type StorageReport, type TransactionOptions } from "../storage/database-object.ts";
import { prefetchObject } from "../storage/object-fetch.ts";
import { createS3Client } from "../storage/s3-client.ts";
import { loadSqlJs } from "../storage/sql-js.ts";
import { measuredCodec, type ObjectGauge } from "./metrics.ts";
export type Service = RapatriementService<TransactionOptions>;
export interface Dependencies {
  service: Service;
  store: DatabaseObject;
  /** The data object's size and record count, for the metrics; absent in tests that skip them. */
  gauge?: ObjectGauge;
}
export type LogLine = Record<string, unknown>;
export interface HandlerDeps {
  /** Resolved on first use, so that a configuration error is answered (and logged) like any other. */
  dependencies: () => Promise<Dependencies>;
  log: (line: LogLine) => void;
}

/**
 * Builds the dependencies from the configuration (environment, then `.env`).
 * With `prefetch`, the object's download starts as soon as the configuration
 * names it, and runs while sql.js compiles.
 */
export async function createDependencies(env: Readonly<Record<string, string | undefined>> = readEnvironment(), options: {
  prefetch?: boolean;
} = {}): Promise<Dependencies> {
  if (stryMutAct_9fa48("272")) {
    {}
  } else {
    stryCov_9fa48("272");
    const config = loadConfig(env);
    const sql = loadSqlJs();
    const s3 = createS3Client(config);
    const target = stryMutAct_9fa48("273") ? {} : (stryCov_9fa48("273"), {
      bucket: config.bucket,
      key: config.key,
      region: config.region
    });
    const gauge: ObjectGauge = {};
    const store = new DatabaseObject(stryMutAct_9fa48("274") ? {} : (stryCov_9fa48("274"), {
      s3,
      // Stryker disable next-line ConditionalExpression,EqualityOperator,BooleanLiteral,ObjectLiteral: with or without prefetch the same object is read (test/lambda/handlers/dependencies.test.ts); prefetch only starts the download sooner, which `npm run bench` measures
      ...(options.prefetch === true ? {
        prefetch: prefetchObject(s3, target)
      } : {}),
      sql: await sql,
      schema: rapatriementsSchema,
      codec: measuredCodec(codecFor(config.strategy), gauge),
      target
    }));
    return stryMutAct_9fa48("280") ? {} : (stryCov_9fa48("280"), {
      store,
      gauge,
      service: new RapatriementService(stryMutAct_9fa48("281") ? {} : (stryCov_9fa48("281"), {
        store
      }))
    });
  }
}
let containerDependencies: Promise<Dependencies> | undefined;

/**
 * The container's dependencies: created once, then shared by every
 * invocation. In Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME) they are
 * started at import, in the init phase, object download included; anywhere
 * else (tests, the local API) on first use. A failure — a configuration
 * error, a missing wasm file — is not kept: the next invocation builds again
 * and answers the error (and a configuration error stops before any read).
 */
export function containerDefaults(env: Readonly<Record<string, string | undefined>> = process.env): HandlerDeps {
  if (stryMutAct_9fa48("282")) {
    {}
  } else {
    stryCov_9fa48("282");
    const inLambda = stryMutAct_9fa48("285") ? env.AWS_LAMBDA_FUNCTION_NAME === undefined : stryMutAct_9fa48("284") ? false : stryMutAct_9fa48("283") ? true : (stryCov_9fa48("283", "284", "285"), env.AWS_LAMBDA_FUNCTION_NAME !== undefined);
    if (stryMutAct_9fa48("287") ? false : stryMutAct_9fa48("286") ? true : (stryCov_9fa48("286", "287"), inLambda)) void containerDependenciesOnce(stryMutAct_9fa48("288") ? false : (stryCov_9fa48("288"), true)).catch(() => undefined);
    return stryMutAct_9fa48("289") ? {} : (stryCov_9fa48("289"), {
      dependencies: stryMutAct_9fa48("290") ? () => undefined : (stryCov_9fa48("290"), () => containerDependenciesOnce(inLambda)),
      log: stryMutAct_9fa48("291") ? () => undefined : (stryCov_9fa48("291"), line => process.stdout.write(stryMutAct_9fa48("292") ? `` : (stryCov_9fa48("292"), `${JSON.stringify(line)}\n`)))
    });
  }
}
function containerDependenciesOnce(prefetch: boolean): Promise<Dependencies> {
  if (stryMutAct_9fa48("293")) {
    {}
  } else {
    stryCov_9fa48("293");
    if (stryMutAct_9fa48("296") ? containerDependencies !== undefined : stryMutAct_9fa48("295") ? false : stryMutAct_9fa48("294") ? true : (stryCov_9fa48("294", "295", "296"), containerDependencies === undefined)) {
      if (stryMutAct_9fa48("297")) {
        {}
      } else {
        stryCov_9fa48("297");
        const building = createDependencies(readEnvironment(), stryMutAct_9fa48("298") ? {} : (stryCov_9fa48("298"), {
          prefetch
        })).catch((error: unknown) => {
          if (stryMutAct_9fa48("299")) {
            {}
          } else {
            stryCov_9fa48("299");
            if (stryMutAct_9fa48("302") ? containerDependencies !== building : stryMutAct_9fa48("301") ? false : stryMutAct_9fa48("300") ? true : (stryCov_9fa48("300", "301", "302"), containerDependencies === building)) containerDependencies = undefined;
            throw error;
          }
        });
        containerDependencies = building;
      }
    }
    return containerDependencies;
  }
}

/**
 * What every storage call of an invocation carries: its report, the Lambda's
 * deadline, and when the request arrived (how recent a copy a read needs).
 */
export function transactionOptions(context: {
  getRemainingTimeInMillis?: () => number;
}, report: StorageReport | undefined, requestArrived?: number): TransactionOptions {
  if (stryMutAct_9fa48("303")) {
    {}
  } else {
    stryCov_9fa48("303");
    const options: TransactionOptions = {};
    if (stryMutAct_9fa48("306") ? report === undefined : stryMutAct_9fa48("305") ? false : stryMutAct_9fa48("304") ? true : (stryCov_9fa48("304", "305", "306"), report !== undefined)) options.report = report;
    if (stryMutAct_9fa48("309") ? typeof requestArrived === "number" || Number.isFinite(requestArrived) : stryMutAct_9fa48("308") ? false : stryMutAct_9fa48("307") ? true : (stryCov_9fa48("307", "308", "309"), (stryMutAct_9fa48("311") ? typeof requestArrived !== "number" : stryMutAct_9fa48("310") ? true : (stryCov_9fa48("310", "311"), typeof requestArrived === (stryMutAct_9fa48("312") ? "" : (stryCov_9fa48("312"), "number")))) && Number.isFinite(requestArrived))) {
      if (stryMutAct_9fa48("313")) {
        {}
      } else {
        stryCov_9fa48("313");
        options.notBefore = requestArrived;
      }
    }
    const remaining = stryMutAct_9fa48("314") ? context.getRemainingTimeInMillis() : (stryCov_9fa48("314"), context.getRemainingTimeInMillis?.());
    if (stryMutAct_9fa48("317") ? typeof remaining === "number" || remaining > 0 : stryMutAct_9fa48("316") ? false : stryMutAct_9fa48("315") ? true : (stryCov_9fa48("315", "316", "317"), (stryMutAct_9fa48("319") ? typeof remaining !== "number" : stryMutAct_9fa48("318") ? true : (stryCov_9fa48("318", "319"), typeof remaining === (stryMutAct_9fa48("320") ? "" : (stryCov_9fa48("320"), "number")))) && (stryMutAct_9fa48("323") ? remaining <= 0 : stryMutAct_9fa48("322") ? remaining >= 0 : stryMutAct_9fa48("321") ? true : (stryCov_9fa48("321", "322", "323"), remaining > 0)))) options.deadline = stryMutAct_9fa48("324") ? Date.now() - remaining : (stryCov_9fa48("324"), Date.now() + remaining);
    return options;
  }
}