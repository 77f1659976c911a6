/**
 * A data object someone deleted: a real DeleteObject on a versioned bucket of
 * the local server leaves a delete marker, and S3 then answers a GET of the
 * key 404 NoSuchKey with `x-amz-delete-marker: true` — a header the local
 * server sends on HEAD only, so it is set on the wire at the client
 * (withDeleteMarkerHeader). Every read and write is then refused with
 * DATA_OBJECT_DELETED and the restore command — through the storage, the
 * HTTP API and the commands function — and nothing is written; `npx
 * rapatriements restore` of the last real version brings the records back;
 * the object's versions show that no empty database was ever written.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import { DataObjectDeletedError } from "../../../lambda/errors.ts";
import { createCommandsHandler } from "../../../lambda/handlers/apply-commands.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import { apiOver } from "../../support/api.ts";
import { actAsOperator, cli, operatorEnv } from "../../support/cli-run.ts";
import { commandsQueues, receive, sendMessages, sqsEvent } from "../../support/commands-queue.ts";
import { withDeleteMarkerHeader } from "../../support/faults.ts";
import {
  localS3Client,
  newEngine,
  newTarget,
  newVersionedTarget,
  recordRequests,
  sampleInput,
  type Target,
  tableRows,
} from "../../support/local-s3.ts";

actAsOperator();

const STRATEGIES: StorageStrategy[] = ["sqlite", "json"];

/** A container whose client sees S3's answers as S3 sends them, delete-marker header included. */
function engineAsOnS3(target: Target) {
  const s3 = withDeleteMarkerHeader(localS3Client());
  return newEngine(target, { s3 });
}

/** The refusal every operation must get, with the command that undoes the deletion. */
function deletedRefusal(target: Target) {
  return {
    status: 500,
    code: "DATA_OBJECT_DELETED",
    message: expect.stringMatching(
      new RegExp(
        `^DATA_OBJECT_DELETED : l'objet de données s3://${target.bucket}/${target.key.replaceAll(".", "\\.")} \\(région eu-west-1\\) a été supprimé .* npx rapatriements versions, puis restaurez-la : npx rapatriements restore VERSION_ID$`,
      ),
    ) as unknown,
  };
}

/**
 * The key's history: the record count of each version, oldest first (S3
 * lists a key's versions newest first; their times are to the second, too
 * coarse to order them), and its delete markers, the latest first.
 */
async function history(s3: S3Client, target: Target) {
  const listed = await s3.send(
    new ListObjectVersionsCommand({ Bucket: target.bucket, Prefix: target.key }),
  );
  const records: number[] = [];
  for (const version of [...(listed.Versions ?? [])].reverse()) {
    const object = await s3.send(
      new GetObjectCommand({
        Bucket: target.bucket,
        Key: target.key,
        VersionId: version.VersionId,
      }),
    );
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    const rows = await tableRows(target.strategy, bytes, "SELECT COUNT(*) FROM rapatriements");
    records.push(Number(rows[0]?.[0]));
  }
  const markers = (listed.DeleteMarkers ?? []).map((m) => (m.IsLatest ? "latest" : "earlier"));
  return { records, markers };
}

describe.each(STRATEGIES)("a data object deleted (STORAGE_STRATEGY=%s)", (strategy) => {
  test("reads and writes refuse with DATA_OBJECT_DELETED and the restore command, nothing is written; after restore the records are back", async () => {
    const target = await newVersionedTarget(strategy);
    const s3 = localS3Client();
    const warm = await engineAsOnS3(target);
    for (const n of [1, 2, 3]) await warm.service.create(sampleInput(n));
    const lastReal = await s3.send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );

    // Someone deletes the data object.
    await s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }));

    // A container that holds a copy from before, and a cold one: neither
    // answers from nothing, nor from the copy.
    const cold = await engineAsOnS3(target);
    for (const { service, s3: client } of [warm, cold]) {
      const requests = recordRequests(client);
      await expect(service.listAll()).rejects.toMatchObject(deletedRefusal(target));
      await expect(service.create(sampleInput(4))).rejects.toBeInstanceOf(DataObjectDeletedError);
      await expect(service.create(sampleInput(4))).rejects.toMatchObject(deletedRefusal(target));
      expect(requests.map((r) => `${r.command} ${r.status}`)).toEqual([
        "GetObject 404",
        "GetObject 404",
        "GetObject 404",
      ]);
    }

    // The HTTP API answers it as its other storage faults: problem+json, the code, no detail.
    const api = apiOver(await engineAsOnS3(target));
    for (const [method, url, body] of [
      ["GET", "/rapatriements"],
      ["POST", "/rapatriements", sampleInput(5)],
    ] as const) {
      const answer = await api(method, url, body);
      expect(answer.status).toBe(500);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      expect(answer.json).toMatchObject({ status: 500, code: "DATA_OBJECT_DELETED" });
    }

    // The commands function hands the whole batch back to the queue, and logs why.
    const queues = await commandsQueues();
    const lines: LogLine[] = [];
    const commands = await engineAsOnS3(target);
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: commands.service, store: commands.store }),
      log: (line) => lines.push(line),
      commandsQueue: queues.queue,
    });
    await sendMessages(
      queues,
      [6, 7].map((n) => JSON.stringify({ action: "create", data: sampleInput(n) })),
    );
    const batch = sqsEvent(queues.arn, await receive(queues, 2));
    const answer = await handler(batch, lambdaContext("deleted"));
    expect(answer).toEqual({
      batchItemFailures: batch.Records.map((r) => ({ itemIdentifier: r.messageId })),
    });
    expect(lines[0]).toMatchObject({
      succeeded: 0,
      failed: batch.Records.map((r) => ({
        id: r.messageId,
        code: "DATA_OBJECT_DELETED",
        retry: true,
      })),
    });

    // Nothing was written over the delete marker.
    expect(await history(s3, target)).toEqual({ records: [1, 2, 3], markers: ["latest"] });

    // The operator restores the last real version.
    const restored = await cli(
      ["restore", lastReal.VersionId ?? "missing", "--yes"],
      operatorEnv(target.bucket, target.key, { STORAGE_STRATEGY: strategy }),
    );
    expect(restored.err).toBe("");
    expect(restored.code).toBe(0);

    // The warm container serves the records again, and writes on top of them.
    expect((await warm.service.listAll()).map((r) => r.reference).sort()).toEqual([
      "RAP-1",
      "RAP-2",
      "RAP-3",
    ]);
    await warm.service.create(sampleInput(8));
    // Every version ever written holds records: the restored one, then the new write.
    expect(await history(s3, target)).toEqual({ records: [1, 2, 3, 3, 4], markers: ["earlier"] });
  });

  test("a key never written, or deleted from a bucket without versioning (no marker), is still no data yet: an empty database", async () => {
    const versioned = await newVersionedTarget(strategy);
    const first = await engineAsOnS3(versioned);
    expect(await first.service.listAll()).toEqual([]);
    await first.service.create(sampleInput(1));
    expect((await first.service.listAll()).map((r) => r.reference)).toEqual(["RAP-1"]);

    const unversioned = await newTarget(strategy);
    await (await engineAsOnS3(unversioned)).service.create(sampleInput(2));
    await localS3Client().send(
      new DeleteObjectCommand({ Bucket: unversioned.bucket, Key: unversioned.key }),
    );
    const after = await engineAsOnS3(unversioned);
    expect(await after.service.listAll()).toEqual([]);
  });
});
