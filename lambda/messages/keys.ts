/**
 * Messages (the floor under errors.ts): what the product can say, as keys and
 * their data. A field error carries a rule and its params, an error a message
 * key and its params; the words come from a catalogue per language
 * (english.ts, french.ts), chosen where the message leaves the product — the
 * HTTP answer, the CLI, the commands' answers. Nothing parses a sentence back.
 */

type Empty = Record<string, never>;

/** What a value must be, in "must be a string" / "doit être un texte". */
export type Kind = "string" | "number" | "integer" | "lines" | "object";

/** Each rule a field can break, and the data its message needs. */
export interface RuleParams {
  invalid: Empty;
  required: Empty;
  requiredInPath: Empty;
  type: { kind: Kind };
  loneSurrogate: Empty;
  empty: Empty;
  maxCharacters: { max: number };
  length: { max: number };
  idLength: { max: number };
  spaces: Empty;
  dateTime: { example: string };
  positive: Empty;
  reference: Empty;
  noLines: Empty;
  maxLines: { max: number };
  oneOf: { allowed: readonly string[] };
  commaList: { allowed: readonly string[] };
  jsonObject: Empty;
  differs: { other: string };
  notBefore: { other: string };
  unknownField: Empty;
  unknownParameter: { allowed: readonly string[] };
  integerRange: { min: number; max: number };
  integerAtLeast: { min: number };
  idempotencyKey: { max: number };
  cursor: Empty;
  etag: Empty;
  command: Empty;
  noChange: Empty;
  readOnly: Empty;
  readOnlyIdentity: Empty;
  bodyNotJson: { position: number };
  messageNotJson: { position: number };
  notUtf8: Empty;
  repeats: { index: number; field: "id" | "reference" };
}

/** Why a write gave up: the storage's reasons for STORAGE_BUSY and STORAGE_OUTCOME_UNKNOWN. */
export type GiveUpReason =
  | { why: "noTimeToSave" }
  | { why: "keptChanging"; attempts: number }
  | { why: "noAnswerToLook" }
  | { why: "noTimeToReload" }
  | { why: "noAnswerOnReload" };

/** What the storage was doing when S3 refused: the verb of an access error. */
export type S3Action = "read" | "write" | "createBucket";

/** Where the data object is. */
export interface Place {
  bucket: string;
  key: string;
  region: string;
}

/** Why the data object cannot be read (STORAGE_UNREADABLE); it is then left as it is. */
export type Unreadable =
  | { problem: "empty" }
  | { problem: "notJson" }
  | { problem: "jsonNotObject" }
  | { problem: "sqliteInJson" }
  | { problem: "jsonInSqlite" }
  | { problem: "noSqliteHeader" }
  | { problem: "sqliteWontOpen" }
  | { problem: "sqliteCorrupt" }
  | { problem: "notApplication"; name: string; applicationId: number }
  | { problem: "notFormat"; format: string }
  | { problem: "notSchema"; name: string; schema: string }
  | { problem: "noSchemaVersion" }
  | { problem: "noTables" }
  | { problem: "newer"; format: "json" | "sqlite"; version: number; current: number }
  | { problem: "jsonNewer"; version: number; current: number }
  | { problem: "jsonMismatch" }
  | { problem: "unknownTable"; table: string }
  | { problem: "tableShape"; table: string }
  | { problem: "compactKey"; table: string; key: string }
  | { problem: "compactColumns"; table: string }
  | { problem: "compactRows"; table: string }
  | { problem: "compactUnknownColumn"; table: string; column: string }
  | { problem: "columnTwice"; table: string; column: string }
  | { problem: "unknownColumn"; at: string; column: string }
  | { problem: "rowNotObject"; at: string }
  | { problem: "rowNotList"; at: string }
  | { problem: "rowLength"; at: string; values: number; columns: number }
  | { problem: "badValue"; at: string; column: string }
  | { problem: "violates"; at: string }
  | { problem: "migrationFailed"; name: string; version: number; description: string };

/** Which rule of S3's bucket names a name breaks. */
export type BucketNameRule = "length" | "characters" | "dots" | "ipAddress" | "reserved";

/** Each error message (an error's detail) and the data it needs. */
export interface TextParams {
  // The domain and the HTTP API (English by default: programs read them).
  invalidRequest: Empty;
  invalidCommand: Empty;
  invalidFile: Empty;
  notFound: { id: string };
  receiptRecordDeleted: Empty;
  receiptRecordDeletedId: { id: string };
  routeNotFound: { route: string | null; routes: readonly string[] };
  apiIdMismatch: { apiId: string | null };
  duplicateReference: { reference: string };
  finalStatus: { status: string };
  forbiddenTransition: { from: string; to: string; allowed: readonly string[] };
  versionMismatch: { current: number; expected: number };
  idempotencyKeyReused: Empty;
  noCommandsQueue: Empty;
  unconfirmedMessage: { queueArn: string };
  tooManyCommands: { max: number; count: number };
  storageBusy: GiveUpReason;
  storageOutcomeUnknown: GiveUpReason;
  noTimeToCall: { command: string };
  noAnswer: Empty;
  importRefused: { existing: number };
  payloadTooLarge: { kib: number };
  requestTooLarge: { mb: number };
  unsupportedMediaType: { contentType: string };
  internalError: { code: string; requestId: string };
  commandInternalError: Empty;
  title: { status: number };
  // The configuration (French by default: the operator guide's wording).
  missingVariable: { variable: string };
  missingVariableNearMiss: { variable: string; given: string };
  envFileUnreadable: { file: string };
  configurationInvalid: Empty;
  regionInvalid: { region: string };
  pathWithoutKey: { path: string; bucket: string };
  pathNotS3: { path: string };
  keyLeadingSlash: { key: string };
  keyTrailingSlash: { key: string };
  keyTooLong: { max: number };
  bucketNameInvalid: { variable: string; name: string; rule: BucketNameRule };
  strategyInvalid: { value: string; allowed: readonly string[] };
  kmsAlias: { value: string; example: string };
  kmsInvalid: { value: string; example: string };
  positiveInteger: { variable: string; value: string };
  queueArnInvalid: { value: string };
  queuePair: Empty;
  endpointInvalid: { variable: string; value: string };
  // S3 refusals a person must fix (French by default, as the guide's troubleshooting).
  credentialsMissing: { action: S3Action; place: Place; name: string };
  kmsKeyDenied: { action: S3Action; place: Place; name: string; permission: string };
  accessDenied: { action: S3Action; place: Place };
  regionMismatch: { bucket: string; region: string; name: string };
  bucketNameTaken: { bucket: string };
  bucketCreationDenied: { bucket: string; region: string };
  dataObjectDeleted: { place: Place };
  storageUnreadable: Unreadable;
}

export type RuleKey = keyof RuleParams;
export type TextKey = keyof TextParams;

/** A field error's rule and its data. */
export type Rule = { [K in RuleKey]: { rule: K; params: RuleParams[K] } }[RuleKey];

/** An error message's key and its data. */
export type Text = { [K in TextKey]: { key: K; params: TextParams[K] } }[TextKey];

/** The languages the product speaks. */
export type Language = "en" | "fr";

export const LANGUAGES: readonly Language[] = ["en", "fr"];

/** The words of one language: every rule and every message, from its data. */
export interface Catalogue {
  readonly rules: { readonly [K in RuleKey]: (params: RuleParams[K]) => string };
  readonly texts: { readonly [K in TextKey]: (params: TextParams[K]) => string };
}
