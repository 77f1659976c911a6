/**
 * Local tools: a bucket on the local server set up as the stack sets its own
 * (for `npm run s3:local` and the tests) — default AES-256 encryption,
 * versioning, the retention lifecycle rule, all public access blocked, ACLs
 * off (BucketOwnerEnforced), notifications sent to EventBridge, and the
 * bucket policy's statements keyed to the data key — or with some of them
 * left out, as an adopted bucket may be.
 */
import {
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  conditionalWritesStatement,
  deleteProtectionStatement,
  retentionRule,
  tlsOnlyStatement,
} from "../../infra/data-bucket-rules.ts";

export type BucketSetting =
  | "encryption"
  | "versioning"
  | "lifecycle"
  | "publicAccess"
  | "ownership"
  | "eventBridge"
  | "conditionalWrites"
  | "deleteProtection"
  | "tls";

/**
 * Every setting but "tls": the local server is plain HTTP, and it applies a
 * Deny whose condition it cannot evaluate (aws:SecureTransport) to every
 * request, so a TLS-only statement would refuse every call on the data key
 * — as S3 would refuse plain HTTP. doctor says the check does not apply to
 * an http:// endpoint; its logic is tested with the endpoint left out.
 */
export const ALL_SETTINGS: readonly BucketSetting[] = [
  "encryption",
  "versioning",
  "lifecycle",
  "publicAccess",
  "ownership",
  "eventBridge",
  "conditionalWrites",
  "deleteProtection",
];

const STATEMENTS = {
  tls: tlsOnlyStatement,
  conditionalWrites: conditionalWritesStatement,
  deleteProtection: deleteProtectionStatement,
} as const;

/**
 * Note: the local server enforces the policy's Deny but does not know the
 * s3:if-match condition keys, so once "conditionalWrites" is set it refuses
 * every PUT of the data key: write the data before. "deleteProtection" makes
 * it refuse a DeleteObject of the data key, as S3 does.
 */
export async function configureBucket(
  s3: S3Client,
  bucket: string,
  key: string,
  settings: readonly BucketSetting[] = ALL_SETTINGS,
): Promise<void> {
  if (settings.includes("encryption")) {
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
      }),
    );
  }
  if (settings.includes("versioning")) {
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
  }
  if (settings.includes("lifecycle")) {
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [retentionRule(key)] },
      }),
    );
  }
  if (settings.includes("publicAccess")) {
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      }),
    );
  }
  if (settings.includes("ownership")) {
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      }),
    );
  }
  if (settings.includes("eventBridge")) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { EventBridgeConfiguration: {} },
      }),
    );
  }
  const statements = (Object.keys(STATEMENTS) as (keyof typeof STATEMENTS)[])
    .filter((setting) => settings.includes(setting))
    .map((setting) => STATEMENTS[setting](bucket, key));
  if (statements.length > 0) {
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
      }),
    );
  }
}
