/**
 * The storage protocol of docs/architecture.md against the real S3 API of the local
 * server, once per format: no lost update, reads that never write and hit the
 * 304 path, refusal of unreadable objects, lost responses applied once.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { loadConfig, type StorageStrategy } from "../../../lambda/config.ts";
import {
  StorageBusyError,
  StorageOutcomeUnknownError,
  StorageUnreadableError,
} from "../../../lambda/errors.ts";
import type { Rapatriement } from "../../../lambda/rapatriements/model.ts";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { objectEncryption } from "../../../lambda/storage/encryption.ts";
import {
  COMMIT_RETENTION_MS,
  createDatabase,
  currentVersion,
  readPragma,
} from "../../../lambda/storage/migrations.ts";
import { prefetchObject } from "../../../lambda/storage/object-fetch.ts";
import { type Database, loadSqlJs, type SqlJsStatic } from "../../../lambda/storage/sql-js.ts";
import { emptyReport } from "../../../lambda/storage/transaction-options.ts";
import { faultInjectingClient } from "../../support/fault-injecting-handler.ts";
import { faultyClient, lostResponse, onNextPut, s3Error } from "../../support/faults.ts";
import {
  callsOf,
  createBucket,
  etagOf,
  expectStoredAndRefused,
  getBytes,
  localS3Client,
  newEngine,
  newTarget,
  putBytes,
  recordCount,
  recordRequests,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

/** Every record of the object, read by a fresh engine page by page. */
async function allRecords(target: Target): Promise<Rapatriement[]> {
  const { service } = await newEngine(target);
  const records: Rapatriement[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.list(
      cursor === undefined ? { limit: "100" } : { limit: "100", cursor },
    );
    records.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return records;
}

const STRATEGIES: StorageStrategy[] = ["sqlite", "json"];

/** A customer-managed key, as the stack names it; the local server records it, as S3 would. */
const DATA_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

describe.each(STRATEGIES)("storage with STORAGE_STRATEGY=%s", (strategy) => {
  test("8 independent engines creating 25 records each at once lose no write", async () => {
    const target = await newTarget(strategy);
    const engines = await Promise.all(Array.from({ length: 8 }, () => newEngine(target)));

    const created = await Promise.all(
      engines.flatMap(({ service }, e) =>
        Array.from({ length: 25 }, (_, i) => service.create(sampleInput(`${e}-${i}`))),
      ),
    );
    expect(created).toHaveLength(200);

    let stored = await allRecords(target);
    expect(stored).toHaveLength(200);
    expect(new Set(stored.map((r) => r.reference)).size).toBe(200);
    expect(stored.every((r) => r.version === 1)).toBe(true);

    // Each engine then moves its own records on, all at once: every version becomes 2.
    await Promise.all(
      engines.flatMap(({ service }, e) =>
        created
          .slice(e * 25, e * 25 + 25)
          .map((r) => service.update(r.id, { status: "requested" }, { expectedVersion: 1 })),
      ),
    );
    stored = await allRecords(target);
    expect(stored).toHaveLength(200);
    expect(stored.every((r) => r.version === 2 && r.status === "requested")).toBe(true);
  });

  test("8 engines writing one record at a time contend on every PUT and still lose nothing", async () => {
    const target = await newTarget(strategy);
    // A minute per write rather than the default 20 s: on a loaded machine (or
    // under `npm run mutate`) a busy answer would be the machine's, not a lost write.
    const engines = await Promise.all(
      Array.from({ length: 8 }, () => newEngine(target, { retry: { budgetMs: 60_000 } })),
    );
    const reports = engines.map(() => emptyReport());

    await Promise.all(
      engines.map(async ({ service }, e) => {
        for (let i = 0; i < 25; i++) {
          await service.create(sampleInput(`${e}-${i}`), {}, { report: reports[e] });
        }
      }),
    );

    const stored = await allRecords(target);
    expect(stored).toHaveLength(200);
    expect(stored.every((r) => r.version === 1)).toBe(true);
    // The writers really did race: some PUTs lost and were retried.
    const attempts = reports.reduce((sum, r) => sum + r.attempts, 0);
    expect(attempts).toBeGreaterThan(200);
  });

  test("a read sends no PUT, and a second read in a warm engine is served from the 304 path", async () => {
    const target = await newTarget(strategy);
    const writer = await newEngine(target);
    const created = await writer.service.create(sampleInput(1));

    const reader = await newEngine(target);
    const requests = recordRequests(reader.s3);
    const first = emptyReport();
    const second = emptyReport();

    expect((await reader.service.get(created.id, { report: first })).reference).toBe("RAP-1");
    expect((await reader.service.get(created.id, { report: second })).reference).toBe("RAP-1");
    const page = await reader.service.list({});

    expect(page.items.map((r) => r.id)).toEqual([created.id]);
    expect(requests).toEqual([
      { command: "GetObject", status: 200 },
      { command: "GetObject", status: 304 },
      { command: "GetObject", status: 304 },
    ]);
    expect(first.cache).toBe("miss");
    expect(second.cache).toBe("hit");
  });

  test("a write that changes nothing sends no PUT", async () => {
    const target = await newTarget(strategy);
    const { service, s3 } = await newEngine(target);
    const created = await service.create(sampleInput(1, { comment: "fragile" }));
    const requests = recordRequests(s3);

    const same = await service.update(created.id, { comment: "fragile" });

    expect(same.version).toBe(1);
    expect(requests.map((r) => r.command)).toEqual(["GetObject"]);
  });

  test("writes that arrive together share one load and one PUT; a failing one is reported alone", async () => {
    const target = await newTarget(strategy);
    const { service, store, s3 } = await newEngine(target);
    await service.create(sampleInput("taken"));
    const requests = recordRequests(s3);

    const results = await store.writeBatch([
      service.prepareCreate(sampleInput("a")),
      service.prepareCreate(sampleInput("taken")),
      service.prepareCreate(sampleInput("b")),
    ]);

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[1]).toMatchObject({ reason: { code: "DUPLICATE_REFERENCE" } });
    expect(requests.map((r) => r.command)).toEqual(["GetObject", "PutObject"]);
    expect((await allRecords(target)).map((r) => r.reference).sort()).toEqual([
      "RAP-a",
      "RAP-b",
      "RAP-taken",
    ]);
  });

  test("every PUT asks for AES256 and names the format in its content type", async () => {
    const target = await newTarget(strategy);
    const { service } = await newEngine(target);
    await service.create(sampleInput(1));

    const head = await localS3Client().send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    expect(head.ServerSideEncryption).toBe("AES256");
    expect(head.SSEKMSKeyId).toBeUndefined();
    expect(head.ContentType).toBe(
      strategy === "json" ? "application/json" : "application/vnd.sqlite3",
    );
  });

  test("with S3_SSE_KMS_KEY_ID, every PUT asks for SSE-KMS with that key, and S3 says so", async () => {
    const target = await newTarget(strategy);
    const config = loadConfig(
      {
        AWS_REGION: "eu-west-1",
        S3_RAPPATRIMENT_FILE_PATH: `s3://${target.bucket}/${target.key}`,
        S3_SSE_KMS_KEY_ID: DATA_KEY_ARN,
      },
      {},
    );
    const { service, s3 } = await newEngine(target, {
      encryption: objectEncryption(config.sseKmsKeyId),
    });
    const puts: PutObjectCommandInput[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutObjectCommand") {
          puts.push(args.input as PutObjectCommandInput);
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const created = await service.create(sampleInput(1));
    await service.update(created.id, { status: "requested" }, { expectedVersion: 1 });

    expect(
      puts.map(({ ServerSideEncryption, SSEKMSKeyId }) => ({ ServerSideEncryption, SSEKMSKeyId })),
    ).toEqual([
      { ServerSideEncryption: "aws:kms", SSEKMSKeyId: DATA_KEY_ARN },
      { ServerSideEncryption: "aws:kms", SSEKMSKeyId: DATA_KEY_ARN },
    ]);
    const head = await localS3Client().send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(["aws:kms", DATA_KEY_ARN]);
  });

  test("an object that cannot be read is refused with STORAGE_UNREADABLE and never overwritten", async () => {
    const target = await newTarget(strategy);
    const other: StorageStrategy = strategy === "json" ? "sqlite" : "json";
    const valid = await newEngine(target);
    await valid.service.create(sampleInput(1));
    const good = await getBytes(target);

    const otherFormat = await newTarget(other);
    await (await newEngine(otherFormat)).service.create(sampleInput(1));

    const unreadable: [string, Uint8Array][] = [
      ["random bytes", new Uint8Array(4096).map((_, i) => (i * 7919) % 251)],
      ["a truncated file", good.slice(0, Math.floor(good.length / 2))],
      ["an empty object", new Uint8Array()],
      [`a file of the other format (${other})`, await getBytes(otherFormat)],
      ["a file from a newer schema", await withNewerSchema(strategy, good)],
    ];
    for (const [label, bytes] of unreadable) {
      const etag = await putBytes(target, bytes);
      const { service, s3 } = await newEngine(target);
      const requests = recordRequests(s3);

      await expect(service.create(sampleInput(2)), label).rejects.toBeInstanceOf(
        StorageUnreadableError,
      );
      await expect(service.list({}), label).rejects.toMatchObject({ code: "STORAGE_UNREADABLE" });

      expect(await etagOf(target), label).toBe(etag);
      expect(
        requests.filter((r) => r.command === "PutObject"),
        label,
      ).toEqual([]);
    }
  });

  test("an empty object is refused as empty, and kept", async () => {
    await expectStoredAndRefused(
      await newTarget(strategy),
      new Uint8Array(),
      "l'objet est vide ; il n'a pas été modifié",
    );
  });

  test("a warm engine that sees the object turn unreadable refuses it too", async () => {
    const target = await newTarget(strategy);
    const { service } = await newEngine(target);
    await service.create(sampleInput(1));
    const etag = await putBytes(target, "not a database");

    await expect(service.create(sampleInput(2))).rejects.toMatchObject({
      code: "STORAGE_UNREADABLE",
    });
    expect(await etagOf(target)).toBe(etag);
  });

  test("a PUT that lands but whose response is lost leaves exactly one record", async () => {
    const target = await newTarget(strategy);
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      throw lostResponse();
    });
    const { service } = await newEngine(target, { s3: faulty.client });

    const created = await service.create(sampleInput(1));

    const stored = await allRecords(target);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(created.id);
  });

  test("a PUT that lands and that the SDK retried into a 412 is recognised, not applied twice", async () => {
    const target = await newTarget(strategy);
    const { service: seed } = await newEngine(target);
    await seed.create(sampleInput(0));
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      throw s3Error("PreconditionFailed", 412);
    });
    const { service } = await newEngine(target, { s3: faulty.client });

    const created = await service.create(sampleInput(1));

    const stored = await allRecords(target);
    expect(stored.map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-1"]);
    expect(stored.find((r) => r.reference === "RAP-1")?.id).toBe(created.id);
  });

  test("a 409 ConditionalRequestConflict is retried like a 412", async () => {
    const target = await newTarget(strategy);
    const faulty = faultyClient();
    onNextPut(faulty, async () => {
      throw s3Error("ConditionalRequestConflict", 409);
    });
    const { service } = await newEngine(target, { s3: faulty.client });

    await service.create(sampleInput(1));

    expect((await allRecords(target)).map((r) => r.reference)).toEqual(["RAP-1"]);
    expect(faulty.mock.commandCalls(PutObjectCommand)).toHaveLength(2);
  });

  test("a conflict storm past the retry budget ends in a busy error and changes nothing", async () => {
    const target = await newTarget(strategy);
    const { service: seed } = await newEngine(target);
    await seed.create(sampleInput(0));
    const etag = await etagOf(target);
    const { client, mock } = faultyClient();
    mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const { service } = await newEngine(target, {
      s3: client,
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    });

    const failure = service.create(sampleInput(1));

    await expect(failure).rejects.toBeInstanceOf(StorageBusyError);
    await expect(failure).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(4);
    expect(await etagOf(target)).toBe(etag);
  });

  test("the retry loop stops before the invocation's deadline", async () => {
    const target = await newTarget(strategy);
    const { client, mock } = faultyClient();
    mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const { service } = await newEngine(target, { s3: client });
    const deadline = Date.now() + 1000;

    await expect(service.create(sampleInput(1), {}, { deadline })).rejects.toBeInstanceOf(
      StorageBusyError,
    );
    expect(Date.now()).toBeLessThanOrEqual(deadline);
    expect(mock.commandCalls(PutObjectCommand).length).toBeGreaterThan(1);
  });

  test("contending writers on a slow S3 all answer by their deadline, and lose nothing they acknowledged", async () => {
    const target = await newTarget(strategy);
    const { service: seed } = await newEngine(target);
    await seed.create(sampleInput("seed"));
    // Every request stalls 400 ms before it reaches the server, as with a large object.
    const engines = await Promise.all(
      Array.from({ length: 4 }, () =>
        newEngine(target, { s3: faultInjectingClient(() => ({ kind: "slow", ms: 400 }), 1) }),
      ),
    );
    const deadline = Date.now() + 1000;
    const late: number[] = [];
    const acknowledged: string[] = [];

    await Promise.all(
      engines.flatMap(({ service }, e) =>
        Array.from({ length: 3 }, async (_, i) => {
          try {
            acknowledged.push(
              (await service.create(sampleInput(`${e}-${i}`), {}, { deadline })).id,
            );
          } catch (error) {
            expect((error as { status?: number }).status).toBe(503);
          } finally {
            if (Date.now() > deadline) late.push(Date.now() - deadline);
          }
        }),
      ),
    );

    expect(late).toEqual([]);
    const stored = (await allRecords(target)).map((r) => r.id);
    for (const id of acknowledged) expect(stored).toContain(id);
  });

  test("a PUT that lands while the re-read keeps failing is answered STORAGE_OUTCOME_UNKNOWN, not busy", async () => {
    const target = await newTarget(strategy);
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      // From now on S3 does not answer reads.
      faulty.mock.on(GetObjectCommand).rejects(lostResponse());
      throw lostResponse();
    });
    const { service } = await newEngine(target, {
      s3: faulty.client,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const report = emptyReport();

    // Room for several re-reads even on a loaded machine, or instrumented by `npm run mutate`.
    const failure = service.create(sampleInput(1), {}, { deadline: Date.now() + 2500, report });

    await expect(failure).rejects.toBeInstanceOf(StorageOutcomeUnknownError);
    await expect(failure).rejects.toMatchObject({
      status: 503,
      code: "STORAGE_OUTCOME_UNKNOWN",
      retryAfterSeconds: 1,
    });
    const reads = report.s3Calls.filter((c) => c.command === "GetObject");
    expect(reads.length).toBeGreaterThan(2); // it kept asking while time allowed
    // It had landed: the truth was "maybe", not "nothing was applied".
    expect((await allRecords(target)).map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-1"]);
  });

  test("a PUT that lands while the first re-reads fail is found out while time allows", async () => {
    const target = await newTarget(strategy);
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      const failures = [lostResponse(), s3Error("InternalError", 500)];
      faulty.mock.on(GetObjectCommand).callsFake((get) => {
        const failure = failures.shift();
        return failure === undefined
          ? faulty.real.send(new GetObjectCommand(get))
          : Promise.reject(failure);
      });
      throw lostResponse();
    });
    const { service } = await newEngine(target, {
      s3: faulty.client,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const report = emptyReport();

    const created = await service.create(sampleInput(1), {}, { report });

    expect(callsOf(report)).toEqual([
      "GetObject 200",
      "PutObject undefined",
      "GetObject undefined",
      "GetObject 500",
      "GetObject 200",
    ]);
    const stored = await allRecords(target);
    expect(stored.map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-1"]);
    expect(stored.find((r) => r.reference === "RAP-1")?.id).toBe(created.id);
  });

  test("a lost PUT is recognised even after 101 other saves landed before the re-read", async () => {
    const target = await newTarget(strategy);
    const others = await newEngine(target);
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      for (let i = 0; i < 101; i++) await others.service.create(sampleInput(`other-${i}`));
      throw lostResponse();
    });
    // 101 saves take a while on a loaded machine (or under `npm run mutate`):
    // room for them, so that the answer is about the lost PUT, not the clock.
    const { service } = await newEngine(target, {
      s3: faulty.client,
      retry: { budgetMs: 120_000 },
    });

    const created = await service.create(sampleInput("mine"));

    const stored = await allRecords(target);
    expect(stored).toHaveLength(102);
    expect(stored.find((r) => r.reference === "RAP-mine")?.id).toBe(created.id);
  });

  test("commit ids are kept by age: older than the retention, they are gone from the object", async () => {
    const target = await newTarget(strategy);
    let now = Date.parse("2026-03-01T08:00:00.000Z");
    const { service } = await newEngine(target, { now: () => now });
    for (let i = 0; i < 5; i++) await service.create(sampleInput(i));
    now += COMMIT_RETENTION_MS + 1;
    await service.create(sampleInput("later"));

    const SQL = await loadSqlJs();
    const db = codecFor(strategy).decode(await getBytes(target), SQL, rapatriementsSchema);
    expect(db.exec("SELECT COUNT(*) FROM storage_commits")[0]?.values[0]?.[0]).toBe(1);
    db.close();
  });

  test("a read of a bucket that does not exist yet finds nothing and creates nothing", async () => {
    const target = { ...(await newTarget(strategy)), bucket: `missing-${Date.now()}-${strategy}` };
    const { service, s3 } = await newEngine(target);
    const requests = recordRequests(s3);

    expect((await service.list({})).items).toEqual([]);
    expect(requests.map((r) => r.command)).toEqual(["GetObject"]);
  });
});

async function withNewerSchema(strategy: StorageStrategy, bytes: Uint8Array): Promise<Uint8Array> {
  const newer = currentVersion(rapatriementsSchema) + 1;
  if (strategy === "json") {
    const document = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    return new TextEncoder().encode(JSON.stringify({ ...document, schemaVersion: newer }));
  }
  const SQL = await loadSqlJs();
  const db = new SQL.Database(bytes);
  db.run(`PRAGMA user_version = ${newer}`);
  const out = db.export();
  db.close();
  return out;
}

test("the object written under one engine's cache is what a plain GET returns", async () => {
  const target = await newTarget("sqlite");
  const { service } = await newEngine(target);
  await service.create(sampleInput(1));
  const object = await localS3Client().send(
    new GetObjectCommand({ Bucket: target.bucket, Key: target.key }),
  );
  const SQL = await loadSqlJs();
  const db = new SQL.Database(await object.Body?.transformToByteArray());
  // An operator opening the file with sqlite3 sees the record.
  expect(db.exec("SELECT reference FROM rapatriements")[0]?.values).toEqual([["RAP-1"]]);
  db.close();
});

describe.each(STRATEGIES)("schema migrations with STORAGE_STRATEGY=%s", (strategy) => {
  test("a file from an older schema is read, and written back at the current version", async () => {
    const target = await newTarget(strategy);
    const SQL = await loadSqlJs();
    const old = createDatabase(SQL, rapatriementsSchema, 1);
    old.run(
      `INSERT INTO rapatriements (id, reference, origin, destination, status, created_at, updated_at, version)
       VALUES ('old-1', 'RAP-OLD', 'LYON-01', 'PARIS-02', 'draft', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', 1)`,
    );
    old.run(
      "INSERT INTO rapatriement_lines (rapatriement_id, position, sku, quantity) VALUES ('old-1', 0, 'A', 1)",
    );
    const etag = await putBytes(target, codecFor(strategy).encode(old, rapatriementsSchema));
    old.close();
    const { service } = await newEngine(target);

    expect((await service.get("old-1")).reference).toBe("RAP-OLD");
    expect(await etagOf(target)).toBe(etag); // a read migrates in memory only

    await service.create(sampleInput(1));
    const saved = codecFor(strategy).decode(await getBytes(target), SQL, rapatriementsSchema);
    expect(readPragma(saved, "user_version")).toBe(currentVersion(rapatriementsSchema));
    expect(saved.exec("SELECT COUNT(*) FROM rapatriements")[0]?.values[0]?.[0]).toBe(2);
    saved.close();
  });
});

describe("answers S3 gives that the protocol must read right", () => {
  /** Creates RAP-1 through `faulty` with quick retries; returns it and the S3 calls it took. */
  async function createThrough(
    target: Target,
    faulty: ReturnType<typeof faultyClient>,
    overrides: Partial<DatabaseObjectDeps> = {},
  ) {
    const { service } = await newEngine(target, {
      s3: faulty.client,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      ...overrides,
    });
    const report = emptyReport();
    const created = await service.create(sampleInput(1), {}, { report });
    return { created, calls: callsOf(report) };
  }

  test("a lost PUT that lands only after the first re-read is recognised, not answered 409 DUPLICATE_REFERENCE", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    let held: PutObjectCommandInput | undefined;
    onNextPut(faulty, async (input) => {
      // Held up on the way: the answer is lost now, the write lands later.
      held = input;
      throw lostResponse();
    });
    const { created, calls } = await createThrough(target, faulty, {
      // The engine pauses before it looks again: that is when the held PUT lands.
      sleep: async () => {
        const input = held;
        held = undefined;
        if (input !== undefined) await faulty.real.send(new PutObjectCommand(input));
      },
    });

    expect(calls).toEqual([
      "GetObject 200",
      "PutObject undefined",
      "GetObject 200", // the first re-read: not landed yet
      "HeadObject 200", // it has landed meanwhile: the object changed
      "HeadObject 304",
      "GetObject 200", // the late re-read finds this write's commit id
    ]);
    const stored = await allRecords(target);
    expect(stored.map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-1"]);
    expect(stored.find((r) => r.reference === "RAP-1")).toEqual(created);
  });

  test("a PUT whose If-Match names an object deleted meanwhile (404) reloads and writes again", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      // Someone deletes the object just before this PUT reaches S3.
      await faulty.real.send(new DeleteObjectCommand({ Bucket: input.Bucket, Key: input.Key }));
      return faulty.real.send(new PutObjectCommand(input));
    });
    const { created, calls } = await createThrough(target, faulty);

    expect(calls).toEqual([
      "GetObject 200",
      "PutObject 404",
      "GetObject 404", // gone: this write now starts the object anew
      "HeadObject 404",
      "GetObject 404",
      "PutObject 200",
    ]);
    expect(await allRecords(target)).toEqual([created]);
  });

  test("a PUT refused with 403 is STORAGE_ACCESS_DENIED with the guide's advice; nothing is stored or kept", async () => {
    const target = await newTarget("sqlite");
    const faulty = faultyClient();
    let refuse = false;
    faulty.mock.on(PutObjectCommand).callsFake((input) => {
      if (!refuse) return faulty.real.send(new PutObjectCommand(input));
      refuse = false;
      return Promise.reject(s3Error("AccessDenied", 403, "Access Denied"));
    });
    const { service } = await newEngine(target, { s3: faulty.client });
    await service.create(sampleInput(0));
    const etag = await etagOf(target);
    refuse = true;

    await expect(service.create(sampleInput(1))).rejects.toMatchObject({
      status: 500,
      code: "STORAGE_ACCESS_DENIED",
      message: `AccessDenied: accès refusé pour écrire s3://${target.bucket}/${target.key} (région eu-west-1) : vérifiez que l'utilisateur ou le rôle AWS a s3:GetObject, s3:PutObject, s3:DeleteObject et s3:ListBucket sur arn:aws:s3:::${target.bucket} et arn:aws:s3:::${target.bucket}/*`,
    });

    expect(await etagOf(target)).toBe(etag);
    // The warm engine does not serve the refused change from its memory.
    expect((await service.listAll()).map((r) => r.reference)).toEqual(["RAP-0"]);
    // Once S3 accepts again, the same request goes through, once.
    await service.create(sampleInput(1));
    expect((await allRecords(target)).map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-1"]);
  });
});

describe("rounds: what joins one load and one PUT, and how fresh a read's copy must be", () => {
  test("a batch's S3 calls are reported once, with its first write", async () => {
    const target = await newTarget("sqlite");
    const { service, store } = await newEngine(target);
    await service.create(sampleInput(0));
    const report = emptyReport();

    await store.writeBatch(
      [1, 2, 3].map((n) => service.prepareCreate(sampleInput(n))),
      { report },
    );
    expect(report.s3Calls.map((call) => call.command)).toEqual(["GetObject", "PutObject"]);
    expect(report.roundSize).toBe(3);
  });

  test("writes that arrive while a round is saving wait for it, then share the next one", async () => {
    const target = await newTarget("sqlite");
    const { service, s3 } = await newEngine(target);
    await service.create(sampleInput(0));
    const requests = recordRequests(s3);

    const first = service.create(sampleInput(1));
    // The first round is under way (its GET sent); these two arrive during it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const later = [service.create(sampleInput(2)), service.create(sampleInput(3))];
    await Promise.all([first, ...later]);

    // Two rounds, one after the other: no PUT lost a race to this engine's own.
    expect(requests.filter((r) => r.command === "PutObject")).toEqual([
      { command: "PutObject", status: 200 },
      { command: "PutObject", status: 200 },
    ]);
    expect((await allRecords(target)).map((r) => r.reference).sort()).toEqual([
      "RAP-0",
      "RAP-1",
      "RAP-2",
      "RAP-3",
    ]);
  });

  test("a copy fetched ahead answers the reads that arrived after it was asked for, not those before", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    // Written after the copy was fetched.
    await (await newEngine(target)).service.create(sampleInput(2));

    // A read older than the copy takes it as it is: no request.
    const lenient = await newEngine(target, { prefetch });
    const lenientRequests = recordRequests(lenient.s3);
    expect(await lenient.store.read(recordCount, { notBefore: prefetch.startedAt - 1 })).toBe(1);
    expect(lenientRequests).toEqual([]);

    // A read that arrived later needs a copy at least as recent: it asks S3
    // again, and so does a lenient read that shares its round.
    const strict = await newEngine(target, { prefetch });
    const strictRequests = recordRequests(strict.s3);
    const answers = await Promise.all([
      strict.store.read(recordCount, { notBefore: prefetch.startedAt - 1 }),
      strict.store.read(recordCount, { notBefore: Date.now() }),
    ]);
    expect(answers).toEqual([2, 2]);
    expect(strictRequests.map((r) => r.command)).toEqual(["GetObject"]);
  });

  test("forgetting the copy of an engine that holds none is harmless; the next read downloads", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const { store, s3 } = await newEngine(target);
    const requests = recordRequests(s3);

    expect(() => store.invalidate()).not.toThrow();
    expect(await store.read(recordCount)).toBe(1);
    store.invalidate();
    expect(await store.read(recordCount)).toBe(1);
    expect(requests).toEqual([
      { command: "GetObject", status: 200 },
      { command: "GetObject", status: 200 },
    ]);
  });

  test("a copy fetched ahead that failed is forgotten: the first read downloads the object itself", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    faulty.mock.on(GetObjectCommand).rejects(s3Error("InternalError", 500));
    const prefetch = prefetchObject(faulty.client, target);
    const { store } = await newEngine(target, { prefetch });
    const report = emptyReport();

    expect(await store.read(recordCount, { report })).toBe(1);
    expect(callsOf(report)).toEqual(["GetObject 500", "GetObject 200"]);
    expect(report.cache).toBe("miss");
  });

  test("a copy fetched ahead serves a read that arrived the same millisecond it was asked for, and is reported a download", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const prefetch = prefetchObject(localS3Client(), target);
    const { store, s3 } = await newEngine(target, { prefetch });
    const requests = recordRequests(s3);
    const report = emptyReport();

    expect(await store.read(recordCount, { notBefore: prefetch.startedAt, report })).toBe(1);
    expect(requests).toEqual([]);
    expect(report.cache).toBe("miss");
  });

  test("a copy fetched ahead serves a round of writes and reads all sent before it was asked for", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    const { service, store, s3 } = await newEngine(target, { prefetch });
    const requests = recordRequests(s3);

    const sent = { notBefore: prefetch.startedAt - 1 };
    const [before] = await Promise.all([
      store.read(recordCount, sent),
      store.write(service.prepareCreate(sampleInput(1)), sent),
    ]);

    expect(before).toBe(1);
    expect(requests).toEqual([{ command: "PutObject", status: 200 }]);
  });

  test("a write sent after a copy was fetched ahead is answered from the object as it is, not from that copy", async () => {
    const target = await newTarget("sqlite");
    const writer = (await newEngine(target)).service;
    const first = await writer.create(sampleInput(1, { comment: "a" }));
    const gone = await writer.create(sampleInput("GONE"));
    // Containers initialised now (Lambda's init phase, ahead of traffic)…
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    // …then another container writes before their first request arrives.
    await writer.update(first.id, { comment: "b" });
    const created = await writer.create(sampleInput(3));
    await writer.delete(gone.id);
    const container = async () => {
      const engine = await newEngine(target, { prefetch });
      return { ...engine, requests: recordRequests(engine.s3) };
    };
    const sent = () => ({ notBefore: Date.now() });

    // The record created since is there to change (the copy would say 404).
    const a = await container();
    expect(await a.service.update(created.id, { status: "requested" }, {}, sent())).toMatchObject({
      version: 2,
      status: "requested",
    });
    // The deleted reference is free again (the copy would say 409).
    const b = await container();
    expect(await b.service.create(sampleInput("GONE"), {}, sent())).toMatchObject({ version: 1 });
    // Setting the comment back to the copy's "a" is a change (the copy would
    // see none, save nothing and answer version 1).
    const c = await container();
    expect(await c.service.update(first.id, { comment: "a" }, {}, sent())).toMatchObject({
      version: 3,
      comment: "a",
    });
    // The version the caller has just read is the current one (the copy would say 412).
    const d = await container();
    expect(
      await d.service.update(first.id, { comment: "d" }, { expectedVersion: 3 }, sent()),
    ).toMatchObject({ version: 4, comment: "d" });

    // Each confirmed its copy with S3 before answering, then saved.
    for (const { requests } of [a, b, c, d]) {
      expect(requests.map((r) => `${r.command} ${r.status}`)).toEqual([
        "GetObject 200",
        "PutObject 200",
      ]);
    }
    expect(await writer.get(first.id)).toMatchObject({ version: 4, comment: "d" });
  });

  test("an operation that says nothing of when it was sent is never answered from a copy fetched ahead", async () => {
    const target = await newTarget("sqlite");
    const writer = (await newEngine(target)).service;
    const record = await writer.create(sampleInput(1));
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    await writer.update(record.id, { status: "requested" });

    const { service, s3 } = await newEngine(target, { prefetch });
    const requests = recordRequests(s3);
    await expect(
      service.update(record.id, { status: "in_transit" }, { expectedVersion: 2 }),
    ).resolves.toMatchObject({ version: 3 });
    expect(requests.map((r) => r.command)).toEqual(["GetObject", "PutObject"]);
  });
});

describe("one engine: its copy, its reads, its failures", () => {
  /** sql.js whose databases are counted: those built, and those still open. */
  function countedSql(SQL: SqlJsStatic) {
    const open = new Set<Database>();
    let built = 0;
    class Counted extends SQL.Database {
      constructor(...args: ConstructorParameters<SqlJsStatic["Database"]>) {
        super(...args);
        built++;
        open.add(this);
      }
      override close(): void {
        open.delete(this);
        super.close();
      }
    }
    return { sql: { ...SQL, Database: Counted } as SqlJsStatic, open, built: () => built };
  }

  test("a read keeps nothing its function changed: not in the copy, not in the object", async () => {
    const target = await newTarget("sqlite");
    const { service, store, s3 } = await newEngine(target);
    await service.create(sampleInput(0));
    const etag = await etagOf(target);
    const requests = recordRequests(s3);

    const seen = await store.read((db) => {
      db.run("DELETE FROM rapatriements");
      return recordCount(db);
    });

    expect(seen).toBe(0); // the function saw its own change…
    expect(await store.read(recordCount)).toBe(1); // …which no later read sees
    expect(requests.map((r) => r.command)).toEqual(["GetObject", "GetObject"]);
    expect(await etagOf(target)).toBe(etag);
  });

  test("a write that fails after changing the data leaves none of it; the rest of its round is saved", async () => {
    const target = await newTarget("sqlite");
    const { service, store } = await newEngine(target);
    await service.create(sampleInput(0));

    const [failed, saved] = await store.writeBatch([
      (db) => {
        service.prepareCreate(sampleInput(1))(db);
        throw new Error("refused after writing");
      },
      service.prepareCreate(sampleInput(2)),
    ]);

    expect(failed).toMatchObject({
      status: "rejected",
      reason: { message: "refused after writing" },
    });
    expect(saved).toMatchObject({ status: "fulfilled" });
    expect((await allRecords(target)).map((r) => r.reference).sort()).toEqual(["RAP-0", "RAP-2"]);
  });

  test("a read that shares a round with a failed write is answered, and reports only its own calls", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const { service, store } = await newEngine(target, { s3: faulty.client });
    const readReport = emptyReport();
    const writeReport = emptyReport();

    const [read, write] = await Promise.allSettled([
      store.read(recordCount, { report: readReport }),
      service.create(sampleInput(1), {}, { report: writeReport }),
    ]);

    expect(read).toEqual({ status: "fulfilled", value: 1 });
    expect(write).toMatchObject({ status: "rejected", reason: { code: "STORAGE_ACCESS_DENIED" } });
    expect(callsOf(readReport)).toEqual(["GetObject 200"]);
    expect(callsOf(writeReport)).toEqual(["GetObject 200", "PutObject 403"]);
  });

  test("a first read refused with 403 is the access error, saying it was reading", async () => {
    const target = await newTarget("sqlite");
    const faulty = faultyClient();
    faulty.mock.on(GetObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const { store } = await newEngine(target, { s3: faulty.client });

    await expect(store.read(recordCount)).rejects.toMatchObject({
      code: "STORAGE_ACCESS_DENIED",
      message: expect.stringContaining(
        `accès refusé pour lire s3://${target.bucket}/${target.key}`,
      ) as unknown,
    });
  });

  test("an S3 refusal that no retry can mend is passed on as it is, not called busy", async () => {
    const target = await newTarget("sqlite");
    const faulty = faultyClient();
    const refusal = s3Error("InvalidArgument", 400, "Invalid Argument");
    faulty.mock.on(GetObjectCommand).rejects(refusal);
    const { store } = await newEngine(target, { s3: faulty.client });

    await expect(store.read(recordCount)).rejects.toBe(refusal);
  });

  test("an object still absent is answered from the same empty copy: no database built again", async () => {
    const target = await newTarget("sqlite");
    const counted = countedSql(await loadSqlJs());
    const { store } = await newEngine(target, { sql: counted.sql });

    expect(await store.read(recordCount)).toBe(0);
    expect(await store.read(recordCount)).toBe(0);
    expect(counted.built()).toBe(1);
  });

  test("an engine holds one copy at a time: each copy it replaces is closed", async () => {
    const target = await newTarget("sqlite");
    const other = await newEngine(target);
    const counted = countedSql(await loadSqlJs());
    const { store } = await newEngine(target, { sql: counted.sql });

    for (let n = 1; n <= 3; n++) {
      await other.service.create(sampleInput(n));
      expect(await store.read(recordCount)).toBe(n);
    }

    expect(counted.built()).toBeGreaterThanOrEqual(3);
    expect(counted.open.size).toBe(1);
  });

  test("an object deleted after the engine read it is gone for the engine too", async () => {
    const target = await newTarget("sqlite");
    const { service, store } = await newEngine(target);
    await service.create(sampleInput(1));
    expect(await store.read(recordCount)).toBe(1);

    await localS3Client().send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }));

    expect(await store.read(recordCount)).toBe(0);
    await service.create(sampleInput(2));
    expect((await allRecords(target)).map((r) => r.reference)).toEqual(["RAP-2"]);
  });

  test("a bucket created by someone else after a read found none is not created again by the next write", async () => {
    const target = {
      ...(await newTarget("sqlite")),
      bucket: `later-${Date.now()}`,
    };
    const { service, s3 } = await newEngine(target);
    expect(await service.listAll()).toEqual([]);
    await createBucket(localS3Client(), target.bucket);
    const requests = recordRequests(s3);

    await service.create(sampleInput(1));

    expect(requests.map((r) => r.command)).toEqual(["GetObject", "PutObject"]);
  });

  test("after a lost race the engine, on its own clock, really pauses before it looks again", async () => {
    const target = await newTarget("sqlite");
    const other = await newEngine(target);
    await other.service.create(sampleInput(0));
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await other.service.create(sampleInput("winner"));
      return faulty.real.send(new PutObjectCommand(input));
    });
    const { service } = await newEngine(target, {
      s3: faulty.client,
      random: () => 1,
      retry: { baseDelayMs: 300, maxDelayMs: 300 },
    });
    const started = Date.now();

    await service.create(sampleInput(1));

    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  test("a finished operation leaves no timer behind for the process to wait on", async () => {
    const target = await newTarget("sqlite");
    const { store, service } = await newEngine(target);
    // The timers set to cut S3 calls at a deadline ten minutes away, and which are still set.
    const made: unknown[] = [];
    const pending = new Set<unknown>();
    const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
    globalThis.setTimeout = ((fn: () => void, ms?: number) => {
      const timer = realSet(fn, ms);
      if ((ms ?? 0) > 60_000) {
        made.push(timer);
        pending.add(timer);
      }
      return timer;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
      pending.delete(timer);
      realClear(timer);
    }) as typeof clearTimeout;
    try {
      const deadline = Date.now() + 600_000;
      await store.read(recordCount, { deadline });
      await service.create(sampleInput(1), {}, { deadline });
    } finally {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    }

    expect(made).toHaveLength(3); // GET, GET, PUT
    expect(pending.size).toBe(0);
  });
});
