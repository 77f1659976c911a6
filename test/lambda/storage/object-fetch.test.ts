/**
 * The object's GET as the engine sends it: it asks S3 for the object's
 * checksum (without `x-amz-checksum-mode` S3 sends none, and every first
 * load would need the full integrity check), and it is abandoned when its
 * caller's deadline passes rather than when the socket gives up.
 */
import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { getObject, prefetchObject } from "../../../lambda/storage/object-fetch.ts";
import { createS3Client } from "../../../lambda/storage/s3-client.ts";
import {
  localEndpoint,
  localS3Client,
  newEngine,
  newTarget,
  REGION,
  sampleInput,
} from "../../support/local-s3.ts";

const LOCAL_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

describe("the object's GET", () => {
  test("every GetObject of the engine asks S3 for the object's checksum, whatever the client's defaults", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    // As AWS_RESPONSE_CHECKSUM_VALIDATION=when_required would set it: the SDK
    // then asks for a checksum only when the command does.
    const s3 = createS3Client(
      { region: REGION, s3Endpoint: localEndpoint(), credentials: LOCAL_CREDENTIALS },
      { responseChecksumValidation: "WHEN_REQUIRED" },
    );
    const { service } = await newEngine(target, { s3 });
    const modes: (string | undefined)[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        if (context.commandName === "GetObjectCommand") modes.push(headers["x-amz-checksum-mode"]);
        return next(args);
      },
      { step: "finalizeRequest", name: "checksumModes" },
    );

    await service.list({});
    await service.create(sampleInput(2));
    expect(modes.length).toBeGreaterThan(0);
    expect(new Set(modes)).toEqual(new Set(["ENABLED"]));
  });

  describe("against a server that accepts the connection and never answers", () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    let endpoint = "";
    beforeAll(async () => {
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const address = silent.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      endpoint = `http://127.0.0.1:${address.port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    test("a GET is abandoned when its caller's deadline passes, not when the socket gives up", async () => {
      const s3 = createS3Client({
        region: REGION,
        s3Endpoint: endpoint,
        credentials: LOCAL_CREDENTIALS,
      });
      const deadline = AbortSignal.timeout(300);

      const failure = await getObject(s3, { bucket: "b", key: "k" }, undefined, deadline).catch(
        (error: unknown) => error,
      );

      expect(deadline.aborted).toBe(true);
      expect(failure).toMatchObject({ name: "AbortError" });
      // The server saw the request: it was sent, then given up.
      expect(sockets.size).toBeGreaterThan(0);
    });
  });

  test("a GET started ahead of time that fails settles with its error, which is kept for the load to answer", async () => {
    const target = await newTarget("sqlite");
    const missing = { bucket: target.bucket, key: "rapatriements/absent.db" };
    const prefetch = prefetchObject(localS3Client(), missing, () => 1_234);
    expect(prefetch.startedAt).toBe(1_234);
    const outcome = await prefetch.outcome;
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? undefined : (outcome.error as Error).name).toBe("NoSuchKey");

    await (await newEngine(target)).service.create(sampleInput(1));
    const found = await prefetchObject(localS3Client(), target).outcome;
    expect(found.ok && found.object.verified).toBe(true);
  });

  test("a GET with no deadline is answered as usual", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const fetched = await getObject(localS3Client(), target, undefined);
    expect(fetched.verified).toBe(true);
    expect(fetched.body.byteLength).toBeGreaterThan(0);
    expect(fetched.etag).toMatch(/^"[0-9a-f]+"$/);
  });
});
