/**
 * The S3 client's own timeouts: a server that accepts a connection and then
 * says nothing, or stops in the middle of a body, is given up on instead of
 * holding the function until Lambda kills it. And where its requests go.
 */
import { createServer, type Server, type Socket } from "node:net";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { NodeHttpHandler } from "@smithy/node-http-handler";
import { afterEach, describe, expect, test } from "vitest";
import { createS3Client, S3_TIMEOUTS } from "../../../lambda/storage/s3-client.ts";

const SHORT = { connectionMs: 1_000, requestMs: 300, socketIdleMs: 300 };

let server: Server | undefined;
const sockets: Socket[] = [];

/** A TCP server on loopback that hands each connection to `onConnection`; its endpoint. */
async function stalledServer(onConnection: (socket: Socket) => void): Promise<string> {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  const closing = server;
  if (closing !== undefined) await new Promise((resolve) => closing.close(resolve));
  server = undefined;
});

function clientOf(endpoint: string, maxAttempts = 1) {
  return createS3Client(
    {
      region: "eu-west-1",
      s3Endpoint: endpoint,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    },
    { maxAttempts },
    SHORT,
  );
}

describe("S3 client timeouts", () => {
  test("the container's client bounds connection, request and idle socket, and throws on a timeout", async () => {
    // The handler resolves its configuration on its first request: make one.
    const endpoint = await stalledServer((socket) => socket.destroy());
    const client = createS3Client(
      {
        region: "eu-west-1",
        s3Endpoint: endpoint,
        credentials: { accessKeyId: "t", secretAccessKey: "t" },
      },
      { maxAttempts: 1 },
    );
    await expect(client.send(new GetObjectCommand({ Bucket: "b", Key: "k" }))).rejects.toThrow();
    const handler = client.config.requestHandler as NodeHttpHandler;
    expect(await handler.httpHandlerConfigs()).toMatchObject({
      connectionTimeout: S3_TIMEOUTS.connectionMs,
      requestTimeout: S3_TIMEOUTS.requestMs,
      socketTimeout: S3_TIMEOUTS.socketIdleMs,
      throwOnRequestTimeout: true,
    });
    expect(S3_TIMEOUTS).toEqual({ connectionMs: 3_000, requestMs: 5_000, socketIdleMs: 5_000 });
  });

  test("a server that never answers: the call fails with a TimeoutError, and the SDK tries again", async () => {
    let connections = 0;
    const endpoint = await stalledServer(() => {
      connections += 1;
    });
    const call = clientOf(endpoint, 2).send(
      new PutObjectCommand({ Bucket: "b", Key: "k", Body: "x", IfMatch: '"1"' }),
    );
    await expect(call).rejects.toMatchObject({ name: "TimeoutError" });
    expect(connections).toBe(2);
  });

  test("a body that stops arriving: reading it fails instead of waiting forever", async () => {
    const endpoint = await stalledServer((socket) => {
      socket.once("data", () => {
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\netag: "abc"\r\n\r\n',
        );
        socket.write("0123456789");
      });
    });
    const object = await clientOf(endpoint).send(new GetObjectCommand({ Bucket: "b", Key: "k" }));
    expect(object.ETag).toBe('"abc"');
    await expect(object.Body?.transformToByteArray()).rejects.toThrow();
  });
});

describe("where the client sends its requests", () => {
  /** The host and path of the first request `client` would send; nothing leaves the process. */
  async function firstRequest(client: ReturnType<typeof createS3Client>) {
    const seen: { hostname?: string; path?: string }[] = [];
    client.middlewareStack.add(
      (_next) => async (args) => {
        const request = args.request as { hostname?: string; path?: string };
        seen.push({ hostname: request.hostname, path: request.path });
        throw new Error("stopped before sending");
      },
      { step: "finalizeRequest" },
    );
    await expect(
      client.send(new GetObjectCommand({ Bucket: "interflow-data", Key: "r.db" })),
    ).rejects.toThrow("stopped before sending");
    return seen[0];
  }
  const credentials = { accessKeyId: "t", secretAccessKey: "t" };

  test("on AWS, to the bucket's own host (virtual-hosted style)", async () => {
    const client = createS3Client({ region: "eu-west-1", credentials });
    const request = await firstRequest(client);
    expect(request?.hostname).toMatch(/^interflow-data\.s3\.eu-west-1\./);
    expect(request?.path).toBe("/r.db");
  });

  test("with AWS_ENDPOINT_URL_S3, to that endpoint with the bucket in the path", async () => {
    const client = createS3Client({
      region: "eu-west-1",
      s3Endpoint: "http://storage.internal:9000",
      credentials,
    });
    expect(await firstRequest(client)).toEqual({
      hostname: "storage.internal",
      path: "/interflow-data/r.db",
    });
  });
});
