/**
 * Storage layer: creating the bucket on first write when it does not exist,
 * as the operator guide promises ("créé automatiquement lors du premier accès
 * si les permissions le permettent"), with default AES-256 encryption — or
 * the configuration's KMS key, the one its writes ask for.
 */
import {
  CreateBucketCommand,
  type CreateBucketCommandInput,
  PutBucketEncryptionCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { StorageAccessError } from "../errors.ts";
import { defaultEncryption, type ObjectEncryption, SSE_S3 } from "./encryption.ts";
import { explainS3Error, type S3Target } from "./s3-errors.ts";

/**
 * How a call to S3 is made: directly, or timed for the invocation's log line
 * and cut at its deadline (the signal aborts the request).
 */
export type S3Call = <T>(
  command: string,
  call: (abortSignal?: AbortSignal) => Promise<T>,
) => Promise<T>;

const direct: S3Call = (_command, call) => call();

/** Creates the bucket; returns warnings an operator should read (none when all went well). */
export async function createBucket(
  s3: S3Client,
  target: S3Target,
  send: S3Call = direct,
  encryption: ObjectEncryption = SSE_S3,
): Promise<string[]> {
  const { bucket, region } = target;
  const input: CreateBucketCommandInput = { Bucket: bucket };
  // us-east-1 is the one region that refuses an explicit LocationConstraint.
  if (region !== "us-east-1") {
    input.CreateBucketConfiguration = {
      LocationConstraint: region as NonNullable<
        CreateBucketCommandInput["CreateBucketConfiguration"]
      >["LocationConstraint"],
    };
  }
  try {
    await send("CreateBucket", (abortSignal) =>
      s3.send(new CreateBucketCommand(input), { abortSignal }),
    );
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === "BucketAlreadyOwnedByYou") return []; // another container won the race
    if (name === "BucketAlreadyExists") {
      throw new StorageAccessError(
        "BUCKET_NAME_TAKEN",
        { key: "bucketNameTaken", params: { bucket } },
        { cause: error },
      );
    }
    const explained = explainS3Error(error, target, "createBucket");
    if (explained?.code === "STORAGE_ACCESS_DENIED") {
      throw new StorageAccessError(
        "BUCKET_CREATION_DENIED",
        { key: "bucketCreationDenied", params: { bucket, region } },
        { cause: error },
      );
    }
    throw explained ?? error;
  }
  try {
    await send("PutBucketEncryption", (abortSignal) =>
      s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: defaultEncryption(encryption),
        }),
        { abortSignal },
      ),
    );
    return [];
  } catch (error) {
    // Every PUT asks for its encryption itself, so the data is encrypted
    // either way: a warning, not a reason to refuse the write that created the bucket.
    const wanted =
      encryption.SSEKMSKeyId === undefined ? "AES-256" : `SSE-KMS (clé ${encryption.SSEKMSKeyId})`;
    return [
      `le bucket ${bucket} a été créé mais son chiffrement par défaut ${wanted} n'a pas pu être activé (${(error as Error).name}) : accordez s3:PutEncryptionConfiguration ou activez-le dans la console`,
    ];
  }
}
