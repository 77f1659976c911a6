/**
 * Least privilege, proven: in a local S3 server of its own with IAM
 * enforcement on, a user holding only the synthesized data policy (the
 * bucket substituted) runs the whole API flow, and is refused anything else.
 * So the code needs no permission the operator guide does not document.
 */

import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { apiOver } from "../support/api.ts";
import { type IamServer, startIamServer } from "../support/iam-server.ts";
import { newEngine, REGION } from "../support/local-s3.ts";
import { type Json, synthesize, withBucket } from "../support/synth.ts";

const DATA_BUCKET = "lp-data";
const OTHER_BUCKET = "lp-other";
const KEY = "rapatriements/rapatriements.db";

/** The synthesized policy document with the bucket's ARN written in. */
function policyFor(template: Json, bucket: string): string {
  const [, policy] = Object.entries(template.Resources as Record<string, Json>).find(
    ([id, r]) => r.Type === "AWS::IAM::ManagedPolicy" && id.startsWith("DataAccessPolicy"),
  ) ?? [undefined, undefined];
  return JSON.stringify({
    Version: "2012-10-17",
    ...withBucket(policy.Properties.PolicyDocument, bucket),
  });
}

let iam: IamServer;
let user: S3Client;
const document = policyFor(synthesize().template, DATA_BUCKET);

beforeAll(async () => {
  iam = await startIamServer({
    buckets: [DATA_BUCKET, OTHER_BUCKET],
    policy: document,
    prepare: async (admin) => {
      await admin.send(new PutObjectCommand({ Bucket: OTHER_BUCKET, Key: "secret", Body: "x" }));
    },
  });
  user = iam.userClient();
}, 120_000);

afterAll(() => iam?.server.stop());

async function handlersFor(bucket: string) {
  return apiOver(await newEngine({ bucket, key: KEY, strategy: "sqlite" }, { s3: user }));
}

describe("a user holding only the synthesized policy", () => {
  test("the policy under test is the guide's four actions on the bucket and bucket/*", () => {
    expect(JSON.parse(document).Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
        Resource: [`arn:aws:s3:::${DATA_BUCKET}`, `arn:aws:s3:::${DATA_BUCKET}/*`],
      },
    ]);
  });

  test("runs the whole API flow", async () => {
    const api = await handlersFor(DATA_BUCKET);
    expect((await api("GET", "/rapatriements")).json.items).toEqual([]);
    const created = await api("POST", "/rapatriements", {
      reference: "LP-1",
      origin: "LYON-01",
      destination: "PARIS-02",
      lines: [{ sku: "A", quantity: 2 }],
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await api("GET", `/rapatriements/${id}`)).status).toBe(200);
    expect((await api("GET", "/rapatriements?status=draft")).json.items).toHaveLength(1);
    const moved = await api(
      "PATCH",
      `/rapatriements/${id}`,
      { status: "requested" },
      { "if-match": '"1"' },
    );
    expect(moved.status).toBe(200);
    expect(
      (await api("DELETE", `/rapatriements/${id}`, undefined, { "if-match": '"2"' })).status,
    ).toBe(204);
    expect((await api("GET", `/rapatriements/${id}`)).status).toBe(404);
  });

  test("is refused what the policy does not grant", async () => {
    const refusals = [
      () => user.send(new GetObjectCommand({ Bucket: OTHER_BUCKET, Key: "secret" })),
      () => user.send(new PutObjectCommand({ Bucket: OTHER_BUCKET, Key: "x", Body: "x" })),
      () => user.send(new DeleteBucketCommand({ Bucket: DATA_BUCKET })),
      () => user.send(new ListBucketsCommand({})),
      () =>
        user.send(
          new CreateBucketCommand({
            Bucket: "lp-new",
            CreateBucketConfiguration: { LocationConstraint: REGION },
          }),
        ),
    ];
    for (const refused of refusals) {
      await expect(refused()).rejects.toMatchObject({ name: "AccessDenied" });
    }
  });

  test("through the API, data outside the policy is answered 500 STORAGE_ACCESS_DENIED", async () => {
    const api = await handlersFor(OTHER_BUCKET);
    const answer = await api("GET", "/rapatriements");
    expect(answer.status).toBe(500);
    expect(answer.json.code).toBe("STORAGE_ACCESS_DENIED");
  });
});
