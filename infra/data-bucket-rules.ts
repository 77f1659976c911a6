/**
 * Infrastructure: the data bucket's own settings that this product relies on,
 * in S3's API shapes, with no CDK import so that the operators' CLI (`doctor`)
 * checks an adopted bucket against exactly what the stack sets on its own
 * bucket, and prints the command that sets what is missing.
 */

/** How long an earlier version of the data object stays restorable, by default. */
export const DEFAULT_NONCURRENT_VERSION_DAYS = 30;
/**
 * Earlier versions of the data object kept whatever their age: the rule
 * expires a version after the restore window only once this many newer ones
 * exist. So a data object left alone (no write for a month) — or damaged and
 * not noticed in time — still has versions to restore. Ten lets an operator
 * step back over a short run of bad saves (a batch of commands is one save),
 * and costs at most ten copies of the object (about 320 MB at the documented
 * 32 MiB ceiling, a few MB at usual sizes).
 */
export const KEPT_NONCURRENT_VERSIONS = 10;
/** An upload left incomplete holds storage for nothing; the engine never uses multipart. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;
export const RETENTION_RULE_ID = "rapatriements-retention";
export const CONDITIONAL_WRITES_SID = "RequireConditionalWritesOnTheDataObject";
export const DELETE_PROTECTION_SID = "DenyDeletingTheDataObject";
export const TLS_ONLY_SID = "DenyPlainHttpToTheDataObject";

/**
 * The lifecycle rule, as `put-bucket-lifecycle-configuration` takes it. It
 * covers only the data key (and the names that start with it), so on an
 * adopted bucket nothing else of the team's changes.
 */
export function retentionRule(dataKey: string, noncurrentDays = DEFAULT_NONCURRENT_VERSION_DAYS) {
  return {
    ID: RETENTION_RULE_ID,
    Status: "Enabled" as const,
    Filter: { Prefix: dataKey },
    NoncurrentVersionExpiration: {
      NoncurrentDays: noncurrentDays,
      NewerNoncurrentVersions: KEPT_NONCURRENT_VERSIONS,
    },
    // A delete marker with no version left behind it hides nothing any more.
    Expiration: { ExpiredObjectDeleteMarker: true },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: ABORT_INCOMPLETE_UPLOAD_DAYS },
  };
}

/** A PUT of the data object without If-Match or If-None-Match could overwrite a write it never saw. */
export const CONDITIONAL_WRITES_CONDITION = {
  Null: { "s3:if-match": "true", "s3:if-none-match": "true" },
};

/** The bucket policy statement refusing such a PUT, whoever sends it. */
export function conditionalWritesStatement(bucket: string, dataKey: string) {
  return {
    Sid: CONDITIONAL_WRITES_SID,
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: `arn:aws:s3:::${bucket}/${dataKey}`,
    Condition: CONDITIONAL_WRITES_CONDITION,
  };
}

/**
 * Deleting the data object would leave a delete marker, which the functions
 * refuse (DATA_OBJECT_DELETED) until someone restores a version; deleting a
 * version by its id (s3:DeleteObjectVersion) would erase the history a
 * restore needs, for good. No function calls either (the guide's policy
 * grants s3:DeleteObject, but only doctor's scratch object, beside the data
 * key, is ever deleted), so both are refused on the data key, whoever asks.
 * The lifecycle rule still expires old versions: S3 applies it, not a principal.
 */
export const DELETE_PROTECTION_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"];

export function deleteProtectionStatement(bucket: string, dataKey: string) {
  return {
    Sid: DELETE_PROTECTION_SID,
    Effect: "Deny",
    Principal: "*",
    Action: DELETE_PROTECTION_ACTIONS,
    Resource: `arn:aws:s3:::${bucket}/${dataKey}`,
  };
}

/** A request over plain HTTP, as a bucket policy condition names it. */
export const PLAIN_HTTP_CONDITION = { Bool: { "aws:SecureTransport": "false" } };

/**
 * TLS only, for an adopted bucket (the stack's own refuses plain HTTP on the
 * whole bucket): keyed to the data key and the names that start with it (an
 * import's copy of an earlier file, doctor's scratch object), so the team's
 * other objects keep whatever rule they have.
 */
export function tlsOnlyStatement(bucket: string, dataKey: string) {
  return {
    Sid: TLS_ONLY_SID,
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: `arn:aws:s3:::${bucket}/${dataKey}*`,
    Condition: PLAIN_HTTP_CONDITION,
  };
}
