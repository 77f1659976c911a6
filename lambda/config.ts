/**
 * Configuration: the variables (the process environment, then a `.env` file
 * at the project root: environment.ts), checked once and turned into a
 * `Config`. The variable names and the `ValueError` messages are those of the
 * users' operator guide.
 */
import { type Environment, nearMisses, nonEmpty, readEnvironment } from "./environment.ts";
import { MissingVariableError, ValueError } from "./errors.ts";
import type { BucketNameRule } from "./messages/keys.ts";

export type StorageStrategy = "sqlite" | "json";

export const STORAGE_STRATEGIES: readonly StorageStrategy[] = ["sqlite", "json"];

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Config {
  region: string;
  bucket: string;
  /** Object key of the data file inside `bucket`. */
  key: string;
  strategy: StorageStrategy;
  /** `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`): an S3-compatible endpoint, path-style. */
  s3Endpoint?: string;
  /**
   * Keys given in `.env` rather than the process environment. The SDK's default
   * chain only sees the process environment, so these are handed over explicitly.
   */
  credentials?: StaticCredentials;
  /** The commands' queues, set in the commands function by the stack and given to the CLI by an operator. */
  commands: CommandsConfig;
  /**
   * `S3_SSE_KMS_KEY_ID`: the KMS key (ARN or key id) every write of the data
   * object asks S3 to encrypt with (SSE-KMS). Unset: AES-256 (SSE-S3), the
   * operator guide's promise.
   */
  sseKmsKeyId?: string;
}

/**
 * The commands path (none of it is needed to serve the HTTP API). The stack
 * sets the queue's URL and ARN, the dead-letter queue's URL and the queue's
 * settings in the commands function; an operator gives the CLI the
 * dead-letter queue's URL (a stack output) to list and send back refused
 * commands. Endpoints point the clients at a local server, as
 * `AWS_ENDPOINT_URL_S3` does for S3.
 */
export interface CommandsConfig {
  /** `COMMANDS_QUEUE_URL`: the queue the EventBridge rule feeds. */
  queueUrl?: string;
  /** `COMMANDS_QUEUE_ARN`: the `eventSourceARN` SQS gives that queue's records. */
  queueArn?: string;
  /** `COMMANDS_DEAD_LETTER_QUEUE_URL`: where commands that cannot pass are kept, with their reason. */
  deadLetterQueueUrl?: string;
  /** `COMMANDS_MAX_RECEIVE_COUNT`: deliveries of a message before it is dead-lettered (default 5). */
  maxReceiveCount: number;
  /** `COMMANDS_VISIBILITY_TIMEOUT_SECONDS`: the queue's visibility timeout (default 180). */
  visibilityTimeoutSeconds: number;
  /** `AWS_ENDPOINT_URL_SQS` (or `AWS_ENDPOINT_URL`). */
  sqsEndpoint?: string;
  /** `AWS_ENDPOINT_URL_EVENTBRIDGE` (or `AWS_ENDPOINT_URL`). */
  eventsEndpoint?: string;
}

/** The queue settings the stack deploys, and the defaults when a variable is not set. */
export const COMMANDS_DEFAULTS = { maxReceiveCount: 5, visibilityTimeoutSeconds: 180 } as const;

/**
 * Reads and checks the configuration; throws `ValueError` naming the variable
 * (the first problem, in the guide's order; `configProblems` lists them all).
 * `processEnv` tells which credentials the SDK's default chain already sees.
 */
export function loadConfig(
  env: Environment = readEnvironment(),
  processEnv: Environment = process.env,
): Config {
  const { config, problems } = evaluate(env, processEnv);
  if (config === undefined) {
    throw problems[0] ?? new ValueError({ key: "configurationInvalid", params: {} });
  }
  return config;
}

/** Every problem of the configuration at once, in the guide's order (none: it loads). */
export function configProblems(
  env: Environment = readEnvironment(),
  processEnv: Environment = process.env,
): ValueError[] {
  return evaluate(env, processEnv).problems;
}

function evaluate(
  env: Environment,
  processEnv: Environment,
): { config?: Config; problems: ValueError[] } {
  const problems: ValueError[] = [];
  const check = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      problems.push(error);
      return undefined;
    }
  };
  const region = check(() => checkRegion(env));
  const location = check(() => {
    const path = nonEmpty(env.S3_RAPPATRIMENT_FILE_PATH);
    if (path === undefined) throw missing("S3_RAPPATRIMENT_FILE_PATH", env);
    return resolveLocation(path, env);
  });
  const strategy = check(() =>
    resolveStrategy(nonEmpty(env.STORAGE_STRATEGY), location?.key ?? ""),
  );
  const endpointSetting = endpointFrom(env);
  const endpoint =
    endpointSetting === undefined ? undefined : check(() => checkEndpoint(endpointSetting));
  const commands = check(() => commandsConfig(env));
  const sseKmsKeyId = check(() => checkKmsKeyId(nonEmpty(env.S3_SSE_KMS_KEY_ID)));
  if (
    problems.length > 0 ||
    region === undefined ||
    location === undefined ||
    strategy === undefined ||
    commands === undefined
  ) {
    return { problems };
  }
  const config: Config = { region, ...location, strategy, commands };
  if (endpoint !== undefined) config.s3Endpoint = endpoint;
  if (sseKmsKeyId !== undefined) config.sseKmsKeyId = sseKmsKeyId;
  // Keys that came from `.env` only: the SDK's default chain cannot see them.
  if (nonEmpty(processEnv.AWS_ACCESS_KEY_ID) === undefined) {
    const credentials = explicitCredentials(env);
    if (credentials !== undefined) config.credentials = credentials;
  }
  return { config, problems };
}

function checkRegion(env: Environment): string {
  const region = nonEmpty(env.AWS_REGION);
  if (region === undefined) throw missing("AWS_REGION", env);
  if (!/^[a-z]{2,}(-[a-z]+)+-\d+$/.test(region)) {
    throw new ValueError({ key: "regionInvalid", params: { region } });
  }
  return region;
}

function missing(variable: string, env: Environment): MissingVariableError {
  return new MissingVariableError(
    variable,
    nearMisses(env).find((miss) => miss.meant === variable)?.given,
  );
}

function resolveLocation(path: string, env: Environment) {
  if (path.startsWith("s3://")) {
    const rest = path.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? "" : rest.slice(slash + 1);
    checkBucketName(bucket, "S3_RAPPATRIMENT_FILE_PATH");
    if (key === "") {
      throw new ValueError({ key: "pathWithoutKey", params: { path, bucket } });
    }
    return { bucket, key: checkKey(key) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    throw new ValueError({ key: "pathNotS3", params: { path } });
  }
  const bucketName = nonEmpty(env.S3_BUCKET_NAME);
  if (bucketName === undefined) throw missing("S3_BUCKET_NAME", env);
  checkBucketName(bucketName, "S3_BUCKET_NAME");
  return { bucket: bucketName, key: checkKey(path) };
}

const MAX_KEY_BYTES = 1024;

function checkKey(key: string): string {
  if (key.startsWith("/")) {
    throw new ValueError({ key: "keyLeadingSlash", params: { key } });
  }
  if (key.endsWith("/")) {
    throw new ValueError({ key: "keyTrailingSlash", params: { key } });
  }
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) {
    throw new ValueError({ key: "keyTooLong", params: { max: MAX_KEY_BYTES } });
  }
  return key;
}

/**
 * `HTTP_API_ID`: the id of the HTTP API whose events the HTTP function
 * answers, refusing any other (the stack sets it to its API's id; `npm start`
 * to the id its own events carry). Unset: undefined, which the function
 * answers as a configuration error.
 */
export function httpApiId(env: Environment = process.env): string | undefined {
  return nonEmpty(env.HTTP_API_ID);
}

/** The S3 bucket naming rule for general purpose buckets that `name` breaks, if any. */
export function bucketNameProblem(name: string): BucketNameRule | undefined {
  if (name.length < 3 || name.length > 63) return "length";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return "characters";
  if (name.includes("..")) return "dots";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "ipAddress";
  if (
    /^(xn--|sthree-|amzn-s3-demo-)/.test(name) ||
    /(-s3alias|--ol-s3|--x-s3|\.mrap)$/.test(name)
  ) {
    return "reserved";
  }
  return undefined;
}

function checkBucketName(name: string, variable: string): void {
  const rule = bucketNameProblem(name);
  if (rule !== undefined) {
    throw new ValueError({ key: "bucketNameInvalid", params: { variable, name, rule } });
  }
}

function resolveStrategy(value: string | undefined, key: string): StorageStrategy {
  if (value === undefined) return key.toLowerCase().endsWith(".json") ? "json" : "sqlite";
  const normalised = value.toLowerCase();
  const strategy = STORAGE_STRATEGIES.find((allowed) => allowed === normalised);
  if (strategy === undefined) {
    throw new ValueError({
      key: "strategyInvalid",
      params: { value, allowed: STORAGE_STRATEGIES },
    });
  }
  return strategy;
}

const KMS_KEY_ID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KMS_KEY_EXAMPLE =
  "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/**
 * A key ARN or a key id, as S3 takes them. Not an alias: an alias can be
 * pointed at another key later, and the functions' permission (and doctor's
 * comparison with the bucket's default) names the key itself.
 */
function checkKmsKeyId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const arn = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(.+)$/.exec(value);
  if (KMS_KEY_ID.test(arn?.[1] ?? value)) return value;
  if (/(^|:)alias\//.test(value)) {
    throw new ValueError({ key: "kmsAlias", params: { value, example: KMS_KEY_EXAMPLE } });
  }
  throw new ValueError({ key: "kmsInvalid", params: { value, example: KMS_KEY_EXAMPLE } });
}

function commandsConfig(env: Environment): CommandsConfig {
  const url = (variable: string) => {
    const value = nonEmpty(env[variable]);
    return value === undefined ? undefined : checkEndpoint({ variable, value });
  };
  const count = (variable: string, fallback: number) => {
    const value = nonEmpty(env[variable]);
    if (value === undefined) return fallback;
    if (!/^[1-9]\d{0,4}$/.test(value)) {
      throw new ValueError({ key: "positiveInteger", params: { variable, value } });
    }
    return Number(value);
  };
  const commands: CommandsConfig = {
    maxReceiveCount: count("COMMANDS_MAX_RECEIVE_COUNT", COMMANDS_DEFAULTS.maxReceiveCount),
    visibilityTimeoutSeconds: count(
      "COMMANDS_VISIBILITY_TIMEOUT_SECONDS",
      COMMANDS_DEFAULTS.visibilityTimeoutSeconds,
    ),
  };
  const queueUrl = url("COMMANDS_QUEUE_URL");
  if (queueUrl !== undefined) commands.queueUrl = queueUrl;
  const queueArn = nonEmpty(env.COMMANDS_QUEUE_ARN);
  if (queueArn !== undefined) {
    if (!/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/.test(queueArn)) {
      throw new ValueError({ key: "queueArnInvalid", params: { value: queueArn } });
    }
    commands.queueArn = queueArn;
  }
  if ((queueUrl === undefined) !== (queueArn === undefined)) {
    throw new ValueError({ key: "queuePair", params: {} });
  }
  const deadLetterQueueUrl = url("COMMANDS_DEAD_LETTER_QUEUE_URL");
  if (deadLetterQueueUrl !== undefined) commands.deadLetterQueueUrl = deadLetterQueueUrl;
  const sqs = endpointFrom(env, "AWS_ENDPOINT_URL_SQS");
  if (sqs !== undefined) commands.sqsEndpoint = checkEndpoint(sqs);
  const events = endpointFrom(env, "AWS_ENDPOINT_URL_EVENTBRIDGE");
  if (events !== undefined) commands.eventsEndpoint = checkEndpoint(events);
  return commands;
}

/** An endpoint and the variable it was read from: the SDK's service one first, then its general one. */
function endpointFrom(
  env: Environment,
  serviceVariable = "AWS_ENDPOINT_URL_S3",
): { variable: string; value: string } | undefined {
  for (const variable of [serviceVariable, "AWS_ENDPOINT_URL"]) {
    const value = nonEmpty(env[variable]);
    if (value !== undefined) return { variable, value };
  }
  return undefined;
}

/** The error names the variable that holds the bad value, as the operator guide's messages do. */
function checkEndpoint({ variable, value }: { variable: string; value: string }): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {
    // fall through to the error below
  }
  throw new ValueError({ key: "endpointInvalid", params: { variable, value } });
}

function explicitCredentials(env: Environment): StaticCredentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return sessionToken === undefined
    ? { accessKeyId, secretAccessKey }
    : { accessKeyId, secretAccessKey, sessionToken };
}

/** The change events' settings, which only the events publisher needs (see `loadEventsConfig`). */
export interface EventsConfig {
  /** `EVENT_BUS_NAME`: the bus the change events go to (default `rapatriements`, the stack's). */
  busName: string;
  /** `EVENTS_POSITION_KEY`: the publisher's own object, beside the data (default `<data key>.events-position.json`). */
  positionKey: string;
}

export const DEFAULT_EVENT_BUS_NAME = "rapatriements";

/** Where the events publisher keeps its position: an object of its own beside the data object. */
export function eventsPositionKey(dataKey: string): string {
  return `${dataKey}.events-position.json`;
}

/** EventBridge's rule for a bus name (letters, digits, . _ - /, at most 256), or a bus ARN. */
const BUS_NAME =
  /^(?:[A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._/-]{1,256})$/;

/**
 * `EVENT_BUS_NAME`: the stack's bus, `rapatriements` when unset — read by the
 * events publisher and by the CLI's `redrive` alike. Throws `ValueError`.
 */
export function readEventBusName(env: Environment): string {
  const busName = nonEmpty(env.EVENT_BUS_NAME) ?? DEFAULT_EVENT_BUS_NAME;
  if (!BUS_NAME.test(busName)) {
    throw new ValueError(
      `EVENT_BUS_NAME doit être le nom du bus de la pile (sortie EventBusName), ou son ARN ; un nom a de 1 à 256 lettres, chiffres, points, tirets, soulignés ou barres obliques (reçu "${busName}")`,
    );
  }
  return busName;
}

/**
 * Reads the events publisher's settings; the rest of its configuration is
 * `loadConfig`'s. Throws `ValueError` naming the variable.
 */
export function loadEventsConfig(env: Environment, dataKey: string): EventsConfig {
  const busName = readEventBusName(env);
  const positionKey = nonEmpty(env.EVENTS_POSITION_KEY) ?? eventsPositionKey(dataKey);
  if (positionKey === dataKey) {
    throw new ValueError(
      "EVENTS_POSITION_KEY ne peut pas être la clé des données (S3_RAPPATRIMENT_FILE_PATH) : le publieur ne doit jamais écrire l'objet de données",
    );
  }
  return { busName, positionKey };
}
