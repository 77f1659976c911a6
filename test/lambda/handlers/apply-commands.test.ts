/**
 * The commands handler against the local S3 server: an SQS batch is one
 * transaction (one PUT), failures are reported alone (handed back to SQS only
 * when a redelivery could change them), redelivery changes nothing, a reused
 * key is refused, concurrent batches both land, direct invocations answer
 * each command.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { describe, expect, test } from "vitest";
import { ValueError } from "../../../lambda/errors.ts";
import {
  type CommandOutcome,
  createCommandsHandler,
} from "../../../lambda/handlers/apply-commands.ts";
import type { HandlerDeps, LogLine } from "../../../lambda/handlers/dependencies.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../../lambda/handlers/routes.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import { faultyClient, s3Error } from "../../support/faults.ts";
import {
  etagOf,
  newEngine,
  newTarget,
  recordRequests,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";
import { sqsEvent } from "../../support/sqs-events.ts";

async function commandsHandler(target: Target, overrides: Partial<DatabaseObjectDeps> = {}) {
  const engine = await newEngine(target, overrides);
  const log: LogLine[] = [];
  const deps: HandlerDeps = {
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: (line) => log.push(line),
  };
  const handler = createCommandsHandler(deps) as (
    event: unknown,
    context: Context,
  ) => Promise<unknown>;
  return { handler, log, engine, requests: recordRequests(engine.s3) };
}

function create(n: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ action: "create", data: sampleInput(n), ...extra });
}

/** Ten commands: eight valid creates, one with bad data, one that is not a command. */
function batchOfTen(prefix: string) {
  const bodies = Array.from({ length: 8 }, (_, i) => ({
    id: `${prefix}-m${i}`,
    body: create(`${prefix}-${i}`),
  }));
  bodies.splice(3, 0, {
    id: `${prefix}-bad-data`,
    body: JSON.stringify({ action: "create", data: { reference: "no lines" } }),
  });
  bodies.push({ id: `${prefix}-not-json`, body: "{ this is not json" });
  return sqsEvent(bodies);
}

async function references(engine: Awaited<ReturnType<typeof newEngine>>): Promise<string[]> {
  return (await engine.service.listAll()).map((r) => r.reference).sort();
}

describe("commands from SQS", () => {
  test("a batch of 10 with 2 invalid commits the 8 others in exactly one PUT and logs the 2 refused ids", async () => {
    const target = await newTarget("sqlite");
    const { handler, log, engine, requests } = await commandsHandler(target);

    const response = await handler(batchOfTen("b1"), lambdaContext("sqs-1"));

    // Invalid stays invalid: SQS is not asked to deliver them again.
    expect(response).toEqual({ batchItemFailures: [] });
    expect(requests.filter((r) => r.command === "PutObject")).toHaveLength(1);
    expect(await references(engine)).toEqual(
      Array.from({ length: 8 }, (_, i) => `RAP-b1-${i}`).sort(),
    );
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      level: "error",
      source: "sqs",
      commands: 10,
      succeeded: 8,
      failed: [
        { id: "b1-bad-data", code: "VALIDATION_FAILED", retry: false },
        { id: "b1-not-json", code: "VALIDATION_FAILED", retry: false },
      ],
    });
    // Not delivered again, a refused command is only in this line: it says why.
    const [badData, notJson] = (log[0] as { failed: Record<string, unknown>[] }).failed;
    expect(badData).toMatchObject({
      message: "The request is invalid.",
      errors: expect.arrayContaining([{ path: "lines", message: "is required" }]),
    });
    expect(notJson).toEqual({
      id: "b1-not-json",
      code: "VALIDATION_FAILED",
      retry: false,
      message: "The request is invalid.",
      errors: [
        {
          path: "body",
          message: expect.stringMatching(/^the message is not JSON \(.*position 2.*\)$/),
        },
      ],
    });
  });

  test("the same batch delivered twice changes nothing the second time", async () => {
    const target = await newTarget("sqlite");
    const first = await commandsHandler(target);
    await first.handler(batchOfTen("b2"), lambdaContext("sqs-1"));
    const etag = await etagOf(target);

    // Redelivered to another container, as SQS may.
    const second = await commandsHandler(target);
    const response = await second.handler(batchOfTen("b2"), lambdaContext("sqs-2"));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(second.log[0]).toMatchObject({
      succeeded: 8,
      failed: [{ id: "b2-bad-data" }, { id: "b2-not-json" }],
    });
    expect(second.requests.filter((r) => r.command === "PutObject")).toEqual([]);
    expect(await etagOf(target)).toBe(etag);
    expect(await references(second.engine)).toHaveLength(8);
  });

  test("two batches applied at once by two independent handlers both land in full", async () => {
    const target = await newTarget("sqlite");
    const a = await commandsHandler(target);
    const b = await commandsHandler(target);

    const [ra, rb] = await Promise.all([
      a.handler(batchOfTen("x"), lambdaContext("a")),
      b.handler(batchOfTen("y"), lambdaContext("b")),
    ]);

    expect(ra).toEqual({ batchItemFailures: [] });
    expect(rb).toEqual({ batchItemFailures: [] });
    expect([a.log[0]?.succeeded, b.log[0]?.succeeded]).toEqual([8, 8]);
    expect(await references(a.engine)).toEqual(
      [
        ...Array.from({ length: 8 }, (_, i) => `RAP-x-${i}`),
        ...Array.from({ length: 8 }, (_, i) => `RAP-y-${i}`),
      ].sort(),
    );
  });

  test("updates and deletes in a batch; a redelivered update is not re-applied after later changes", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("u"));
    const moveOn = sqsEvent([
      {
        id: "u1",
        body: JSON.stringify({
          action: "update",
          id: record.id,
          data: { status: "requested" },
          expectedVersion: 1,
        }),
      },
    ]);
    expect(await handler(moveOn, lambdaContext("1"))).toEqual({ batchItemFailures: [] });
    await engine.service.update(record.id, { status: "in_transit" });

    // The same message again: its first result stands; nothing is refused or changed.
    expect(await handler(moveOn, lambdaContext("2"))).toEqual({ batchItemFailures: [] });
    expect((await engine.service.get(record.id)).status).toBe("in_transit");

    const remove = sqsEvent([
      { id: "d1", body: JSON.stringify({ action: "delete", id: record.id, expectedVersion: 2 }) },
      { id: "d2", body: JSON.stringify({ action: "delete", id: record.id, expectedVersion: 3 }) },
    ]);
    // d1's version is stale (412): refused for good, so not handed back to SQS.
    expect(await handler(remove, lambdaContext("3"))).toEqual({ batchItemFailures: [] });
    expect(await references(engine)).toEqual([]);
  });

  test("what a redelivery could change goes back to SQS: a record not found yet, a storage that was busy", async () => {
    const target = await newTarget("sqlite");
    const early = sqsEvent([
      { id: "before-create", body: JSON.stringify({ action: "delete", id: "not-yet" }) },
      { id: "fine", body: create("fine") },
    ]);
    const { handler } = await commandsHandler(target);
    expect(await handler(early, lambdaContext("1"))).toEqual({
      batchItemFailures: [{ itemIdentifier: "before-create" }],
    });

    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const busy = await commandsHandler(target, {
      s3: faulty.client,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const response = await busy.handler(batchOfTen("busy"), lambdaContext("2"));

    // Nothing of the batch was saved: every readable command must be delivered again.
    expect(response).toEqual({
      batchItemFailures: Array.from({ length: 8 }, (_, i) => ({ itemIdentifier: `busy-m${i}` })),
    });
    expect(busy.log[0]).toMatchObject({ level: "error", succeeded: 0 });
  });

  test("a message from the EventBridge rule is applied once, however many times it is delivered", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const envelope = JSON.stringify({
      version: "0",
      id: "evt-42",
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      account: "000000000000",
      time: "2026-03-01T08:00:00Z",
      region: "eu-west-1",
      resources: [],
      detail: { action: "create", data: sampleInput("eb") },
    });
    // EventBridge may deliver the same event twice: two messages, one event id.
    await handler(sqsEvent([{ id: "m1", body: envelope }]), lambdaContext("1"));
    await handler(sqsEvent([{ id: "m2", body: envelope }]), lambdaContext("2"));

    expect(await references(engine)).toEqual(["RAP-eb"]);
  });
});

describe("receipt keys", () => {
  test("an update then a delete under one idempotencyKey: the delete is refused 422, not answered ok", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("k"));

    const [update, remove] = (await handler(
      [
        {
          action: "update",
          id: record.id,
          data: { status: "requested" },
          idempotencyKey: "erp-4711",
        },
        { action: "delete", id: record.id, idempotencyKey: "erp-4711" },
      ],
      lambdaContext("direct"),
    )) as CommandOutcome[];

    expect(update).toMatchObject({ ok: true, action: "update", version: 2 });
    expect(remove).toEqual({
      ok: false,
      error: {
        status: 422,
        code: "IDEMPOTENCY_KEY_REUSED",
        message: expect.stringMatching(/different request/),
      },
    });
    expect((await engine.service.get(record.id)).version).toBe(2);
  });

  test("from SQS, the reused key is logged as refused and not handed back for redelivery", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine, log } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("k"));
    const update = {
      action: "update",
      id: record.id,
      data: { status: "requested" },
      idempotencyKey: "erp-4711",
    };
    await handler(sqsEvent([{ id: "m1", body: JSON.stringify(update) }]), lambdaContext("1"));

    const response = await handler(
      sqsEvent([
        { id: "m1-again", body: JSON.stringify(update) },
        {
          id: "m2",
          body: JSON.stringify({ action: "delete", id: record.id, idempotencyKey: "erp-4711" }),
        },
      ]),
      lambdaContext("2"),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(log[1]).toMatchObject({
      level: "error",
      succeeded: 1,
      failed: [{ id: "m2", code: "IDEMPOTENCY_KEY_REUSED", retry: false }],
    });
    expect((await engine.service.get(record.id)).version).toBe(2);
  });

  test("a client's key never collides with an event id or a message id", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const envelope = (id: string, detail: unknown) =>
      JSON.stringify({ id, source: COMMAND_SOURCE, "detail-type": COMMAND_DETAIL_TYPE, detail });

    await handler(
      sqsEvent([
        {
          id: "m-1",
          body: JSON.stringify({
            action: "create",
            data: sampleInput("by-key"),
            idempotencyKey: "event:evt-9",
          }),
        },
        { id: "m-2", body: envelope("evt-9", { action: "create", data: sampleInput("by-event") }) },
        {
          id: "m-3",
          body: JSON.stringify({
            action: "create",
            data: sampleInput("by-key-2"),
            idempotencyKey: "sqs-message:m-4",
          }),
        },
        { id: "m-4", body: JSON.stringify({ action: "create", data: sampleInput("by-message") }) },
      ]),
      lambdaContext("1"),
    );

    expect(await references(engine)).toEqual(
      ["RAP-by-event", "RAP-by-key", "RAP-by-key-2", "RAP-by-message"].sort(),
    );
  });

  test("an update delivered twice by EventBridge is applied once", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("eb"));
    const event = {
      id: "evt-77",
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "update", id: record.id, data: { comment: "once" } },
    };

    const first = await handler(event, lambdaContext("1"));
    await engine.service.update(record.id, { comment: "changed since" });
    const second = await handler(event, lambdaContext("2"));

    expect(first).toMatchObject({ ok: true, version: 2 });
    expect(second).toMatchObject({ ok: true, version: 2, replayed: true, record: { version: 3 } });
    expect(await engine.service.get(record.id)).toMatchObject({
      comment: "changed since",
      version: 3,
    });
  });

  test("after an import that replaces the data, a redelivered command is applied to the new data", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const message = sqsEvent([{ id: "m-imp", body: create("imp") }]);
    await handler(message, lambdaContext("1"));

    await engine.service.import([sampleInput("other")], { replace: true });
    await handler(message, lambdaContext("2"));

    expect(await references(engine)).toEqual(["RAP-imp", "RAP-other"]);
  });
});

describe("commands from EventBridge directly and from direct invocations", () => {
  test("an EventBridge event carries one command in detail", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const result = (await handler(
      {
        version: "0",
        id: "evt-1",
        source: COMMAND_SOURCE,
        "detail-type": COMMAND_DETAIL_TYPE,
        detail: { action: "create", data: sampleInput("direct-eb") },
      },
      lambdaContext("eb"),
    )) as CommandOutcome;
    expect(result).toMatchObject({
      ok: true,
      action: "create",
      record: { reference: "RAP-direct-eb" },
    });
    expect(await references(engine)).toEqual(["RAP-direct-eb"]);
  });

  test("a direct invocation with an array returns one result per command, in order", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine, requests } = await commandsHandler(target);
    const existing = await engine.service.create(sampleInput("old"));
    const seen = requests.length;

    const results = (await handler(
      [
        { action: "create", data: sampleInput("n1"), idempotencyKey: "k-1" },
        { action: "update", id: existing.id, data: { comment: "urgent" } },
        { action: "create", data: sampleInput("old") },
        { action: "archive", id: existing.id },
        { action: "delete", id: "no-such-id" },
      ],
      lambdaContext("direct"),
    )) as CommandOutcome[];

    expect(results).toHaveLength(5);
    expect(results[0]).toMatchObject({
      ok: true,
      action: "create",
      record: { reference: "RAP-n1" },
    });
    expect(results[1]).toMatchObject({
      ok: true,
      action: "update",
      record: { comment: "urgent", version: 2 },
    });
    expect(results[2]).toMatchObject({
      ok: false,
      error: { status: 409, code: "DUPLICATE_REFERENCE" },
    });
    expect(results[3]).toMatchObject({
      ok: false,
      error: { status: 400, code: "VALIDATION_FAILED" },
    });
    expect(results[4]).toMatchObject({ ok: false, error: { status: 404, code: "NOT_FOUND" } });
    expect(requests.slice(seen).filter((r) => r.command === "PutObject")).toHaveLength(1);
  });

  test("a bad command is answered with each field at fault, by name; a good one with exactly what it did", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const existing = await engine.service.create(sampleInput("named"));
    const refused = (detail: string, errors: unknown) => ({
      ok: false,
      error: { status: 400, code: "VALIDATION_FAILED", message: detail, errors },
    });

    const results = (await handler(
      [
        { action: "update", id: existing.id },
        { action: "create", data: sampleInput("extra"), priority: "high" },
        { action: "delete", id: existing.id, expectedVersion: "1" },
        { action: "update", id: existing.id, data: { comment: "checked" } },
        { action: "delete", id: existing.id, expectedVersion: 2 },
      ],
      lambdaContext("named"),
    )) as CommandOutcome[];

    expect(results[0]).toEqual(
      refused("The command is invalid.", [{ path: "data", message: "is required" }]),
    );
    expect(results[1]).toEqual(
      refused("The command is invalid.", [{ path: "priority", message: "unknown field" }]),
    );
    expect(results[2]).toMatchObject(
      refused("The command is invalid.", [{ path: "expectedVersion" }]),
    );
    // A first application carries no `replayed`; a delete carries no record.
    expect(Object.keys(results[3] ?? {}).sort()).toEqual([
      "action",
      "id",
      "ok",
      "record",
      "version",
    ]);
    expect(results[4]).toStrictEqual({ ok: true, action: "delete", id: existing.id, version: 2 });
    expect(await references(engine)).toEqual([]);
  });

  test("two EventBridge events are two receipts, and a queue message with the same id as an event is a third", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const event = (id: string, n: string) => ({
      version: "0",
      id,
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "create", data: sampleInput(n) },
    });

    expect(await handler(event("evt-a", "eb-a"), lambdaContext("a"))).toMatchObject({ ok: true });
    expect(await handler(event("evt-b", "eb-b"), lambdaContext("b"))).toMatchObject({ ok: true });
    expect(
      await handler(sqsEvent([{ id: "evt-a", body: create("sqs-a") }]), lambdaContext("c")),
    ).toEqual({ batchItemFailures: [] });

    expect((await references(engine)).sort()).toEqual(["RAP-eb-a", "RAP-eb-b", "RAP-sqs-a"]);
  });

  test("an update that clears a field with null, delivered twice under its key, is applied once", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const existing = await engine.service.create({ ...sampleInput("cleared"), comment: "fragile" });
    const command = {
      action: "update",
      id: existing.id,
      data: { comment: null },
      idempotencyKey: "clear-comment-1",
    };

    const first = (await handler(command, lambdaContext("clear-1"))) as CommandOutcome;
    const again = (await handler(command, lambdaContext("clear-2"))) as CommandOutcome;

    expect(first).toMatchObject({ ok: true, version: 2 });
    expect(again).toMatchObject({ ok: true, version: 2, replayed: true });
    const stored = await engine.service.get(existing.id);
    expect(stored.version).toBe(2);
    expect(stored.comment).toBeUndefined();
  });

  test("a single direct command returns its single result", async () => {
    const target = await newTarget("sqlite");
    const { handler } = await commandsHandler(target);
    const result = await handler(
      { action: "create", data: sampleInput("one") },
      lambdaContext("one"),
    );
    expect(result).toMatchObject({ ok: true, action: "create", record: { version: 1 } });
  });
});

describe("when nothing can be saved", () => {
  test("S3 refusing the batch's PUT (403): every readable command goes back to SQS, nothing is stored", async () => {
    const target = await newTarget("sqlite");
    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("AccessDenied", 403));
    const { handler, log } = await commandsHandler(target, { s3: faulty.client });

    const response = await handler(batchOfTen("denied"), lambdaContext("sqs-403"));

    // Deleted from the queue, they would be lost: S3 stored none of them.
    expect(response).toEqual({
      batchItemFailures: Array.from({ length: 8 }, (_, i) => ({
        itemIdentifier: `denied-m${i}`,
      })),
    });
    expect(log).toHaveLength(1);
    const denied = (i: number) => ({
      id: `denied-m${i}`,
      code: "STORAGE_ACCESS_DENIED",
      retry: true,
    });
    expect(log[0]).toMatchObject({
      level: "error",
      commands: 10,
      succeeded: 0,
      failed: [
        denied(0),
        denied(1),
        denied(2),
        { id: "denied-bad-data", code: "VALIDATION_FAILED", retry: false },
        ...[3, 4, 5, 6, 7].map(denied),
        { id: "denied-not-json", code: "VALIDATION_FAILED", retry: false },
      ],
    });
    // Handed back to SQS, a command will be delivered again: its id and code are enough.
    expect((log[0] as { failed: unknown[] }).failed[0]).toEqual(denied(0));
    expect(await references(await newEngine(target))).toEqual([]);
  });

  test("dependencies that cannot be built (configuration): every message goes back to SQS, and the log says why", async () => {
    const log: LogLine[] = [];
    const handler = createCommandsHandler({
      dependencies: () => Promise.reject(new ValueError("AWS_REGION est obligatoire")),
      log: (line) => log.push(line),
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const event = sqsEvent([
      { id: "c1", body: create("c1") },
      { id: "c2", body: "{ not json" },
    ]);

    const response = await handler(event, lambdaContext("config"));

    // Even the unreadable one: nothing was looked at, so SQS keeps them all.
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: "c1" }, { itemIdentifier: "c2" }],
    });
    expect(log).toEqual([
      expect.objectContaining({
        level: "error",
        source: "sqs",
        commands: 2,
        succeeded: 0,
        code: "CONFIGURATION_INVALID",
        failed: [
          { id: "c1", code: "CONFIGURATION_INVALID", retry: true },
          { id: "c2", code: "CONFIGURATION_INVALID", retry: true },
        ],
      }),
    ]);
    expect(JSON.stringify(log[0])).toContain("AWS_REGION est obligatoire");
  });

  test("from EventBridge directly, the failure is thrown so that Lambda retries the event", async () => {
    const failure = new ValueError("AWS_REGION est obligatoire");
    const handler = createCommandsHandler({
      dependencies: () => Promise.reject(failure),
      log: () => {},
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const event = {
      id: "evt-cfg",
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "create", data: sampleInput("cfg") },
    };

    await expect(handler(event, lambdaContext("eb-config"))).rejects.toBe(failure);
  });

  test("a direct invocation is answered one failure per command, with no internal detail", async () => {
    const handler = createCommandsHandler({
      dependencies: () => Promise.reject(new ValueError("AWS_REGION est obligatoire")),
      log: () => {},
    }) as (event: unknown, context: Context) => Promise<unknown>;

    const results = await handler(
      [
        { action: "create", data: sampleInput("d1") },
        { action: "delete", id: "x" },
      ],
      lambdaContext("direct-config"),
    );

    const failed = {
      ok: false,
      error: {
        status: 500,
        code: "CONFIGURATION_INVALID",
        message: "An internal error occurred; see the function's log.",
      },
    };
    expect(results).toEqual([failed, failed]);
  });
});

describe("an update carried by the EventBridge rule through SQS", () => {
  test("delivered twice in two messages, it is applied once; the second delivery is answered, not refused", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine, log } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("twice"));
    const envelope = JSON.stringify({
      version: "0",
      id: "evt-upd-1",
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "update", id: record.id, data: { comment: "once" } },
    });

    expect(await handler(sqsEvent([{ id: "m1", body: envelope }]), lambdaContext("1"))).toEqual({
      batchItemFailures: [],
    });
    await engine.service.update(record.id, { comment: "changed since" });
    const second = await handler(sqsEvent([{ id: "m2", body: envelope }]), lambdaContext("2"));

    expect(second).toEqual({ batchItemFailures: [] });
    expect(log[1]).toMatchObject({ level: "info", succeeded: 1, failed: [] });
    expect(await engine.service.get(record.id)).toMatchObject({
      comment: "changed since",
      version: 3,
    });
  });
});

describe("what the handler tells apart", () => {
  test("the log line: info when all went well, warn when only redeliverable failures, with the round's size and time", async () => {
    const target = await newTarget("sqlite");
    const { handler, log } = await commandsHandler(target);
    const started = performance.now();
    await handler(
      sqsEvent([
        { id: "a", body: create("a") },
        { id: "b", body: create("b") },
      ]),
      lambdaContext("ok"),
    );
    const took = performance.now() - started;
    await handler(
      sqsEvent([
        { id: "later", body: JSON.stringify({ action: "delete", id: "not-created-yet" }) },
        { id: "c", body: create("c") },
      ]),
      lambdaContext("warn"),
    );

    expect(log[0]).toMatchObject({
      level: "info",
      route: "commands",
      source: "sqs",
      commands: 2,
      succeeded: 2,
      failed: [],
      roundSize: 2,
    });
    expect(log[0]).not.toHaveProperty("error");
    expect(log[0]?.durationMs).toBeGreaterThanOrEqual(0);
    expect(log[0]?.durationMs).toBeLessThanOrEqual(took);
    // Not found may pass once the create arrives: a warning, not an error.
    expect(log[1]).toMatchObject({
      level: "warn",
      succeeded: 1,
      failed: [{ id: "later", code: "NOT_FOUND", retry: true }],
    });
  });

  test("from EventBridge directly: a failure that may pass is thrown for Lambda to retry; a refusal is returned", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    const event = (id: string, detail: unknown) => ({
      id,
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail,
    });

    await expect(
      handler(event("e-404", { action: "delete", id: "not-yet" }), lambdaContext("1")),
    ).rejects.toThrow(`No rapatriement has id "not-yet".`);
    const refused = await handler(
      event("e-400", { action: "archive", id: "x" }),
      lambdaContext("2"),
    );

    expect(refused).toMatchObject({ ok: false, error: { status: 400, code: "VALIDATION_FAILED" } });
    expect(await references(engine)).toEqual([]);
  });

  test("a direct command carrying an id is a command, not an EventBridge event", async () => {
    const target = await newTarget("sqlite");
    const { handler, log } = await commandsHandler(target);

    expect(
      await handler({ action: "delete", id: "no-such-id" }, lambdaContext("direct")),
    ).toMatchObject({ ok: false, error: { status: 404, code: "NOT_FOUND" } });
    expect(log[0]).toMatchObject({ source: "direct", commands: 1, succeeded: 0 });
  });

  test("events that are neither SQS batches nor commands are refused as commands, not taken for a batch", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    // An S3 notification sent here by mistake has Records too.
    const s3Notification = { Records: [{ eventSource: "aws:s3", s3: { object: { key: "x" } } }] };
    const mixed = {
      Records: [
        ...sqsEvent([{ id: "m", body: create("mixed") }]).Records,
        { eventSource: "aws:s3" },
      ],
    };

    // Half an EventBridge envelope is not one: its detail is not applied.
    const detail = { action: "create", data: sampleInput("half") };
    const noType = { id: "evt-half", detail };
    const noId = { "detail-type": COMMAND_DETAIL_TYPE, detail };

    for (const event of [s3Notification, mixed, null, noType, noId]) {
      expect(await handler(event, lambdaContext("odd")), JSON.stringify(event)).toMatchObject({
        ok: false,
        error: { status: 400, code: "VALIDATION_FAILED" },
      });
    }
    expect(await references(engine)).toEqual([]);
  });

  test("a refused command's answer lists its bad fields; an answer for a rule has no field list", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    await engine.service.create(sampleInput("dup"));

    const [invalid, duplicate] = (await handler(
      [
        { action: "create", data: { reference: "RAP-x" } },
        { action: "create", data: sampleInput("dup") },
      ],
      lambdaContext("direct"),
    )) as CommandOutcome[];

    expect(invalid).toMatchObject({
      ok: false,
      error: {
        status: 400,
        code: "VALIDATION_FAILED",
        errors: expect.arrayContaining([expect.objectContaining({ path: "origin" })]),
      },
    });
    expect(duplicate).toEqual({
      ok: false,
      error: { status: 409, code: "DUPLICATE_REFERENCE", message: expect.any(String) },
    });
  });
});

describe("who sent a command: createdBy and updatedBy from its carrier, never from the command", () => {
  const envelope = (id: string, detail: unknown) => ({
    version: "0",
    id,
    source: COMMAND_SOURCE,
    "detail-type": COMMAND_DETAIL_TYPE,
    account: "123456789012",
    time: "2026-03-01T08:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail,
  });

  test("through the EventBridge rule and the queue: the event's source, not EventBridge's SenderId", async () => {
    const { handler, engine, log } = await commandsHandler(await newTarget("sqlite"));
    await handler(
      sqsEvent([
        {
          id: "m1",
          body: JSON.stringify(
            envelope("evt-who-1", { action: "create", data: sampleInput("w1") }),
          ),
          senderId: "AIDAIE6VAXUQU2DKHA7DK",
        },
      ]),
      lambdaContext("who-1"),
    );
    const [record] = await engine.service.listAll();
    expect(record).toMatchObject({
      createdBy: `eventbridge:${COMMAND_SOURCE}`,
      updatedBy: `eventbridge:${COMMAND_SOURCE}`,
    });
    expect(log[0]).toMatchObject({ callers: [`eventbridge:${COMMAND_SOURCE}`] });
  });

  test("a message sent to the queue directly: its SenderId, as SQS sets it", async () => {
    const { handler, engine, log } = await commandsHandler(await newTarget("sqlite"));
    const record = await engine.service.create(sampleInput("w2"), { actor: "someone" });
    await handler(
      sqsEvent([
        {
          id: "m2",
          body: JSON.stringify({ action: "update", id: record.id, data: { status: "requested" } }),
          senderId: "AROAEXAMPLEROLE0000:erp-sync",
        },
      ]),
      lambdaContext("who-2"),
    );
    expect(await engine.service.get(record.id)).toMatchObject({
      status: "requested",
      createdBy: "someone",
      updatedBy: "sqs:AROAEXAMPLEROLE0000:erp-sync",
    });
    expect(log[0]).toMatchObject({ callers: ["sqs:AROAEXAMPLEROLE0000:erp-sync"] });
  });

  test("a message whose SenderId is empty or absent (SQS always sets one) records null, not a guess", async () => {
    const { handler, engine, log } = await commandsHandler(await newTarget("sqlite"));
    const event = sqsEvent([
      { id: "m-empty", body: create("anon-1"), senderId: "" },
      { id: "m-absent", body: create("anon-2") },
    ]);
    Reflect.deleteProperty(event.Records[1]?.attributes ?? {}, "SenderId");
    await handler(event, lambdaContext("who-anon"));

    expect(
      (await engine.service.listAll()).map((r) => [r.reference, r.createdBy, r.updatedBy]).sort(),
    ).toEqual([
      ["RAP-anon-1", null, null],
      ["RAP-anon-2", null, null],
    ]);
    expect(log[0]).toMatchObject({ callers: [null] });
  });

  test("an EventBridge event sent to the function, and a direct invocation", async () => {
    const { handler, engine } = await commandsHandler(await newTarget("sqlite"));
    await handler(
      envelope("evt-who-3", { action: "create", data: sampleInput("w3") }),
      lambdaContext("who-3"),
    );
    const [result] = (await handler(
      [{ action: "create", data: sampleInput("w4") }],
      lambdaContext("who-4"),
    )) as CommandOutcome[];
    expect(result).toMatchObject({
      ok: true,
      record: { createdBy: "lambda:direct-invocation", updatedBy: "lambda:direct-invocation" },
    });
    expect((await engine.service.listAll()).map((r) => [r.reference, r.createdBy])).toEqual([
      ["RAP-w3", `eventbridge:${COMMAND_SOURCE}`],
      ["RAP-w4", "lambda:direct-invocation"],
    ]);
  });

  test("a command whose data sets createdBy is refused, naming the field; nothing is stored", async () => {
    const { handler, engine } = await commandsHandler(await newTarget("sqlite"));
    const [result] = (await handler(
      [{ action: "create", data: { ...sampleInput("w5"), createdBy: "the-boss" } }],
      lambdaContext("who-5"),
    )) as CommandOutcome[];
    expect(result).toMatchObject({
      ok: false,
      error: {
        status: 400,
        code: "VALIDATION_FAILED",
        errors: [
          {
            path: "createdBy",
            message: "is read-only: the server takes it from the caller's authenticated identity",
          },
        ],
      },
    });
    expect(await engine.service.listAll()).toEqual([]);
  });
});
