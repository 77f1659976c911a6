/**
 * Test support: a client whose calls go to the real local S3 server, except
 * where a test injects a fault the server cannot produce (a lost response, a
 * 409 ConditionalRequestConflict, a refusal). aws-sdk-client-mock stubs the
 * client's `send`; every command the engine uses is forwarded by default.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  type GetObjectCommandInput,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type AwsClientStub, mockClient } from "aws-sdk-client-mock";
import { localS3Client } from "./local-s3.ts";

export interface FaultyClient {
  client: S3Client;
  mock: AwsClientStub<S3Client>;
  real: S3Client;
}

export function faultyClient(): FaultyClient {
  const real = localS3Client();
  const client = localS3Client();
  const mock = mockClient(client);
  mock.on(GetObjectCommand).callsFake((input) => real.send(new GetObjectCommand(input)));
  mock.on(HeadObjectCommand).callsFake((input) => real.send(new HeadObjectCommand(input)));
  mock.on(PutObjectCommand).callsFake((input) => real.send(new PutObjectCommand(input)));
  mock.on(CreateBucketCommand).callsFake((input) => real.send(new CreateBucketCommand(input)));
  mock
    .on(PutBucketEncryptionCommand)
    .callsFake((input) => real.send(new PutBucketEncryptionCommand(input)));
  return { client, mock, real };
}

/**
 * The next PutObject runs `fault` (which may forward to `real` first, then
 * throw); later ones reach the server again. aws-sdk-client-mock replaces a
 * command's behaviours when it is configured anew, so the forward is restated.
 */
export function onNextPut(
  { mock, real }: FaultyClient,
  fault: (input: PutObjectCommandInput) => Promise<unknown>,
): void {
  mock
    .on(PutObjectCommand)
    .callsFakeOnce(fault)
    .callsFake((input) => real.send(new PutObjectCommand(input)));
}

/** An S3-shaped error as the SDK throws it. */
export function s3Error(name: string, status: number | undefined, message = name): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status !== undefined && status < 500 ? "client" : "server",
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

/** What a socket timeout looks like: no HTTP status at all. */
export function lostResponse(): Error {
  return Object.assign(new Error("socket hang up"), { name: "TimeoutError", $metadata: {} });
}

/**
 * What S3 sends and the local server does not: S3 answers a GET of a key
 * whose current version is a delete marker with 404 NoSuchKey *and* the
 * header `x-amz-delete-marker: true` (moto sends it on HEAD only). Adds that
 * header to the raw response of `client`'s GetObject 404s when the key's
 * latest version really is a delete marker (asked of the server by listing
 * the key's versions), before the SDK reads the response: the error is then
 * built by the SDK itself, as it builds S3's — which a stubbed `send`
 * (aws-sdk-client-mock) would skip.
 */
export function withDeleteMarkerHeader(client: S3Client): S3Client {
  const real = localS3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const output = await next(args);
      const response = output.response as { statusCode?: number; headers?: Record<string, string> };
      const input = args.input as GetObjectCommandInput;
      if (
        context.commandName === "GetObjectCommand" &&
        response.statusCode === 404 &&
        input.VersionId === undefined &&
        (await latestIsDeleteMarker(real, input.Bucket, input.Key))
      ) {
        response.headers = { ...response.headers, "x-amz-delete-marker": "true" };
      }
      return output;
    },
    // Low priority in the deserialize step: between the HTTP answer and the SDK's parsing of it.
    { step: "deserialize", name: "deleteMarkerHeader", priority: "low" },
  );
  return client;
}

async function latestIsDeleteMarker(
  s3: S3Client,
  bucket: string | undefined,
  key: string | undefined,
): Promise<boolean> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (listed.DeleteMarkers ?? []).some((m) => m.Key === key && m.IsLatest === true);
}
