/**
 * The operators' CLI with a KMS key in the configuration (S3_SSE_KMS_KEY_ID),
 * against the local S3 server, which records the encryption each PUT asks
 * for as S3 does: `import` and `restore` write the data with that key, and
 * `doctor` accepts a bucket whose default encryption is that key — and says
 * so — while naming the command that aligns a bucket that disagrees.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  GetBucketEncryptionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutBucketVersioningCommand,
  type ServerSideEncryptionConfiguration,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import {
  actAsOperator,
  checkNamed,
  checksOf,
  cli,
  freshDir,
  operatorEnv,
} from "../support/cli-run.ts";
import { createBucket, localS3Client } from "../support/local-s3.ts";

actAsOperator();

const KEY = "rapatriements/rapatriements.db";
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`;
const OTHER_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/99999999-12ab-34cd-56ef-1234567890ab";

/** An operator's environment; `key` undefined: no S3_SSE_KMS_KEY_ID at all. */
function envWithKey(bucket: string, key: string | undefined) {
  return operatorEnv(bucket, KEY, { S3_SSE_KMS_KEY_ID: key });
}

async function bucketEncryptedBy(rules: ServerSideEncryptionConfiguration): Promise<string> {
  const s3 = localS3Client();
  const bucket = await createBucket(s3);
  await s3.send(
    new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: rules }),
  );
  return bucket;
}

const kmsDefault = (key: string): ServerSideEncryptionConfiguration => ({
  Rules: [
    {
      ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: key },
      BucketKeyEnabled: true,
    },
  ],
});
const AES256_DEFAULT: ServerSideEncryptionConfiguration = {
  Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
};

async function encryptionCheck(bucket: string, key: string | undefined) {
  const result = await cli(["doctor"], envWithKey(bucket, key));
  return { result, check: checkNamed(checksOf(result.outLines), "chiffrement") };
}

async function dataEncryption(bucket: string, versionId?: string) {
  const head = await localS3Client().send(
    new HeadObjectCommand({ Bucket: bucket, Key: KEY, VersionId: versionId }),
  );
  return [head.ServerSideEncryption, head.SSEKMSKeyId];
}

function recordsFile(tag: string, count: number): string {
  const file = join(freshDir(), `${tag}.json`);
  const records = Array.from({ length: count }, (_, i) => ({
    reference: `${tag}-${i}`,
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "PAL-EUR", quantity: 1 }],
  }));
  writeFileSync(file, JSON.stringify(records));
  return file;
}

describe("import and restore write with the configured key", () => {
  test("import: the data object is SSE-KMS with S3_SSE_KMS_KEY_ID's key", async () => {
    const bucket = await createBucket(localS3Client());
    const imported = await cli(["import", recordsFile("KMS", 2)], envWithKey(bucket, KEY_ARN));
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    expect(await dataEncryption(bucket)).toEqual(["aws:kms", KEY_ARN]);
  });

  test("restore: a version written with AES-256 comes back encrypted with the key", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
    // Before the team moved to its key: AES-256.
    const plain = operatorEnv(bucket, KEY);
    expect((await cli(["import", recordsFile("V1", 3)], plain)).code).toBe(0);
    expect((await cli(["import", recordsFile("V2", 2), "--force"], plain)).code).toBe(0);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: KEY }));
    const first = versions.Versions?.find((v) => v.IsLatest !== true)?.VersionId;
    expect(await dataEncryption(bucket, first)).toEqual(["AES256", undefined]);

    const restored = await cli(["restore", String(first), "--yes"], envWithKey(bucket, KEY_ARN));
    expect(restored.err).toBe("");
    expect(restored.code).toBe(0);
    expect(await dataEncryption(bucket)).toEqual(["aws:kms", KEY_ARN]);
  });
});

describe("doctor's encryption check with a KMS key", () => {
  test("the bucket's default is the configured key: in order, and the line says it is that key", async () => {
    const bucket = await bucketEncryptedBy(kmsDefault(KEY_ARN));
    const { result, check } = await encryptionCheck(bucket, KEY_ARN);
    expect(check).toMatchObject({
      level: "ok",
      detail: `chiffrement par défaut du bucket : aws:kms avec la clé ${KEY_ARN}, celle que nomme S3_SSE_KMS_KEY_ID : l'application écrit avec la même`,
    });
    expect(checkNamed(checksOf(result.outLines), "configuration").detail).toContain(
      `S3_SSE_KMS_KEY_ID=${KEY_ARN}`,
    );
    // Its own scratch object was written as the application writes: with the key.
    expect(checkNamed(checksOf(result.outLines), "permission écriture").level).toBe("ok");
    expect(result.code).toBe(0);
  });

  test("the configuration may name the key by its id where the bucket names its ARN", async () => {
    const bucket = await bucketEncryptedBy(kmsDefault(KEY_ARN));
    const { check } = await encryptionCheck(bucket, KEY_ID);
    expect(check.level).toBe("ok");
  });

  test("the bucket uses a key the configuration does not name: a warning that the data is written with AES-256, and both ways out", async () => {
    const bucket = await bucketEncryptedBy(kmsDefault(KEY_ARN));
    const { check } = await encryptionCheck(bucket, undefined);
    expect(check.level).toBe("warn");
    expect(check.detail).toContain(
      "mais S3_SSE_KMS_KEY_ID n'est pas défini : l'application demande AES256 à chaque écriture",
    );
    expect(check.fix).toContain(`définissez S3_SSE_KMS_KEY_ID=${KEY_ARN}`);
    expect(check.fix).toContain(`-c kmsKeyArn=${KEY_ARN}`);
    expect(check.fix).toContain(`aws s3api put-bucket-encryption --bucket ${bucket} `);
  });

  test.each([
    ["AES-256", AES256_DEFAULT, "chiffrement par défaut du bucket : AES256"],
    [
      "another key",
      kmsDefault(OTHER_KEY_ARN),
      `chiffrement par défaut du bucket : aws:kms avec la clé ${OTHER_KEY_ARN}`,
    ],
  ])(
    "the bucket's default is %s: a warning naming the key the data is written with; its command puts the bucket in order",
    async (_label, rules, says) => {
      const bucket = await bucketEncryptedBy(rules);
      const { check } = await encryptionCheck(bucket, KEY_ARN);
      expect(check.level).toBe("warn");
      expect(check.detail).toContain(says);
      expect(check.detail).toContain(
        `mais l'application écrit en SSE-KMS avec la clé ${KEY_ARN} (S3_SSE_KMS_KEY_ID)`,
      );
      const command = /--server-side-encryption-configuration '(.*)'$/.exec(check.fix ?? "")?.[1];
      const s3 = localS3Client();
      await s3.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: JSON.parse(command ?? "{}"),
        }),
      );
      expect(
        (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))
          .ServerSideEncryptionConfiguration,
      ).toEqual(kmsDefault(KEY_ARN));
      expect((await encryptionCheck(bucket, KEY_ARN)).check.level).toBe("ok");
    },
  );

  test("no default encryption: the command it prints sets the configured key", async () => {
    const bucket = await createBucket(localS3Client());
    const { check } = await encryptionCheck(bucket, KEY_ARN);
    expect(check.level).toBe("warn");
    expect(check.detail).toContain(`l'application demande SSE-KMS avec la clé ${KEY_ARN}`);
    expect(check.fix).toContain(`"KMSMasterKeyID":"${KEY_ARN}"`);
  });
});
