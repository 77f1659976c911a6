/**
 * Messages: the English catalogue — what the HTTP API says by default, and
 * what the commands function answers. Its wording is the API's contract as
 * documented; a test checks it against french.ts, key by key.
 */

import { byCase } from "./cases.ts";
import type {
  BucketNameRule,
  Catalogue,
  GiveUpReason,
  Kind,
  Place,
  S3Action,
  Unreadable,
} from "./keys.ts";

const KINDS: Readonly<Record<Kind, string>> = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  lines: "an array of lines",
  object: "an object",
};

const why = byCase<GiveUpReason, "why">("why", {
  noTimeToSave: () => "no time was left to save",
  keptChanging: ({ attempts }) =>
    `the data object kept changing or S3 did not answer after ${attempts} attempts`,
  noAnswerToLook: () => "S3 did not answer a look at the data object",
  noTimeToReload: () => "no time was left to read the data object again",
  noAnswerOnReload: () => "S3 did not answer when the data object was read again",
});

const ACTIONS: Readonly<Record<S3Action, string>> = {
  read: "read",
  write: "write",
  createBucket: "create the bucket",
};

const BUCKET_RULES: Readonly<Record<BucketNameRule, string>> = {
  length: "3 to 63 characters",
  characters:
    "lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
  dots: "no two dots in a row",
  ipAddress: "not an IP address",
  reserved: "a prefix or suffix AWS reserves",
};

const TITLES: Readonly<Record<number, string>> = {
  400: "Invalid request",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  412: "Precondition failed",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
  500: "Internal error",
  503: "Service busy",
};

/** Why the object is unreadable; most add that it was left as it is. */
const unreadable = byCase<Unreadable, "problem">("problem", {
  empty: () => "the object is empty; it was not changed",
  notJson: () => untouched("the object is not a valid JSON document"),
  jsonNotObject: () => untouched("the JSON document is not an object"),
  sqliteInJson: () =>
    untouched(
      "the object is a SQLite file while STORAGE_STRATEGY=json: correct STORAGE_STRATEGY or import the file",
    ),
  jsonInSqlite: () =>
    untouched(
      "the object is a JSON document while STORAGE_STRATEGY=sqlite: correct STORAGE_STRATEGY or import the file",
    ),
  noSqliteHeader: () => untouched("the object is not a SQLite file (no header)"),
  sqliteWontOpen: () => "the SQLite file does not open",
  sqliteCorrupt: () => untouched("the SQLite file is corrupt (PRAGMA quick_check)"),
  notApplication: ({ name, applicationId }) =>
    untouched(
      `this SQLite file is not a ${name} database (application_id ${applicationId}): import it rather than dropping it in as it is`,
    ),
  notFormat: ({ format }) => untouched(`the JSON document is not in the ${format} format`),
  notSchema: ({ name, schema }) =>
    untouched(`the JSON document is not a ${name} database (schema "${schema}")`),
  noSchemaVersion: () => untouched("the JSON document has no integer schemaVersion"),
  noTables: () => untouched("the JSON document has no tables object"),
  newer: ({ format, version, current }) =>
    `the ${format} file is at schema ${version}, newer than this code knows (${current}): update the application; the file was not changed`,
  jsonNewer: ({ version, current }) =>
    untouched(
      `the JSON document is at schema ${version}, newer than this code knows (${current}): update the application`,
    ),
  jsonMismatch: () => untouched("the JSON document does not match the schema"),
  unknownTable: ({ table }) => untouched(`unknown table "${table}" in the JSON document`),
  tableShape: ({ table }) =>
    untouched(
      `the table "${table}" is neither a list of objects nor an object {"columns": […], "rows": […]}`,
    ),
  compactKey: ({ table, key }) =>
    untouched(`the compact table "${table}": unknown key "${key}" (expected: columns, rows)`),
  compactColumns: ({ table }) =>
    untouched(`the compact table "${table}": "columns" is not a list of column names`),
  compactRows: ({ table }) => untouched(`the compact table "${table}": "rows" is not a list`),
  compactUnknownColumn: ({ table, column }) =>
    untouched(`the compact table "${table}": unknown column "${column}"`),
  columnTwice: ({ table, column }) =>
    untouched(`the compact table "${table}": column "${column}" named twice`),
  unknownColumn: ({ at, column }) => untouched(`${at}: unknown column "${column}"`),
  rowNotObject: ({ at }) => untouched(`${at} is not an object`),
  rowNotList: ({ at }) => untouched(`${at} is not a list`),
  rowLength: ({ at, values, columns }) =>
    untouched(`${at} has ${values} values for ${columns} columns`),
  badValue: ({ at, column }) => untouched(`${at}.${column}: a value neither text, number nor null`),
  violates: ({ at }) => untouched(`${at} breaks the schema`),
  migrationFailed: ({ name, version, description }) =>
    `the migration ${version} (${description}) of the ${name} database failed`,
});

function untouched(problem: string): string {
  return `${problem}; the object was not changed`;
}

const where = (place: Place) => `s3://${place.bucket}/${place.key} (region ${place.region})`;

export const english: Catalogue = {
  rules: {
    invalid: () => "is invalid",
    required: () => "is required",
    requiredInPath: () => "is required in the path",
    type: ({ kind }) => `must be ${KINDS[kind]}`,
    loneSurrogate: () => "must be valid Unicode text (it holds a lone UTF-16 surrogate)",
    empty: () => "must not be empty",
    maxCharacters: ({ max }) => `must be at most ${max} characters`,
    length: ({ max }) => `must be 1 to ${max} characters`,
    idLength: ({ max }) => `must be 1 to ${max} characters, an id as this API returned it`,
    spaces: () => "must not start or end with spaces",
    dateTime: ({ example }) => `must be an ISO 8601 date-time with a time zone, e.g. ${example}`,
    positive: () => "must be a number greater than 0",
    reference: () => "must be 1 to 64 of A-Z a-z 0-9 . _ - /",
    noLines: () => "must hold at least 1 line",
    maxLines: ({ max }) => `must hold at most ${max} lines`,
    oneOf: ({ allowed }) => `must be one of ${allowed.join(", ")}`,
    commaList: ({ allowed }) => `must be a comma list of ${allowed.join(", ")}`,
    jsonObject: () => "the body must be a JSON object",
    differs: ({ other }) => `must differ from ${other}`,
    notBefore: ({ other }) => `must not be before ${other}`,
    unknownField: () => "unknown field",
    unknownParameter: ({ allowed }) => `unknown parameter; allowed: ${allowed.join(", ")}`,
    integerRange: ({ min, max }) => `must be an integer from ${min} to ${max}`,
    integerAtLeast: ({ min }) => `must be an integer >= ${min}`,
    idempotencyKey: ({ max }) => `must be 1 to ${max} printable ASCII characters`,
    cursor: () => "is not a cursor returned by this API (use nextCursor as given)",
    etag: () => 'must be the ETag of the record as returned, e.g. "3", or *',
    command: () => 'must be a command: { "action": "create" | "update" | "delete", … }',
    noChange: () => "the patch changes no field",
    readOnly: () => "is read-only: the server sets it",
    readOnlyIdentity: () =>
      "is read-only: the server takes it from the caller's authenticated identity",
    bodyNotJson: ({ position }) => `the body is not valid JSON (error at position ${position})`,
    messageNotJson: ({ position }) => `the message is not JSON (error at position ${position})`,
    notUtf8: () => "the body is not valid UTF-8",
    repeats: ({ index, field }) => `repeats [${index}].${field}`,
  },
  texts: {
    invalidRequest: () => "The request is invalid.",
    invalidCommand: () => "The command is invalid.",
    invalidFile: () => "The file holds invalid records.",
    notFound: ({ id }) => `No rapatriement has id "${id}".`,
    receiptRecordDeleted: () =>
      "The rapatriement this idempotency key created has since been deleted.",
    receiptRecordDeletedId: ({ id }) =>
      `The rapatriement this idempotency key wrote (id "${id}") has since been deleted.`,
    routeNotFound: ({ route, routes }) =>
      `No route ${JSON.stringify(route)} in this API; the routes are: ${routes.join(", ")}.`,
    apiIdMismatch: ({ apiId }) =>
      `This function answers only requests from its own HTTP API; this event names ${apiId === null ? "no API" : `the API ${JSON.stringify(apiId)}`}. Send the request to the API's URL (the stack's ApiUrl output) instead of invoking the function directly.`,
    duplicateReference: ({ reference }) =>
      `A rapatriement with reference "${reference}" already exists.`,
    finalStatus: ({ status }) =>
      `The rapatriement is ${status}; a ${status} rapatriement cannot change.`,
    forbiddenTransition: ({ from, to, allowed }) =>
      `A ${from} rapatriement cannot become ${to}; allowed: ${allowed.join(", ")}.`,
    versionMismatch: ({ current, expected }) =>
      `The rapatriement is at version ${current}, not ${expected}; reload it and retry.`,
    idempotencyKeyReused: () =>
      "This idempotency key was already used for a different request; use a new key for a new request.",
    noCommandsQueue: () =>
      "The function has no commands queue (COMMANDS_QUEUE_URL): an SQS event cannot be confirmed, so it is not applied; invoke the function with the commands themselves.",
    unconfirmedMessage: ({ queueArn }) =>
      `SQS does not confirm this record as a message in flight on ${queueArn}: it is not applied.`,
    tooManyCommands: ({ max, count }) =>
      `A direct invocation takes at most ${max} commands (got ${count}); none was applied: send them in several invocations.`,
    storageBusy: (reason) => `${why(reason)}; nothing was applied: try again`,
    storageOutcomeUnknown: (reason) =>
      `${why(reason)}; the write may have been applied: retry only with the same idempotency key`,
    noTimeToCall: ({ command }) => `no time was left to call S3 (${command})`,
    noAnswer: () => "S3 did not answer; try again",
    importRefused: ({ existing }) =>
      `The data already holds ${existing} rapatriements; replace them explicitly to import.`,
    payloadTooLarge: ({ kib }) => `The body is larger than ${kib} KiB.`,
    requestTooLarge: ({ mb }) => `The request is larger than API Gateway's ${mb} MB limit.`,
    unsupportedMediaType: ({ contentType }) =>
      `The body must be JSON sent with "Content-Type: application/json" (got "${contentType}").`,
    internalError: ({ code, requestId }) =>
      `An internal error occurred (${code}); quote request id ${requestId} to the operators.`,
    commandInternalError: () => "An internal error occurred; see the function's log.",
    title: ({ status }) => TITLES[status] ?? "Error",
    missingVariable: ({ variable }) => `${variable} is required`,
    missingVariableNearMiss: ({ variable, given }) =>
      `${variable} is required — ${given} is set: did you mean ${variable}?`,
    envFileUnreadable: ({ file }) => `the file ${file} cannot be read`,
    configurationInvalid: () => "the configuration is invalid",
    regionInvalid: ({ region }) =>
      `AWS_REGION is not a valid AWS region (got "${region}", e.g. eu-west-1)`,
    pathWithoutKey: ({ path, bucket }) =>
      `S3_RAPPATRIMENT_FILE_PATH must name a file after the bucket (got "${path}", e.g. s3://${bucket}/rappatriements.db)`,
    pathNotS3: ({ path }) =>
      `S3_RAPPATRIMENT_FILE_PATH must be an s3://bucket/key path or a relative key (got "${path}")`,
    keyLeadingSlash: ({ key }) =>
      `S3_RAPPATRIMENT_FILE_PATH: the key must not start with "/" (got "${key}", e.g. rappatriements/rappatriements.db)`,
    keyTrailingSlash: ({ key }) =>
      `S3_RAPPATRIMENT_FILE_PATH must name a file, not a folder (got "${key}")`,
    keyTooLong: ({ max }) => `S3_RAPPATRIMENT_FILE_PATH: the key is over ${max} bytes`,
    bucketNameInvalid: ({ variable, name, rule }) =>
      `${variable}: invalid bucket name "${name}" (${BUCKET_RULES[rule]})`,
    strategyInvalid: ({ value, allowed }) =>
      `STORAGE_STRATEGY must be ${allowed.map((s) => `"${s}"`).join(" or ")} (got "${value}")`,
    kmsAlias: ({ value, example }) =>
      `S3_SSE_KMS_KEY_ID must name the KMS key itself, not an alias (got "${value}", e.g. ${example})`,
    kmsInvalid: ({ value, example }) =>
      `S3_SSE_KMS_KEY_ID is neither the ARN nor the id of a KMS key (got "${value}", e.g. ${example})`,
    positiveInteger: ({ variable, value }) =>
      `${variable} must be a positive integer (got "${value}")`,
    queueArnInvalid: ({ value }) =>
      `COMMANDS_QUEUE_ARN is not the ARN of an SQS queue (got "${value}", e.g. arn:aws:sqs:eu-west-1:123456789012:commandes)`,
    queuePair: () =>
      "COMMANDS_QUEUE_URL and COMMANDS_QUEUE_ARN go together: set both (stack outputs), or neither",
    endpointInvalid: ({ variable, value }) => `${variable} is not an http(s) URL (got "${value}")`,
    credentialsMissing: ({ action, place, name }) =>
      `NoCredentialsError: AWS credentials missing or invalid to ${ACTIONS[action]} ${where(place)} (${name}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or the IAM role`,
    kmsKeyDenied: ({ action, place, name, permission }) =>
      `${name}: KMS key refused to ${ACTIONS[action]} ${where(place)} (${permission}): check that the AWS user or role has kms:GenerateDataKey and kms:Decrypt on the key (S3_SSE_KMS_KEY_ID, or the one that encrypted the object) and that it is enabled`,
    accessDenied: ({ action, place }) =>
      `AccessDenied: access denied to ${ACTIONS[action]} ${where(place)}: check that the AWS user or role has s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket on arn:aws:s3:::${place.bucket} and arn:aws:s3:::${place.bucket}/*`,
    regionMismatch: ({ bucket, region, name }) =>
      `IllegalLocationConstraintException: the bucket ${bucket} is not in the region ${region} (${name}): check AWS_REGION and that the bucket exists in that region`,
    bucketNameTaken: ({ bucket }) =>
      `the bucket ${bucket} belongs to another AWS account: choose another name in S3_RAPPATRIMENT_FILE_PATH or S3_BUCKET_NAME`,
    bucketCreationDenied: ({ bucket, region }) =>
      `the bucket ${bucket} does not exist and creating it is denied (AccessDenied) in the region ${region}: create it (aws s3 mb s3://${bucket} --region ${region}) or grant s3:CreateBucket`,
    dataObjectDeleted: ({ place }) =>
      `DATA_OBJECT_DELETED: the data object ${where(place)} was deleted (its current version is a delete marker); nothing was read or written, and no empty database will replace it. Find the last version with npx rapatriements versions, then restore it: npx rapatriements restore VERSION_ID`,
    storageUnreadable: unreadable,
  },
};
