/**
 * Infrastructure: the CDK app. Parameters come from CDK context (cdk.json, or
 * `-c name=value` on the command line); see docs/deploy.md, "Context parameters". cdk.json also
 * holds the CDK's feature flags and switches the CLI's telemetry off.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { loadConfig, STORAGE_STRATEGIES, type StorageStrategy } from "../lambda/config.ts";
import { DEFAULT_SCOPES, type Scopes } from "../lambda/handlers/routes.ts";
import { auditChoice } from "./audit.ts";
import { parseAllowedOrigins } from "./cors.ts";
import { DEFAULT_NONCURRENT_VERSION_DAYS } from "./data-bucket-rules.ts";
import { dataEncryptionChoice } from "./data-encryption.ts";
import { changeEventsChoice } from "./events.ts";
import { logRetention } from "./logs.ts";
import {
  COMMANDS_MAX_CONCURRENCY,
  COMMANDS_RESERVED_CONCURRENCY,
  dataKey,
  httpReservedConcurrencyFor,
  RapatriementsStack,
  type RapatriementsStackProps,
} from "./rapatriements-stack.ts";

/**
 * A context value the app refuses. Its message names the value and says what
 * it must be: all a user needs to see, so `npm run synth` prints it alone.
 */
export class ContextError extends Error {
  override name = "ContextError";
}

/** The stack's properties, from the context; a {@link ContextError} for a value refused. */
export function stackProps(app: App): RapatriementsStackProps {
  try {
    return readContext(app);
  } catch (error) {
    // Each refusal, here or in the helpers, is an Error whose message starts
    // "context <name>"; anything else (a TypeError, say) is a bug and keeps its stack.
    if (error instanceof Error && error.name === "Error" && error.message.startsWith("context ")) {
      throw new ContextError(error.message, { cause: error });
    }
    throw error;
  }
}

function readContext(app: App): RapatriementsStackProps {
  const text = (name: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(name);
    if (value === undefined || value === null || value === "") return undefined;
    return String(value);
  };
  const number = (name: string, fallback: number): number => {
    const value = text(name);
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new Error(`context ${name} must be a positive number (got "${value}")`);
    }
    return parsed;
  };
  const existingBucketName = text("existingBucketName");
  const bucketName = text("bucketName");
  if (existingBucketName !== undefined && bucketName !== undefined) {
    throw new Error(
      "context bucketName (a bucket the stack creates) and existingBucketName (a bucket it adopts) exclude each other: give one",
    );
  }
  const { strategy, key } = dataLocation(
    existingBucketName ?? bucketName,
    text("dataKey"),
    text("storageStrategy"),
  );
  const days = number("noncurrentVersionDays", DEFAULT_NONCURRENT_VERSION_DAYS);
  if (!Number.isInteger(days)) {
    throw new Error(`context noncurrentVersionDays must be a whole number of days (got "${days}")`);
  }
  const issuer = text("jwtIssuer");
  const audience = text("jwtAudience");
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error("context jwtIssuer and jwtAudience go together: give both, or neither for IAM");
  }
  const throttle = {
    rate: number("throttleRateLimit", 50),
    burst: number("throttleBurstLimit", 100),
  };
  const props: RapatriementsStackProps = {
    storageStrategy: strategy,
    dataKey: key,
    noncurrentVersionDays: days,
    throttleRateLimit: throttle.rate,
    throttleBurstLimit: throttle.burst,
    httpReservedConcurrency: reservedConcurrency(
      text("httpReservedConcurrency"),
      "httpReservedConcurrency",
      {
        fallback: httpReservedConcurrencyFor(throttle),
        least: 1,
        why: "0 would refuse every request",
      },
    ),
    commandsReservedConcurrency: reservedConcurrency(
      text("commandsReservedConcurrency"),
      "commandsReservedConcurrency",
      {
        fallback: COMMANDS_RESERVED_CONCURRENCY,
        least: COMMANDS_MAX_CONCURRENCY,
        why: `the commands queue's ${COMMANDS_MAX_CONCURRENCY} consumers: with fewer, Lambda throttles the queue's deliveries`,
      },
    ),
  };
  const origins = text("allowedOrigins");
  if (origins !== undefined) props.allowedOrigins = parseAllowedOrigins(origins);
  const dropPercent = text("recordDropAlarmPercent");
  if (dropPercent !== undefined) {
    const percent = Number(dropPercent);
    if (!Number.isFinite(percent) || percent <= 0 || percent >= 100) {
      throw new Error(
        `context recordDropAlarmPercent must be a percentage above 0 and below 100 (got "${dropPercent}"): the RecordCountDrop alarm fires when one save removes more than that share of the records`,
      );
    }
    props.recordDropAlarmPercent = percent;
  }
  const alarmEmail = text("alarmEmail");
  if (alarmEmail !== undefined) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
      throw new Error(`context alarmEmail must be an e-mail address (got "${alarmEmail}")`);
    }
    props.alarmEmail = alarmEmail;
  }
  if (bucketName !== undefined) props.bucketName = bucketName;
  if (existingBucketName !== undefined) props.existingBucketName = existingBucketName;
  props.dataEncryption = dataEncryptionChoice(text("encryption"), text("kmsKeyArn"));
  props.logRetention = logRetention(text("logRetentionDays"));
  props.audit = auditChoice(text("audit"));
  Object.assign(props, changeEventsChoice(text));
  if (issuer !== undefined && audience !== undefined) {
    props.jwtIssuer = issuer;
    props.jwtAudience = audience.split(",").map((a) => a.trim());
    props.jwtScopes = jwtScopes(text("jwtReadScope"), text("jwtWriteScope"));
  } else {
    for (const name of ["jwtReadScope", "jwtWriteScope"]) {
      if (text(name) !== undefined) {
        throw new Error(
          `context ${name} applies to a JWT authorizer only: give jwtIssuer and jwtAudience too, or drop it (with IAM, callers get the ApiReadPolicyArn or ApiReadWritePolicyArn policy)`,
        );
      }
    }
  }
  return props;
}

/**
 * A function's reserved concurrency: unset, its default; `none`, no
 * reservation (an account whose concurrency quota cannot spare it: Lambda
 * keeps 100 executions unreserved, so a reservation can fail at deploy);
 * otherwise a whole number of executions, at least `least`.
 */
function reservedConcurrency(
  value: string | undefined,
  name: string,
  rule: { fallback: number; least: number; why: string },
): number | undefined {
  if (value === undefined) return rule.fallback;
  if (value === "none") return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) < rule.least) {
    throw new Error(
      `context ${name} must be a whole number of concurrent executions, at least ${rule.least} (${rule.why}), or none to reserve nothing (got "${value}")`,
    );
  }
  return Number(value);
}

/**
 * The scope names a token must carry, as the identity provider spells them
 * (one word each: a token's `scope` claim is a space-separated list), and
 * different, or a read token could write.
 */
function jwtScopes(read: string | undefined, write: string | undefined): Scopes {
  const scopes = { read: read ?? DEFAULT_SCOPES.read, write: write ?? DEFAULT_SCOPES.write };
  for (const [access, scope] of Object.entries(scopes)) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
      throw new Error(
        `context jwt${access === "read" ? "Read" : "Write"}Scope must be one OAuth scope, printable with no space, quote or backslash (got "${scope}")`,
      );
    }
  }
  if (scopes.read === scopes.write) {
    throw new Error(
      `context jwtReadScope and jwtWriteScope must differ (both "${scopes.read}"): a token allowed to read could write`,
    );
  }
  return scopes;
}

/**
 * The data object's key and format, checked by the same rules as the
 * functions' configuration (so a deployment cannot give them a path they would
 * refuse at start): the key's extension gives the format when
 * `storageStrategy` is not set, and a key that says the other format is refused.
 */
function dataLocation(
  bucket: string | undefined,
  keyText: string | undefined,
  strategyText: string | undefined,
): { strategy: StorageStrategy; key: string } {
  if (strategyText !== undefined && !STORAGE_STRATEGIES.includes(strategyText as StorageStrategy)) {
    throw new Error(`context storageStrategy must be sqlite or json (got "${strategyText}")`);
  }
  const given = strategyText as StorageStrategy | undefined;
  const key = keyText ?? dataKey(given ?? "sqlite");
  const strategy = checkLocation(bucket ?? "generated-by-cloudformation", key, given);
  const says: StorageStrategy | undefined = /\.json$/i.test(key)
    ? "json"
    : /\.(db|sqlite3?)$/i.test(key)
      ? "sqlite"
      : undefined;
  if (says !== undefined && says !== strategy) {
    throw new Error(
      `context dataKey "${key}" names a ${says} file but storageStrategy is ${strategy}: drop storageStrategy (the key decides) or fix one of them`,
    );
  }
  return { strategy, key };
}

function checkLocation(
  bucket: string,
  key: string,
  strategy: StorageStrategy | undefined,
): StorageStrategy {
  try {
    return loadConfig(
      {
        AWS_REGION: "eu-west-1",
        S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${key}`,
        STORAGE_STRATEGY: strategy,
      },
      {},
    ).strategy;
  } catch (error) {
    throw new Error(
      `context bucket name or dataKey: ${(error as Error).message.replace("S3_RAPPATRIMENT_FILE_PATH", "s3://bucket/dataKey")}`,
    );
  }
}

export function buildApp(app: App = new App()): { app: App; stack: RapatriementsStack } {
  const stack = new RapatriementsStack(app, "RapatriementsStack", stackProps(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp().app.synth();
  } catch (error) {
    if (!(error instanceof ContextError)) throw error;
    // The CDK CLI shows what the app prints: the one line to act on, no Node stack under it.
    console.error(error.message);
    process.exit(1);
  }
}
