/**
 * Infrastructure: the data bucket's own settings that this product relies on,
 * in S3's API shapes, with no CDK import so that the operators' CLI (`doctor`)
 * checks an adopted bucket against exactly what the stack sets on its own
 * bucket, and prints the command that sets what is missing.
 */
// @ts-nocheck


/** How long an earlier version of the data object stays restorable, by default. */
export const DEFAULT_NONCURRENT_VERSION_DAYS = 30;
/** An upload left incomplete holds storage for nothing; the engine never uses multipart. */
export const ABORT_INCOMPLETE_UPLOAD_DAYS = 1;
export const RETENTION_RULE_ID = "rapatriements-retention";
export const CONDITIONAL_WRITES_SID = "RequireConditionalWritesOnTheDataObject";

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
    NoncurrentVersionExpiration: { NoncurrentDays: noncurrentDays },
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
