/**
 * What a Lambda container starts in its init phase, before the rest of the
 * bundle evaluates: the object's GET (through the real S3 API of the local
 * server) and sql.js's compile; and the wait until that GET is on the wire.
 */
import { once } from "node:events";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { requestSent, startContainer } from "../../../lambda/handlers/container-start.ts";
import {
  localEndpoint,
  newEngine,
  newTarget,
  REGION,
  sampleInput,
} from "../../support/local-s3.ts";

describe("the init phase's start", () => {
  test("outside Lambda nothing is started", () => {
    expect(startContainer({ AWS_REGION: REGION })).toBeUndefined();
  });

  test("in Lambda with an invalid configuration nothing is started: the first invocation answers it", () => {
    expect(startContainer({ AWS_LAMBDA_FUNCTION_NAME: "f", AWS_REGION: REGION })).toBeUndefined();
  });

  test("in Lambda the object's GET and sql.js's compile are under way at import", async () => {
    const target = await newTarget("sqlite");
    const { service } = await newEngine(target);
    const created = await service.create(sampleInput(1));
    const started = startContainer({
      AWS_LAMBDA_FUNCTION_NAME: "f",
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL_S3: localEndpoint(),
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      S3_RAPPATRIMENT_FILE_PATH: `s3://${target.bucket}/${target.key}`,
    });
    expect(started?.config).toMatchObject({ bucket: target.bucket, key: target.key });
    const outcome = await started?.prefetch.outcome;
    if (outcome?.ok !== true) throw new Error(`the GET failed: ${String(outcome?.error)}`);
    // The engine wrote the object: its bytes are proven its own.
    expect(outcome.object.verified).toBe(true);
    const SQL = await started?.sql;
    const db = new (SQL as NonNullable<typeof SQL>).Database(outcome.object.body);
    const ids = db.exec("SELECT id FROM rapatriements")[0]?.values.flat();
    db.close();
    expect(ids).toEqual([created.id]);
  });
});

describe("waiting for the GET to be on the wire", () => {
  test("ends once the request is sent, without waiting for the answer", async () => {
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      // A bound far beyond the test's timeout: only the request can end the wait.
      const sent = requestSent(600_000);
      const arrived = once(server, "request");
      let answered = false;
      request({ host: "127.0.0.1", port, path: "/" }, (res) => {
        answered = true;
        res.resume();
      }).end();
      await sent;
      expect(answered).toBe(false);
      const [, res] = (await arrived) as [unknown, { end(body: string): void }];
      res.end("now");
    } finally {
      server.close();
    }
  });

  test("without any request it ends after its bound", async () => {
    await expect(requestSent(10)).resolves.toBeUndefined();
  });
});
