/**
 * Typed errors of the whole product, each with the HTTP status it maps to and a
 * stable `code`. One place (the handlers' error middleware) turns them into
 * problem+json; an error is shown to the caller only when `expose` is true,
 * anything else becomes a generic 500 with the details in the log. Each
 * error's words come from a key and its data (`text`, and `rule` for each
 * field), so that the edge can say them in the caller's language
 * (lambda/messages); `message` holds them in the error's own language.
 */
import type { Language, Place, Rule, Text } from "./messages/keys.ts";
import { ruleText, text } from "./messages/render.ts";

/** A bad field: where it is, the rule it breaks and that rule's data; `message` is its English. */
export type FieldError = { path: string; message: string } & Rule;

/** The field error at `path` for `rule` (its English message from the catalogue). */
export function fieldError(path: string, rule: Rule): FieldError {
  return { path, ...rule, message: ruleText("en", rule) };
}

export interface AppErrorOptions {
  cause?: unknown;
  errors?: FieldError[];
}

export abstract class AppError extends Error {
  /**
   * The language of `message`: English for what programs read (the HTTP API,
   * the commands' answers), French for what the operator guide promises.
   */
  static readonly language: Language = "en";
  abstract readonly status: number;
  abstract readonly code: string;
  readonly errors: FieldError[] | undefined;
  /** The key and data of the message, to say it in another language; absent when given as words. */
  readonly text: Text | undefined;

  constructor(message: string | Text, options: AppErrorOptions = {}) {
    super(
      typeof message === "string"
        ? message
        : text((new.target as unknown as { language: Language }).language, message),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.errors = options.errors;
    this.text = typeof message === "string" ? undefined : message;
  }

  /** Only client errors are shown to callers; server faults stay in the log. */
  get expose(): boolean {
    return this.status < 500;
  }
}

/**
 * A configuration error. The name and messages are those of the operator
 * guide (`ValueError: AWS_REGION est obligatoire`), which users search for.
 */
export class ValueError extends AppError {
  static override readonly language: Language = "fr";
  override readonly name = "ValueError";
  readonly status = 500;
  readonly code = "CONFIGURATION_INVALID";
}

/**
 * A required variable that is not set: the guide's exact message, and when a
 * variable with a near-miss name is set (`S3_RAPATRIMENT_FILE_PATH`), that
 * name, since a misspelling would otherwise go unnoticed.
 */
export class MissingVariableError extends ValueError {
  readonly variable: string;
  readonly nearMiss: string | undefined;

  constructor(variable: string, nearMiss?: string) {
    super(
      nearMiss === undefined
        ? { key: "missingVariable", params: { variable } }
        : { key: "missingVariableNearMiss", params: { variable, given: nearMiss } },
    );
    this.variable = variable;
    this.nearMiss = nearMiss;
  }
}

export class ValidationError extends AppError {
  override readonly name = "ValidationError";
  readonly status = 400;
  readonly code = "VALIDATION_FAILED";

  constructor(errors: FieldError[], message: Text = { key: "invalidRequest", params: {} }) {
    super(message, { errors });
  }
}

export class NotFoundError extends AppError {
  override readonly name = "NotFoundError";
  readonly status = 404;
  readonly code = "NOT_FOUND";
}

/**
 * API Gateway invoked the HTTP function for a route it does not serve: the
 * deployed API and the function's route table disagree.
 */
export class RouteNotFoundError extends AppError {
  override readonly name = "RouteNotFoundError";
  readonly status = 404;
  readonly code = "ROUTE_NOT_FOUND";
}

/**
 * An event that does not come from the HTTP API the function serves: its
 * `requestContext.apiId` names another API, or none. API Gateway always names
 * its own, so this is a direct invocation of the function (by mistake, or by
 * someone copying an event from elsewhere); nothing is read or written.
 */
export class ApiIdMismatchError extends AppError {
  override readonly name = "ApiIdMismatchError";
  readonly status = 403;
  readonly code = "API_ID_MISMATCH";
}

export class DuplicateReferenceError extends AppError {
  override readonly name = "DuplicateReferenceError";
  readonly status = 409;
  readonly code = "DUPLICATE_REFERENCE";
}

export class ForbiddenTransitionError extends AppError {
  override readonly name = "ForbiddenTransitionError";
  readonly status = 409;
  readonly code = "FORBIDDEN_TRANSITION";
  /** The record is received or cancelled: no change can ever pass, whatever comes before it. */
  readonly final: boolean;

  constructor(message: Text, options: { final: boolean }) {
    super(message);
    this.final = options.final;
  }
}

export class VersionMismatchError extends AppError {
  override readonly name = "VersionMismatchError";
  readonly status = 412;
  readonly code = "VERSION_MISMATCH";
  readonly current: number;
  readonly expected: number;

  constructor(versions: { current: number; expected: number }) {
    super({ key: "versionMismatch", params: versions });
    this.current = versions.current;
    this.expected = versions.expected;
  }

  /** Versions only grow: once past the one expected, the condition can never hold again. */
  get stale(): boolean {
    return this.current > this.expected;
  }
}

export class IdempotencyKeyReuseError extends AppError {
  override readonly name = "IdempotencyKeyReuseError";
  readonly status = 422;
  readonly code = "IDEMPOTENCY_KEY_REUSED";
}

/**
 * A record of an SQS-shaped event that SQS does not confirm as a message in
 * flight on the commands queue: its sender, time and body are the invoker's
 * word, so it is not applied.
 */
export class UnconfirmedMessageError extends AppError {
  override readonly name = "UnconfirmedMessageError";
  readonly status = 403;
  readonly code = "MESSAGE_NOT_CONFIRMED";
}

/** More commands in one invocation than one SQS batch holds: none is applied. */
export class TooManyCommandsError extends AppError {
  override readonly name = "TooManyCommandsError";
  readonly status = 413;
  readonly code = "TOO_MANY_COMMANDS";
}

/** A 503 the caller is told about, with the seconds to wait before retrying (`Retry-After`). */
export abstract class RetryLaterError extends AppError {
  readonly status = 503;
  readonly retryAfterSeconds: number;

  constructor(message: string | Text, retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(message, options);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override get expose(): boolean {
    return true;
  }
}

/** The object kept changing under us past the retry budget; nothing was applied: try again. */
export class StorageBusyError extends RetryLaterError {
  override readonly name = "StorageBusyError";
  readonly code = "STORAGE_BUSY";
}

/**
 * A save may have landed, but S3 could not be asked in time whether it did.
 * Unlike STORAGE_BUSY, the write may have been applied: retrying is safe only
 * with the same idempotency key.
 */
export class StorageOutcomeUnknownError extends RetryLaterError {
  override readonly name = "StorageOutcomeUnknownError";
  readonly code = "STORAGE_OUTCOME_UNKNOWN";
}

/** The stored object is not a file this code can read; it is left untouched. */
export class StorageUnreadableError extends AppError {
  static override readonly language: Language = "fr";
  override readonly name = "StorageUnreadableError";
  readonly status = 500;
  readonly code = "STORAGE_UNREADABLE";
}

/**
 * The data object's current version is a delete marker: someone deleted it,
 * and its earlier versions are still there. Not "no data yet": nothing is
 * read or written (an empty database saved over the marker would hide the
 * records) until an operator restores a version. A 500: an operator must act.
 */
export class DataObjectDeletedError extends AppError {
  static override readonly language: Language = "fr";
  override readonly name = "DataObjectDeletedError";
  readonly status = 500;
  readonly code = "DATA_OBJECT_DELETED";
  /** Where the deleted object is. */
  readonly place: Place;

  constructor(place: Place, options: AppErrorOptions = {}) {
    super({ key: "dataObjectDeleted", params: { place } }, options);
    this.place = place;
  }
}

/** S3 refused or could not be reached: credentials, permissions, region, bucket. */
export class StorageAccessError extends AppError {
  static override readonly language: Language = "fr";
  override readonly name = "StorageAccessError";
  readonly status = 500;
  readonly code: string;

  constructor(code: string, message: Text, options: AppErrorOptions = {}) {
    super(message, options);
    this.code = code;
  }
}

/** An import that would replace existing data without being told to. */
export class ImportRefusedError extends AppError {
  override readonly name = "ImportRefusedError";
  readonly status = 409;
  readonly code = "IMPORT_REFUSED";
  /** How many rapatriements the data already holds. */
  readonly existing: number;

  constructor(existing: number) {
    super({ key: "importRefused", params: { existing } });
    this.existing = existing;
  }
}

export class PayloadTooLargeError extends AppError {
  override readonly name = "PayloadTooLargeError";
  readonly status = 413;
  readonly code = "PAYLOAD_TOO_LARGE";
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = "UnsupportedMediaTypeError";
  readonly status = 415;
  readonly code = "UNSUPPORTED_MEDIA_TYPE";
}
