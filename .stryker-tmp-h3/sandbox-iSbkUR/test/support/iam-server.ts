/**
 * Test support: a moto server of its own with IAM enforcement on (moto turns
 * it on for the whole process, so it cannot be the shared server), buckets
 * made while it was off, and one user holding only the given policy.
 */
// @ts-nocheck

import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { type LocalS3, startLocalS3 } from "../../tools/local-s3/local-s3.ts";
import { REGION } from "./local-s3.ts";

export interface IamServer {
  server: LocalS3;
  /** The keys of the user holding only `policy`. */
  user: { accessKeyId: string; secretAccessKey: string };
  /** An S3 client of that user (no SDK retries). */
  userClient(): S3Client;
}

export async function startIamServer(options: {
  buckets: string[];
  policy: string;
  /** Anything else to prepare while authorization is still off. */
  prepare?: (admin: S3Client) => Promise<void>;
}): Promise<IamServer> {
  const server = await startLocalS3();
  const credentials = { accessKeyId: "admin", secretAccessKey: "admin" };
  const admin = createS3Client({ region: REGION, s3Endpoint: server.endpoint, credentials });
  for (const bucket of options.buckets) {
    await admin.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
  }
  await options.prepare?.(admin);
  const iam = new IAMClient({ region: "us-east-1", endpoint: server.endpoint, credentials });
  const policy = await iam.send(
    new CreatePolicyCommand({ PolicyName: "under-test", PolicyDocument: options.policy }),
  );
  await iam.send(new CreateUserCommand({ UserName: "under-test" }));
  await iam.send(
    new AttachUserPolicyCommand({ UserName: "under-test", PolicyArn: policy.Policy?.Arn }),
  );
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: "under-test" }));
  const user = {
    accessKeyId: key.AccessKey?.AccessKeyId ?? "",
    secretAccessKey: key.AccessKey?.SecretAccessKey ?? "",
  };
  // From here on, every request needs a signature of a known user and an allowing policy.
  const reset = await fetch(`${server.endpoint}/moto-api/reset-auth`, {
    method: "POST",
    body: "0",
  });
  if (reset.status !== 200) throw new Error(`moto refused to turn IAM on: ${reset.status}`);
  return {
    server,
    user,
    userClient: () =>
      createS3Client(
        { region: REGION, s3Endpoint: server.endpoint, credentials: user },
        { maxAttempts: 1 },
      ),
  };
}
