/**
 * Bucket bootstrap and the operator-facing S3 errors: the first write creates
 * a missing bucket with default encryption; refusals say what to fix, in the
 * words of the operator guide's troubleshooting section.
 */
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { StorageAccessError, StorageBusyError } from "../../../lambda/errors.ts";
import { createBucket } from "../../../lambda/storage/bucket-bootstrap.ts";
import { objectEncryption } from "../../../lambda/storage/encryption.ts";
import { emptyReport } from "../../../lambda/storage/transaction-options.ts";
import { faultyClient, s3Error } from "../../support/faults.ts";
import {
  callsOf,
  localS3Client,
  newEngine,
  REGION,
  sampleInput,
  uniqueBucketName,
} from "../../support/local-s3.ts";

function missingBucketTarget() {
  return { bucket: uniqueBucketName("boot"), key: "rapatriements.db", strategy: "sqlite" as const };
}

async function bucketExists(bucket: string): Promise<boolean> {
  try {
    await localS3Client().send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    return false;
  }
}

describe("bucket bootstrap", () => {
  test("the first write creates the missing bucket in the configured region, encrypted by default", async () => {
    const target = missingBucketTarget();
    const { service } = await newEngine(target);
    const report = emptyReport();

    const created = await service.create(sampleInput(1), {}, { report });

    // The log line of that invocation shows the bootstrap's calls with the others.
    expect(callsOf(report)).toEqual([
      "GetObject 404",
      "CreateBucket 200",
      "PutBucketEncryption 200",
      "PutObject 200",
    ]);
    const s3 = localS3Client();
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: target.bucket }));
    expect(location.LocationConstraint).toBe(REGION);
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: target.bucket }));
    expect(
      encryption.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
        ?.SSEAlgorithm,
    ).toBe("AES256");
    expect((await service.get(created.id)).reference).toBe("RAP-1");
  });

  test("with a KMS key configured, the bucket it creates encrypts with that key by default (Bucket Key on), as the write does", async () => {
    const target = missingBucketTarget();
    const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const { service } = await newEngine(target, { encryption: objectEncryption(key) });

    await service.create(sampleInput(1));

    const s3 = localS3Client();
    const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: target.bucket }));
    expect(encryption.ServerSideEncryptionConfiguration?.Rules).toEqual([
      {
        ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: key },
        BucketKeyEnabled: true,
      },
    ]);
    const object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: target.key }));
    expect([object.ServerSideEncryption, object.SSEKMSKeyId]).toEqual(["aws:kms", key]);
  });

  test("a refused CreateBucket names the bucket, the region and the fix, and creates nothing", async () => {
    const target = missingBucketTarget();
    const { client, mock } = faultyClient();
    mock.on(CreateBucketCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const { service } = await newEngine(target, { s3: client });

    const failure = service.create(sampleInput(1));

    await expect(failure).rejects.toBeInstanceOf(StorageAccessError);
    await expect(failure).rejects.toMatchObject({ code: "BUCKET_CREATION_DENIED", status: 500 });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toContain(target.bucket);
    expect(message).toContain(REGION);
    expect(message).toContain(`aws s3 mb s3://${target.bucket} --region ${REGION}`);
    expect(await bucketExists(target.bucket)).toBe(false);
  });

  test("a region the bucket cannot be created in gives the guide's IllegalLocationConstraintException advice", async () => {
    const target = missingBucketTarget();
    // The client speaks to eu-west-1 while the configuration says us-west-2.
    const { service } = await newEngine(target, {
      target: { bucket: target.bucket, key: target.key, region: "us-west-2" },
    });

    const failure = service.create(sampleInput(1));

    await expect(failure).rejects.toMatchObject({ code: "BUCKET_REGION_MISMATCH" });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toMatch(/^IllegalLocationConstraintException: /);
    expect(message).toContain(target.bucket);
    expect(message).toContain("us-west-2");
    expect(message).toContain("AWS_REGION");
  });

  test("when default encryption cannot be set, the write still lands, encrypted, with a warning", async () => {
    const target = missingBucketTarget();
    const { client, mock } = faultyClient();
    mock.on(PutBucketEncryptionCommand).rejects(s3Error("AccessDenied", 403));
    const { service } = await newEngine(target, { s3: client });
    const report = emptyReport();

    await service.create(sampleInput(1), {}, { report });

    expect(report.warnings).toEqual([expect.stringContaining("s3:PutEncryptionConfiguration")]);
    const object = await localS3Client().send(
      new GetObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    expect(object.ServerSideEncryption).toBe("AES256");
  });
});

describe("S3 refusals a person must fix", () => {
  test("AccessDenied lists the four permissions of the guide on the bucket and bucket/*", async () => {
    const target = missingBucketTarget();
    const { client, mock } = faultyClient();
    mock.on(GetObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const { service } = await newEngine(target, { s3: client });

    const failure = service.list({});

    await expect(failure).rejects.toMatchObject({ code: "STORAGE_ACCESS_DENIED", status: 500 });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toMatch(/^AccessDenied: /);
    for (const permission of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]) {
      expect(message).toContain(permission);
    }
    expect(message).toContain(`arn:aws:s3:::${target.bucket}/*`);
  });

  test("missing credentials point at AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", async () => {
    const target = missingBucketTarget();
    const { client, mock } = faultyClient();
    mock
      .on(GetObjectCommand)
      .rejects(
        s3Error(
          "CredentialsProviderError",
          undefined,
          "Could not load credentials from any providers",
        ),
      );
    const { service } = await newEngine(target, { s3: client });

    const failure = service.get("some-id");

    await expect(failure).rejects.toMatchObject({ code: "CREDENTIALS_MISSING" });
    const message = await failure.catch((error: Error) => error.message);
    expect(message).toMatch(/^NoCredentialsError: /);
    expect(message).toContain("AWS_ACCESS_KEY_ID");
    expect(message).toContain("AWS_SECRET_ACCESS_KEY");
  });

  test("S3 answering 503 past the SDK's retries is a busy error, with Retry-After", async () => {
    const target = missingBucketTarget();
    const { client, mock } = faultyClient();
    mock.on(GetObjectCommand).rejects(s3Error("SlowDown", 503, "Please reduce your request rate."));
    const { service } = await newEngine(target, { s3: client });

    const failure = service.list({});

    await expect(failure).rejects.toBeInstanceOf(StorageBusyError);
    await expect(failure).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1 });
  });

  test("a bucket another container has just created is no error, and creating one warns of nothing", async () => {
    const target = { ...missingBucketTarget(), region: REGION };
    const s3 = localS3Client();

    expect(await createBucket(s3, target)).toEqual([]);
    // The second container's CreateBucket meets BucketAlreadyOwnedByYou: its write goes on.
    expect(await createBucket(s3, target)).toEqual([]);
    expect(await bucketExists(target.bucket)).toBe(true);
  });

  test("in us-east-1 the bucket is created without a LocationConstraint, which that region refuses", async () => {
    const target = { ...missingBucketTarget(), region: "us-east-1" };

    expect(await createBucket(localS3Client("us-east-1"), target)).toEqual([]);
    const location = await localS3Client("us-east-1").send(
      new GetBucketLocationCommand({ Bucket: target.bucket }),
    );
    expect(location.LocationConstraint ?? null).toBeNull();
  });

  test("a name another AWS account holds is BUCKET_NAME_TAKEN, naming the two settings to change", async () => {
    const target = { ...missingBucketTarget(), region: REGION };
    const { client, mock } = faultyClient();
    const taken = s3Error("BucketAlreadyExists", 409);
    mock.on(CreateBucketCommand).rejects(taken);

    const failure = await createBucket(client, target).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(StorageAccessError);
    expect(failure).toMatchObject({
      code: "BUCKET_NAME_TAKEN",
      message: `le bucket ${target.bucket} appartient à un autre compte AWS : choisissez un autre nom dans S3_RAPPATRIMENT_FILE_PATH ou S3_BUCKET_NAME`,
      cause: taken,
    });
  });

  test("a refused CreateBucket keeps S3's error as its cause; bad credentials say it was creating the bucket; anything else is passed on", async () => {
    const target = { ...missingBucketTarget(), region: REGION };
    const { client, mock } = faultyClient();

    const denied = s3Error("AccessDenied", 403);
    mock.on(CreateBucketCommand).rejects(denied);
    await expect(createBucket(client, target)).rejects.toMatchObject({
      code: "BUCKET_CREATION_DENIED",
      cause: denied,
    });

    mock.on(CreateBucketCommand).rejects(s3Error("InvalidAccessKeyId", 403));
    const credentials = await createBucket(client, target).then(
      () => new Error("created"),
      (error: Error) => error,
    );
    expect(credentials).toMatchObject({ code: "CREDENTIALS_MISSING" });
    expect(credentials.message).toContain(
      `pour créer le bucket s3://${target.bucket}/${target.key} (région ${REGION})`,
    );

    const unexplained = new Error("socket hang up");
    mock.on(CreateBucketCommand).rejects(unexplained);
    await expect(createBucket(client, target)).rejects.toBe(unexplained);
    expect(await bucketExists(target.bucket)).toBe(false);
  });
});
