/**
 * Storage layer: the server-side encryption every write of the data object
 * asks for. AES-256 (SSE-S3) unless the configuration names a KMS key
 * (`S3_SSE_KMS_KEY_ID`): the operator guide promises AES-256, and a team that
 * moves to its own key says so in one place, which every writer follows —
 * the functions, `import`, `restore`, and doctor's scratch object.
 */
import type { PutObjectCommandInput, ServerSideEncryptionConfiguration } from "@aws-sdk/client-s3";

/** The encryption fields of a PutObject, as S3 takes them. */
export type ObjectEncryption = Required<Pick<PutObjectCommandInput, "ServerSideEncryption">> &
  Pick<PutObjectCommandInput, "SSEKMSKeyId">;

/** The guide's promise, and the default. */
export const SSE_S3: ObjectEncryption = { ServerSideEncryption: "AES256" };

/** What a write asks for: the named KMS key (SSE-KMS), else AES-256. */
export function objectEncryption(kmsKeyId: string | undefined): ObjectEncryption {
  return kmsKeyId === undefined
    ? SSE_S3
    : { ServerSideEncryption: "aws:kms", SSEKMSKeyId: kmsKeyId };
}

/**
 * The bucket's default encryption that matches what the writes ask for, as
 * `put-bucket-encryption` takes it: a bucket created on first write gets it,
 * and doctor prints it for a bucket that lacks it. With a KMS key, S3 Bucket
 * Keys are on: S3 then asks KMS for a data key per bucket and period rather
 * than per write, which keeps the KMS bill and throttling out of the write path.
 */
export function defaultEncryption(encryption: ObjectEncryption): ServerSideEncryptionConfiguration {
  if (encryption.SSEKMSKeyId === undefined) {
    return { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] };
  }
  return {
    Rules: [
      {
        ApplyServerSideEncryptionByDefault: {
          SSEAlgorithm: "aws:kms",
          KMSMasterKeyID: encryption.SSEKMSKeyId,
        },
        BucketKeyEnabled: true,
      },
    ],
  };
}

/**
 * Whether two ways of naming a KMS key name the same key: equal, or one is
 * the key id that ends the other's ARN (`arn:aws:kms:…:key/<id>`). Two ARNs
 * must be equal (same region and account). An alias names a key only
 * through KMS, which is not asked here: it matches only itself.
 */
export function sameKmsKey(a: string, b: string): boolean {
  if (a === b) return true;
  const keyId = (name: string) => /^arn:[^:]+:kms:[^:]+:\d{12}:key\/(.+)$/.exec(name)?.[1];
  const [idA, idB] = [keyId(a), keyId(b)];
  if (idA !== undefined && idB !== undefined) return false;
  return (idA ?? a) === (idB ?? b);
}
