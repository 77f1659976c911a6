/**
 * Storage layer: what an S3 error means for the protocol (retry, reload,
 * refuse), and the operator-facing error for the ones a person must fix,
 * keyed by what was being done (`S3Action`). The catalogues' words follow the
 * troubleshooting section of the operator guide.
 */
import { DataObjectDeletedError, StorageAccessError } from "../errors.ts";
import type { S3Action } from "../messages/keys.ts";

interface S3ErrorShape {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  /** The raw HTTP response, which the SDK keeps on the error (not enumerable). */
  $response?: { headers?: Record<string, string | undefined> };
}

function shape(error: unknown): S3ErrorShape {
  return typeof error === "object" && error !== null ? (error as S3ErrorShape) : {};
}

export function httpStatusOf(error: unknown): number | undefined {
  return shape(error).$metadata?.httpStatusCode;
}

function nameOf(error: unknown): string {
  const { name, Code } = shape(error);
  return Code ?? name ?? "";
}

/** A conditional GET whose ETag still matches: the cached copy is current. */
export function isNotModified(error: unknown): boolean {
  return httpStatusOf(error) === 304;
}

export function isNoSuchKey(error: unknown): boolean {
  return nameOf(error) === "NoSuchKey";
}

/**
 * A 404 whose answer says the key's current version is a delete marker
 * (`x-amz-delete-marker: true`): the object was deleted, its earlier
 * versions remain. The SDK models no field for that header on GetObject's
 * NoSuchKey (nor on HeadObject's NotFound); it is read from the raw response
 * the SDK keeps on the error (test/lambda/storage/s3-errors.test.ts shows it
 * with the header set on the wire). Any other 404 is a key never written, or
 * deleted from a bucket without versioning.
 */
export function isDeleteMarker(error: unknown): boolean {
  if (httpStatusOf(error) !== 404) return false;
  const headers = shape(error).$response?.headers ?? {};
  return Object.entries(headers).some(
    ([name, value]) => name.toLowerCase() === "x-amz-delete-marker" && value === "true",
  );
}

export function isNoSuchBucket(error: unknown): boolean {
  return nameOf(error) === "NoSuchBucket";
}

/**
 * The conditional PUT lost a race: 412 PreconditionFailed, 409
 * ConditionalRequestConflict, or 404 when `If-Match` named an object that has
 * since been deleted. Reload and re-apply.
 */
export function isWriteConflict(error: unknown): boolean {
  const status = httpStatusOf(error);
  const name = nameOf(error);
  return (
    status === 412 ||
    name === "PreconditionFailed" ||
    name === "ConditionalRequestConflict" ||
    (status === 404 && name === "NoSuchKey")
  );
}

/**
 * No definitive answer from S3: a lost response, a timeout, a 5xx or
 * throttling that outlived the SDK's own retries. A PUT may have landed.
 */
export function isAmbiguous(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === undefined || status >= 500 || status === 429 || nameOf(error) === "SlowDown";
}

/**
 * Whether a PUT that failed with `error` may all the same have been stored:
 * no answer at all, a 500/502/504, or any failure after the SDK retried it
 * (an earlier attempt's answer is not known). A 503 SlowDown, a 412 or a 4xx
 * answered to the only attempt means S3 did not store it.
 */
export function mayHaveLanded(error: unknown): boolean {
  if ((shape(error).$metadata?.attempts ?? 1) > 1) return true;
  const status = httpStatusOf(error);
  return status === undefined || status === 500 || status === 502 || status === 504;
}

export interface S3Target {
  bucket: string;
  key: string;
  region: string;
}

/**
 * A refusal that comes from the object's KMS key rather than from S3: an
 * AccessDenied that names a kms: action (the role may read the object but
 * not use its key — say, after the stack went back from KMS to AES-256), or
 * S3's KMS.* errors (the key disabled or pending deletion). The guide's four
 * S3 permissions would not fix it: the message names the key's.
 */
function kmsKeyTrouble(error: unknown, name: string): string | undefined {
  // Throttling passes: it is load, not something a person fixes.
  if (name.startsWith("KMS.")) return /throttl/i.test(name) ? undefined : name;
  if (name !== "AccessDenied" || !(error instanceof Error)) return undefined;
  return /\bkms:[A-Za-z]+/.exec(error.message)?.[0];
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
]);

/** The refusal for a read that found the data object deleted, or undefined for any other error. */
export function deletedObjectError(
  error: unknown,
  target: S3Target,
): DataObjectDeletedError | undefined {
  return isDeleteMarker(error)
    ? new DataObjectDeletedError(placeOf(target), { cause: error })
    : undefined;
}

/**
 * The operator's error for an S3 failure a person has to fix, or undefined
 * when the error is not one of those (the caller then keeps the original).
 */
export function explainS3Error(
  error: unknown,
  target: S3Target,
  action: S3Action,
): StorageAccessError | undefined {
  const name = nameOf(error);
  const place = placeOf(target);
  if (CREDENTIAL_ERRORS.has(name) || /Could not load credentials/i.test(String(error))) {
    return new StorageAccessError(
      "CREDENTIALS_MISSING",
      { key: "credentialsMissing", params: { action, place, name } },
      { cause: error },
    );
  }
  const permission = kmsKeyTrouble(error, name);
  if (permission !== undefined) {
    return new StorageAccessError(
      "STORAGE_ACCESS_DENIED",
      { key: "kmsKeyDenied", params: { action, place, name, permission } },
      { cause: error },
    );
  }
  if (name === "AccessDenied" || httpStatusOf(error) === 403) {
    return new StorageAccessError(
      "STORAGE_ACCESS_DENIED",
      { key: "accessDenied", params: { action, place } },
      { cause: error },
    );
  }
  if (
    name === "IllegalLocationConstraintException" ||
    name === "AuthorizationHeaderMalformed" ||
    name === "PermanentRedirect" ||
    httpStatusOf(error) === 301
  ) {
    return new StorageAccessError(
      "BUCKET_REGION_MISMATCH",
      { key: "regionMismatch", params: { bucket: target.bucket, region: target.region, name } },
      { cause: error },
    );
  }
  return undefined;
}

/** The target's place alone (a target may carry more). */
function placeOf({ bucket, key, region }: S3Target) {
  return { bucket, key, region };
}
