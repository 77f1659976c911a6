/**
 * The events publisher's least privilege, proven on S3: in a local S3 server
 * of its own with IAM enforcement on, a user holding only the S3 statements
 * of the publisher's synthesized role reads the data object, reads and
 * conditionally writes its position object (a first run finds none: 404, not
 * 403), and is refused writing the data, deleting anything, and reading any
 * other key. (Its one other statement, events:PutEvents on the bus, is
 * asserted in events.test.ts: the local server enforces IAM on S3 only.)
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PUBLISHER_MODULE } from "../../infra/events.ts";
import { OWN_ACCESS_POLICY } from "../../infra/rapatriements-function.ts";
import { type IamServer, startIamServer } from "../support/iam-server.ts";
import { type Json, synthesize, withBucket } from "../support/synth.ts";

const BUCKET = "publisher-data";
const KEY = "rapatriements/rapatriements.db";
const POSITION = `${KEY}.events-position.json`;

/** The S3 statements of the publisher's role, with the bucket written in. */
function publisherS3Policy(): string {
  const synthesized = synthesize();
  const fn =
    synthesized.template.Resources[synthesized.functionsByModule.get(PUBLISHER_MODULE) ?? ""];
  const role = synthesized.template.Resources[fn.Properties.Role["Fn::GetAtt"][0]];
  const own = role.Properties.Policies.find((p: Json) => p.PolicyName === OWN_ACCESS_POLICY);
  const onS3 = (own.PolicyDocument.Statement as Json[]).filter((s) =>
    [s.Action].flat().every((a: string) => a.startsWith("s3:")),
  );
  return JSON.stringify({ Version: "2012-10-17", Statement: withBucket(onS3, BUCKET) });
}

const policy = publisherS3Policy();
let iam: IamServer;
let publisher: S3Client;

beforeAll(async () => {
  iam = await startIamServer({
    buckets: [BUCKET],
    policy,
    prepare: async (admin) => {
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: "data" }));
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: "other/secret", Body: "x" }));
    },
  });
  publisher = iam.userClient();
}, 120_000);

afterAll(() => iam?.server.stop());

describe("a user holding only the publisher's S3 statements", () => {
  test("the statements under test: read the data and the position, write the position, list the bucket", () => {
    expect(JSON.parse(policy).Statement).toEqual([
      {
        Sid: "ReadTheDataAndThePosition",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: [`arn:aws:s3:::${BUCKET}/${KEY}`, `arn:aws:s3:::${BUCKET}/${POSITION}`],
      },
      {
        Sid: "WriteThePositionOnly",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${BUCKET}/${POSITION}`,
      },
      {
        Sid: "MissingObjectsAreNotFound",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${BUCKET}`,
      },
    ]);
  });

  test("reads the data object, finds no position before its first run, then writes and reads it conditionally", async () => {
    const data = await publisher.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    expect(await data.Body?.transformToString()).toBe("data");
    await expect(
      publisher.send(new HeadObjectCommand({ Bucket: BUCKET, Key: KEY })),
    ).resolves.toBeDefined();
    await expect(
      publisher.send(new GetObjectCommand({ Bucket: BUCKET, Key: POSITION })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });

    const first = await publisher.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: POSITION, Body: '{"n":1}', IfNoneMatch: "*" }),
    );
    await publisher.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: POSITION, Body: '{"n":2}', IfMatch: first.ETag }),
    );
    const position = await publisher.send(new GetObjectCommand({ Bucket: BUCKET, Key: POSITION }));
    expect(await position.Body?.transformToString()).toBe('{"n":2}');
  });

  test("is refused writing the data object, deleting anything, and reading any other key", async () => {
    const refusals = [
      () => publisher.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: "x" })),
      () => publisher.send(new PutObjectCommand({ Bucket: BUCKET, Key: "other/new", Body: "x" })),
      () => publisher.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: POSITION })),
      () => publisher.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: KEY })),
      () => publisher.send(new GetObjectCommand({ Bucket: BUCKET, Key: "other/secret" })),
    ];
    for (const refused of refusals) {
      await expect(refused()).rejects.toMatchObject({ name: "AccessDenied" });
    }
  });
});
