/**
 * Test support: a bucket on the local server set up as the stack sets its
 * own — default AES-256 encryption, versioning, the retention lifecycle rule,
 * the conditional-write bucket policy — or with some of them left out, as an
 * adopted bucket may be.
 */
// @ts-nocheck

import {
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { conditionalWritesStatement, retentionRule } from "../../infra/data-bucket-rules.ts";

export type BucketSetting = "encryption" | "versioning" | "lifecycle" | "policy";
export const ALL_SETTINGS: readonly BucketSetting[] = [
  "encryption",
  "versioning",
  "lifecycle",
  "policy",
];

/**
 * Note: the local server enforces the policy's Deny but does not know the
 * s3:if-match condition keys, so once "policy" is set it refuses every PUT of
 * the data key: write the data before.
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
  if (settings.includes("policy")) {
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [conditionalWritesStatement(bucket, key)],
        }),
      }),
    );
  }
}
