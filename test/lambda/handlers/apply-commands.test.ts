/**
 * The commands handler against the local server (S3, and SQS for the
 * queue): an SQS batch is one transaction (one PUT), failures are reported
 * alone (handed back to SQS when a later delivery could change them,
 * dead-lettered with their reason when none can), redelivery changes
 * nothing, a reused key is refused, concurrent batches both land, direct
 * invocations answer each command.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Message } from "@aws-sdk/client-sqs";
import { ChangeMessageVisibilityBatchCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent } from "aws-lambda";
import { describe, expect, test } from "vitest";
import type { Config } from "../../../lambda/config.ts";
import { ValueError } from "../../../lambda/errors.ts";
import { createCommandsHandler } from "../../../lambda/handlers/apply-commands.ts";
import type { CommandOutcome } from "../../../lambda/handlers/command-answers.ts";
import { sqsCommandsQueue } from "../../../lambda/handlers/commands-queue.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../../lambda/handlers/routes.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { prefetchObject } from "../../../lambda/storage/object-fetch.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import {
  commandsQueues,
  deadLetters,
  drain,
  sqsEvent as eventOf,
  forgedRecord,
  receive,
  sendMessages,
  settle,
  type TestQueues,
} from "../../support/commands-queue.ts";
import { faultyClient, s3Error } from "../../support/faults.ts";
import {
  etagOf,
  localS3Client,
  newEngine,
  newTarget,
  recordRequests,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

async function commandsHandler(
  target: Target,
  overrides: Partial<DatabaseObjectDeps> = {},
  given?: TestQueues,
) {
  const engine = await newEngine(target, overrides);
  const queues = given ?? (await commandsQueues());
  const log: LogLine[] = [];
  const handler = createCommandsHandler({
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: (line) => log.push(line),
    commandsQueue: queues.queue,
  }) as (event: unknown, context: Context) => Promise<unknown>;
  const sqsEvent = (bodies: readonly Body[]) => delivered(queues, bodies);
  return { handler, log, engine, queues, sqsEvent, requests: recordRequests(engine.s3) };
}

interface Body {
  /** How the test names the message; SQS gives it its id. */
  id: string;
  body: string;
}

/**
 * `bodies` sent to the queue and received as one batch, as the event source
 * mapping hands them to the function; `ids` maps each test name to the
 * message id SQS gave it, and `name` back.
 */
async function delivered(queues: TestQueues, bodies: readonly Body[]) {
  const sent = await sendMessages(
    queues,
    bodies.map((b) => b.body),
  );
  const messages = await receive(queues, bodies.length);
  expect(messages).toHaveLength(bodies.length);
  const ids = new Map(bodies.map((b, i) => [b.id, sent[i] ?? ""]));
  const names = new Map([...ids].map(([name, id]) => [id, name]));
  const inSentOrder = [...messages].sort(
    (a, b) => sent.indexOf(a.MessageId ?? "") - sent.indexOf(b.MessageId ?? ""),
  );
  return {
    event: eventOf(queues.arn, inSentOrder),
    messages: inSentOrder,
    id: (name: string) => ids.get(name) ?? name,
    name: (id: string) => names.get(id) ?? id,
  };
}

/** The same messages delivered again (their visibility lapsed), as SQS may, to any container. */
async function redelivered(queues: TestQueues, messages: readonly Message[]): Promise<SQSEvent> {
  await queues.sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queues.url,
      Entries: messages.map((m, i) => ({
        Id: String(i),
        ReceiptHandle: m.ReceiptHandle ?? "",
        VisibilityTimeout: 0,
      })),
    }),
  );
  const again = await receive(queues, messages.length);
  expect(again.map((m) => m.MessageId).sort()).toEqual(messages.map((m) => m.MessageId).sort());
  return eventOf(queues.arn, again);
}

/** A failed command as the log line lists it. */
interface Failed {
  id: string;
  code: string;
  retry: boolean;
  deadLettered?: true;
}

/** A dead-lettered message's attributes, as strings. */
function attributesOf(message: Message | undefined): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(message?.MessageAttributes ?? {}).map(([name, value]) => [
      name,
      value.StringValue,
    ]),
  );
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
  return bodies;
}

async function references(engine: Awaited<ReturnType<typeof newEngine>>): Promise<string[]> {
  return (await engine.service.listAll()).map((r) => r.reference).sort();
}

describe("commands from SQS", () => {
  test("a batch of 10 with 2 invalid commits the 8 others in exactly one PUT and logs the 2 refused ids", async () => {
    const target = await newTarget("sqlite");
    const { handler, log, engine, requests, sqsEvent, queues } = await commandsHandler(target);
    const { event, id } = await sqsEvent(batchOfTen("b1"));

    const response = await handler(event, lambdaContext("sqs-1"));

    // Invalid stays invalid: SQS is not asked to deliver them again; the
    // dead-letter queue keeps them, with their reason.
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
        { id: id("b1-bad-data"), code: "VALIDATION_FAILED", retry: false, deadLettered: true },
        { id: id("b1-not-json"), code: "VALIDATION_FAILED", retry: false, deadLettered: true },
      ],
    });
    // The line says why, too.
    const [badData, notJson] = (log[0] as { failed: Record<string, unknown>[] }).failed;
    expect(badData).toMatchObject({
      message: "The request is invalid.",
      errors: expect.arrayContaining([{ path: "lines", message: "is required" }]),
    });
    expect(notJson).toEqual({
      id: id("b1-not-json"),
      code: "VALIDATION_FAILED",
      retry: false,
      deadLettered: true,
      message: "The request is invalid.",
      errors: [
        {
          path: "body",
          message: expect.stringMatching(/^the message is not JSON \(.*position 2.*\)$/),
        },
      ],
    });
    const kept = await deadLetters(queues);
    expect(kept.map((m) => m.Body).sort()).toEqual(
      [
        JSON.stringify({ action: "create", data: { reference: "no lines" } }),
        "{ this is not json",
      ].sort(),
    );
  });

  test("the same batch delivered twice changes nothing the second time", async () => {
    const target = await newTarget("sqlite");
    const first = await commandsHandler(target);
    const { event, messages, id } = await first.sqsEvent(batchOfTen("b2"));
    await first.handler(event, lambdaContext("sqs-1"));
    const etag = await etagOf(target);

    // Redelivered (its answer was lost), as SQS may.
    const again = await redelivered(first.queues, messages);
    const response = await first.handler(again, lambdaContext("sqs-2"));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(first.log[1]).toMatchObject({
      succeeded: 8,
      failed: [{ id: id("b2-bad-data") }, { id: id("b2-not-json") }],
    });
    expect(first.requests.filter((r) => r.command === "PutObject")).toHaveLength(1);
    expect(await etagOf(target)).toBe(etag);
    expect(await references(first.engine)).toHaveLength(8);
  });

  test("two batches applied at once by two independent handlers both land in full", async () => {
    const target = await newTarget("sqlite");
    const a = await commandsHandler(target);
    const b = await commandsHandler(target);

    const [x, y] = [await a.sqsEvent(batchOfTen("x")), await b.sqsEvent(batchOfTen("y"))];
    const [ra, rb] = await Promise.all([
      a.handler(x.event, lambdaContext("a")),
      b.handler(y.event, lambdaContext("b")),
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
    const { handler, engine, queues, sqsEvent } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("u"));
    const moveOn = await sqsEvent([
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
    expect(await handler(moveOn.event, lambdaContext("1"))).toEqual({ batchItemFailures: [] });
    await engine.service.update(record.id, { status: "in_transit" });

    // The same message again: its first result stands; nothing is refused or changed.
    const again = await redelivered(queues, moveOn.messages);
    expect(await handler(again, lambdaContext("2"))).toEqual({ batchItemFailures: [] });
    expect((await engine.service.get(record.id)).status).toBe("in_transit");

    const remove = await sqsEvent([
      { id: "d1", body: JSON.stringify({ action: "delete", id: record.id, expectedVersion: 2 }) },
      { id: "d2", body: JSON.stringify({ action: "delete", id: record.id, expectedVersion: 3 }) },
    ]);
    // d1's version is one the record has passed (412): it can never pass, so
    // it is not handed back to SQS but kept in the dead-letter queue.
    expect(await handler(remove.event, lambdaContext("3"))).toEqual({ batchItemFailures: [] });
    expect(await references(engine)).toEqual([]);
    const [kept, ...more] = await deadLetters(queues);
    expect(more).toEqual([]);
    expect(kept?.Body).toBe(remove.event.Records[0]?.body);
    expect(attributesOf(kept)).toMatchObject({
      "rapatriements-code": "VERSION_MISMATCH",
      "rapatriements-status": "412",
      "rapatriements-reason": "The rapatriement is at version 3, not 2; reload it and retry.",
      "rapatriements-message-id": remove.id("d1"),
      "rapatriements-receive-count": "1",
    });
  });

  test("what a redelivery could change goes back to SQS: a record not found yet, a storage that was busy", async () => {
    const target = await newTarget("sqlite");
    const { handler, sqsEvent } = await commandsHandler(target);
    const early = await sqsEvent([
      { id: "before-create", body: JSON.stringify({ action: "delete", id: "not-yet" }) },
      { id: "fine", body: create("fine") },
    ]);
    expect(await handler(early.event, lambdaContext("1"))).toEqual({
      batchItemFailures: [{ itemIdentifier: early.id("before-create") }],
    });

    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const busy = await commandsHandler(target, {
      s3: faulty.client,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const batch = await busy.sqsEvent(batchOfTen("busy"));
    const response = await busy.handler(batch.event, lambdaContext("2"));

    // Nothing of the batch was saved: every readable command must be delivered again.
    expect(response).toEqual({
      batchItemFailures: Array.from({ length: 8 }, (_, i) => ({
        itemIdentifier: batch.id(`busy-m${i}`),
      })),
    });
    expect(busy.log[0]).toMatchObject({ level: "error", succeeded: 0 });
  });

  test("a message from the EventBridge rule is applied once, however many times it is delivered", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine, sqsEvent } = await commandsHandler(target);
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
    await handler((await sqsEvent([{ id: "m1", body: envelope }])).event, lambdaContext("1"));
    await handler((await sqsEvent([{ id: "m2", body: envelope }])).event, lambdaContext("2"));

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
    const { handler, engine, log, sqsEvent } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("k"));
    const update = {
      action: "update",
      id: record.id,
      data: { status: "requested" },
      idempotencyKey: "erp-4711",
    };
    await handler(
      (await sqsEvent([{ id: "m1", body: JSON.stringify(update) }])).event,
      lambdaContext("1"),
    );

    const second = await sqsEvent([
      { id: "m1-again", body: JSON.stringify(update) },
      {
        id: "m2",
        body: JSON.stringify({ action: "delete", id: record.id, idempotencyKey: "erp-4711" }),
      },
    ]);
    const response = await handler(second.event, lambdaContext("2"));

    expect(response).toEqual({ batchItemFailures: [] });
    expect(log[1]).toMatchObject({
      level: "error",
      succeeded: 1,
      failed: [
        { id: second.id("m2"), code: "IDEMPOTENCY_KEY_REUSED", retry: false, deadLettered: true },
      ],
    });
    expect((await engine.service.get(record.id)).version).toBe(2);
  });

  test("a client's key never collides with an event id or a message id", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine, sqsEvent, queues } = await commandsHandler(target);
    const envelope = (id: string, detail: unknown) =>
      JSON.stringify({ id, source: COMMAND_SOURCE, "detail-type": COMMAND_DETAIL_TYPE, detail });
    // The message id the fourth message will get is not known before it is
    // sent: take one SQS gave an earlier message, then send a key naming it.
    const [earlier = ""] = await sendMessages(queues, [create("earlier")]);
    await handler(eventOf(queues.arn, await receive(queues, 1)), lambdaContext("0"));

    await handler(
      (
        await sqsEvent([
          {
            id: "m-1",
            body: JSON.stringify({
              action: "create",
              data: sampleInput("by-key"),
              idempotencyKey: "event:evt-9",
            }),
          },
          {
            id: "m-2",
            body: envelope("evt-9", { action: "create", data: sampleInput("by-event") }),
          },
          {
            id: "m-3",
            body: JSON.stringify({
              action: "create",
              data: sampleInput("by-key-2"),
              idempotencyKey: `sqs-message:${earlier}`,
            }),
          },
          {
            id: "m-4",
            body: JSON.stringify({ action: "create", data: sampleInput("by-message") }),
          },
        ])
      ).event,
      lambdaContext("1"),
    );

    expect(await references(engine)).toEqual(
      ["RAP-by-event", "RAP-by-key", "RAP-by-key-2", "RAP-by-message", "RAP-earlier"].sort(),
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
    const { handler, engine, sqsEvent, queues } = await commandsHandler(target);
    const message = await sqsEvent([{ id: "m-imp", body: create("imp") }]);
    await handler(message.event, lambdaContext("1"));

    await engine.service.import([sampleInput("other")], { replace: true });
    await handler(await redelivered(queues, message.messages), lambdaContext("2"));

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
    const { handler, engine, sqsEvent } = await commandsHandler(target);
    const message = await sqsEvent([{ id: "m", body: create("sqs-a") }]);
    const event = (id: string, n: string) => ({
      version: "0",
      id,
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "create", data: sampleInput(n) },
    });

    // The first event's id is the message's: still two receipts.
    const sameId = message.id("m");
    expect(await handler(event(sameId, "eb-a"), lambdaContext("a"))).toMatchObject({ ok: true });
    expect(await handler(event("evt-b", "eb-b"), lambdaContext("b"))).toMatchObject({ ok: true });
    expect(await handler(message.event, lambdaContext("c"))).toEqual({ batchItemFailures: [] });

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
    const { handler, log, sqsEvent } = await commandsHandler(target, { s3: faulty.client });
    const { event, id } = await sqsEvent(batchOfTen("denied"));

    const response = await handler(event, lambdaContext("sqs-403"));

    // Deleted from the queue, they would be lost: S3 stored none of them.
    expect(response).toEqual({
      batchItemFailures: Array.from({ length: 8 }, (_, i) => ({
        itemIdentifier: id(`denied-m${i}`),
      })),
    });
    expect(log).toHaveLength(1);
    const denied = (i: number) => ({
      id: id(`denied-m${i}`),
      code: "STORAGE_ACCESS_DENIED",
      retry: true,
      message: expect.stringMatching(/^An internal error/) as unknown,
    });
    expect(log[0]).toMatchObject({
      level: "error",
      commands: 10,
      succeeded: 0,
      failed: [
        denied(0),
        denied(1),
        denied(2),
        { id: id("denied-bad-data"), code: "VALIDATION_FAILED", retry: false },
        ...[3, 4, 5, 6, 7].map(denied),
        { id: id("denied-not-json"), code: "VALIDATION_FAILED", retry: false },
      ],
    });
    expect((log[0] as { failed: unknown[] }).failed[0]).toEqual(denied(0));
    expect(await references(await newEngine(target))).toEqual([]);
  });

  test("dependencies that cannot be built (configuration): every message goes back to SQS, and the log says why", async () => {
    const log: LogLine[] = [];
    const queues = await commandsQueues();
    const handler = createCommandsHandler({
      dependencies: () => Promise.reject(new ValueError("AWS_REGION est obligatoire")),
      log: (line) => log.push(line),
      commandsQueue: queues.queue,
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const { event, id } = await delivered(queues, [
      { id: "c1", body: create("c1") },
      { id: "c2", body: "{ not json" },
    ]);

    const response = await handler(event, lambdaContext("config"));

    // The readable one goes back to SQS: nothing could be applied. The
    // unreadable one will never be: the dead-letter queue keeps it.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: id("c1") }] });
    const internal = expect.stringMatching(/^An internal error/) as unknown;
    expect(log).toEqual([
      expect.objectContaining({
        level: "error",
        source: "sqs",
        commands: 2,
        succeeded: 0,
        code: "CONFIGURATION_INVALID",
        failed: [
          { id: id("c1"), code: "CONFIGURATION_INVALID", retry: true, message: internal },
          expect.objectContaining({
            id: id("c2"),
            code: "VALIDATION_FAILED",
            retry: false,
            deadLettered: true,
          }),
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
    const { handler, engine, log, sqsEvent } = await commandsHandler(target);
    const record = await engine.service.create(sampleInput("twice"));
    const envelope = JSON.stringify({
      version: "0",
      id: "evt-upd-1",
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "update", id: record.id, data: { comment: "once" } },
    });

    expect(
      await handler((await sqsEvent([{ id: "m1", body: envelope }])).event, lambdaContext("1")),
    ).toEqual({ batchItemFailures: [] });
    await engine.service.update(record.id, { comment: "changed since" });
    const second = await handler(
      (await sqsEvent([{ id: "m2", body: envelope }])).event,
      lambdaContext("2"),
    );

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
    const { handler, log, sqsEvent } = await commandsHandler(target);
    const first = await sqsEvent([
      { id: "a", body: create("a") },
      { id: "b", body: create("b") },
    ]);
    const started = performance.now();
    await handler(first.event, lambdaContext("ok"));
    const took = performance.now() - started;
    const second = await sqsEvent([
      { id: "later", body: JSON.stringify({ action: "delete", id: "not-created-yet" }) },
      { id: "c", body: create("c") },
    ]);
    await handler(second.event, lambdaContext("warn"));

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
    // The line keeps the handler's time to a tenth of a millisecond, rounded:
    // compare it with the call's time to the tenth above, not the exact figure.
    expect(log[0]?.durationMs).toBeLessThanOrEqual(Math.ceil(took * 10) / 10);
    // Not found may pass once the create arrives: a warning, not an error.
    expect(log[1]).toMatchObject({
      level: "warn",
      succeeded: 1,
      failed: [{ id: second.id("later"), code: "NOT_FOUND", retry: true }],
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
        forgedRecord("m", create("mixed"), "arn:aws:sqs:eu-west-1:000000000000:commands"),
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

describe("who sent a command: what AWS vouches for, never the command or the event's shape", () => {
  const envelope = (id: string, detail: unknown, source = COMMAND_SOURCE) => ({
    version: "0",
    id,
    source,
    "detail-type": COMMAND_DETAIL_TYPE,
    account: "123456789012",
    time: "2026-03-01T08:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail,
  });

  test("through the EventBridge rule and the queue (only the rule may send to it): the event's source", async () => {
    const { handler, engine, log, sqsEvent } = await commandsHandler(await newTarget("sqlite"));
    const { event } = await sqsEvent([
      {
        id: "m1",
        body: JSON.stringify(envelope("evt-who-1", { action: "create", data: sampleInput("w1") })),
      },
    ]);
    await handler(event, lambdaContext("who-1"));
    const [record] = await engine.service.listAll();
    expect(record).toMatchObject({
      createdBy: `eventbridge:${COMMAND_SOURCE}`,
      updatedBy: `eventbridge:${COMMAND_SOURCE}`,
    });
    expect(log[0]).toMatchObject({ callers: [`eventbridge:${COMMAND_SOURCE}`] });
  });

  test("a message whose body is a command: its SenderId, as SQS sets it", async () => {
    const { handler, engine, log, sqsEvent } = await commandsHandler(await newTarget("sqlite"));
    const record = await engine.service.create(sampleInput("w2"), { actor: "someone" });
    const { event } = await sqsEvent([
      {
        id: "m2",
        body: JSON.stringify({ action: "update", id: record.id, data: { status: "requested" } }),
      },
    ]);
    const senderId = event.Records[0]?.attributes.SenderId;
    expect(senderId).toMatch(/^\w+/);
    await handler(event, lambdaContext("who-2"));
    expect(await engine.service.get(record.id)).toMatchObject({
      status: "requested",
      createdBy: "someone",
      updatedBy: `sqs:${senderId}`,
    });
    expect(log[0]).toMatchObject({ callers: [`sqs:${senderId}`] });
  });

  test("a message whose SenderId is empty or absent (SQS always sets one) records null, not a guess", async () => {
    const { handler, engine, log, sqsEvent } = await commandsHandler(await newTarget("sqlite"));
    const { event } = await sqsEvent([
      { id: "m-empty", body: create("anon-1") },
      { id: "m-absent", body: create("anon-2") },
    ]);
    const [empty, absent] = event.Records;
    if (empty === undefined || absent === undefined) throw new Error("no records");
    empty.attributes.SenderId = "";
    Reflect.deleteProperty(absent.attributes, "SenderId");
    await handler(event, lambdaContext("who-anon"));

    expect(
      (await engine.service.listAll()).map((r) => [r.reference, r.createdBy, r.updatedBy]).sort(),
    ).toEqual([
      ["RAP-anon-1", null, null],
      ["RAP-anon-2", null, null],
    ]);
    expect(log[0]).toMatchObject({ callers: [null] });
  });

  test("an SQS batch invoked directly, claiming EventBridge or any SenderId, is not applied: SQS confirms none of it", async () => {
    const { handler, engine, log, queues, sqsEvent } = await commandsHandler(
      await newTarget("sqlite"),
    );
    const real = await sqsEvent([{ id: "real", body: create("real") }]);
    const forged = {
      Records: [
        forgedRecord(
          "f-1",
          JSON.stringify(
            envelope("evt-forged", { action: "create", data: sampleInput("f1") }, "sap.finance"),
          ),
          queues.arn,
          "AROAINTRUDER:mallory",
        ),
        forgedRecord("f-2", create("f2"), queues.arn, "AROAINTRUDER:mallory"),
        // Copied from a real delivery but with another body: its handle is not the forger's to reuse.
        forgedRecord("f-3", create("f3"), "arn:aws:sqs:eu-west-1:999999999999:elsewhere"),
        ...real.event.Records,
      ],
    };

    const response = await handler(forged, lambdaContext("forged"));

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: "f-1" },
        { itemIdentifier: "f-2" },
        { itemIdentifier: "f-3" },
      ],
    });
    // The real message in the same event is applied, under SQS's SenderId.
    const stored = await engine.service.listAll();
    expect(stored.map((r) => r.reference)).toEqual(["RAP-real"]);
    expect(stored[0]?.createdBy).toBe(`sqs:${real.event.Records[0]?.attributes.SenderId}`);
    expect(JSON.stringify(log)).not.toContain("sap.finance");
    expect(JSON.stringify(log)).not.toContain("mallory");
    expect(log[0]).toMatchObject({
      level: "warn",
      failed: ["f-1", "f-2", "f-3"].map((id) => ({
        id,
        code: "MESSAGE_NOT_CONFIRMED",
        retry: true,
      })),
    });
    // Nothing forged is copied to the dead-letter queue either.
    expect(await deadLetters(queues)).toEqual([]);
  });

  test("a function given no commands queue applies no SQS-shaped event, and says why", async () => {
    const target = await newTarget("sqlite");
    const engine = await newEngine(target);
    const log: LogLine[] = [];
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: engine.service, store: engine.store }),
      log: (line) => log.push(line),
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const event = {
      Records: [forgedRecord("x", create("x"), "arn:aws:sqs:eu-west-1:000000000000:commands")],
    };

    expect(await handler(event, lambdaContext("no-queue"))).toEqual({
      batchItemFailures: [{ itemIdentifier: "x" }],
    });
    expect(await engine.service.listAll()).toEqual([]);
    expect(log[0]).toMatchObject({
      failed: [
        {
          id: "x",
          code: "MESSAGE_NOT_CONFIRMED",
          message: expect.stringContaining("COMMANDS_QUEUE_URL") as unknown,
        },
      ],
    });
  });

  test("an EventBridge-shaped event and a command invoked directly are both lambda:direct-invocation", async () => {
    const { handler, engine } = await commandsHandler(await newTarget("sqlite"));
    await handler(
      envelope("evt-who-3", { action: "create", data: sampleInput("w3") }, "sap.finance"),
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
      ["RAP-w3", "lambda:direct-invocation"],
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

describe("a standard queue: any delivery order, redeliveries, and the dead-letter queue", () => {
  /** Two records and the producer's four commands, in the order it sent them. */
  async function scenario(target: Target) {
    const engine = await newEngine(target);
    const x = await engine.service.create(sampleInput("X"));
    const y = await engine.service.create(sampleInput("Y"));
    const update = (id: string, data: unknown, expectedVersion?: number) =>
      JSON.stringify({ action: "update", id, data, expectedVersion });
    return {
      engine,
      x,
      y,
      sent: [
        { id: "x1", body: update(x.id, { status: "requested" }, 1) },
        { id: "x2", body: update(x.id, { status: "in_transit", comment: "camion 12" }, 2) },
        { id: "y1", body: update(y.id, { status: "requested" }) },
        { id: "y2", body: update(y.id, { status: "in_transit" }) },
      ],
    };
  }

  async function converged(
    engine: Awaited<ReturnType<typeof newEngine>>,
    xId: string,
    yId: string,
  ) {
    expect(await engine.service.get(xId)).toMatchObject({
      status: "in_transit",
      comment: "camion 12",
      version: 3,
    });
    expect(await engine.service.get(yId)).toMatchObject({ status: "in_transit", version: 3 });
  }

  test("one batch delivered backwards is applied in the order its messages were sent", async () => {
    const target = await newTarget("sqlite");
    const { engine, x, y, sent } = await scenario(target);
    const { handler, queues, log } = await commandsHandler(target);
    // Sent one by one, a millisecond apart, as a producer does.
    for (const message of sent) {
      await sendMessages(queues, [message.body]);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    const received = await receive(queues, 4);

    const response = await handler(
      eventOf(queues.arn, [...received].reverse()),
      lambdaContext("r"),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(log[0]).toMatchObject({ succeeded: 4, failed: [] });
    await converged(engine, x.id, y.id);
  });

  test("delivered backwards across batches, what a later delivery can change is handed back, and applied when it comes back", async () => {
    const target = await newTarget("sqlite");
    const { engine, x, y, sent } = await scenario(target);
    const { handler, queues, log } = await commandsHandler(target);
    const ids = await sendMessages(
      queues,
      sent.map((m) => m.body),
    );
    const byName = new Map(sent.map((m, i) => [m.id, ids[i]]));
    const received = await receive(queues, 4);
    const pick = (...names: string[]) =>
      names.map((name) => {
        const found = received.find((m) => m.MessageId === byName.get(name));
        if (found === undefined) throw new Error(`${name} not received`);
        return found;
      });

    // The second command of each pair arrives first, alone in its batch.
    const early = pick("x2", "y2");
    const first = (await handler(eventOf(queues.arn, early), lambdaContext("1"))) as {
      batchItemFailures: { itemIdentifier: string }[];
    };
    expect(first.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [byName.get("x2"), byName.get("y2")].sort(),
    );
    expect(log[0]).toMatchObject({
      level: "warn",
      failed: [
        { id: byName.get("x2"), code: "VERSION_MISMATCH", retry: true },
        { id: byName.get("y2"), code: "FORBIDDEN_TRANSITION", retry: true },
      ],
    });
    await settle(queues, early, first);
    const late = pick("x1", "y1");
    const second = (await handler(eventOf(queues.arn, late), lambdaContext("2"))) as {
      batchItemFailures: unknown[];
    };
    expect(second).toEqual({ batchItemFailures: [] });
    await settle(queues, late, { batchItemFailures: [] });

    // SQS delivers the handed-back ones again: now they pass.
    const deliveries = await drain(queues, handler);
    expect(deliveries.map((d) => d.response)).toEqual([{ batchItemFailures: [] }]);
    expect(deliveries[0]?.event.Records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual([
      "2",
      "2",
    ]);
    await converged(engine, x.id, y.id);
    expect(await deadLetters(queues)).toEqual([]);
  });

  test("any order of the four, in batches of any size, converges to the same records", async () => {
    const orders = [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ];
    for (const order of orders) {
      for (const batchSize of [1, 2, 4]) {
        const target = await newTarget("sqlite");
        const { engine, x, y, sent } = await scenario(target);
        const { handler, queues } = await commandsHandler(target);
        const ids = await sendMessages(
          queues,
          sent.map((m) => m.body),
        );
        const rank = (id: string | undefined) => order.indexOf(ids.indexOf(id ?? ""));
        await drain(queues, handler, {
          batchSize,
          order: (messages) => [...messages].sort((a, b) => rank(a.MessageId) - rank(b.MessageId)),
        });
        await converged(engine, x.id, y.id);
        expect(await deadLetters(queues), `${order} by ${batchSize}`).toEqual([]);
      }
    }
  });

  test("a command that never passes is tried until its last delivery, then kept with its reason, once", async () => {
    const target = await newTarget("sqlite");
    const { handler, queues, log } = await commandsHandler(target);
    const [id] = await sendMessages(queues, [
      JSON.stringify({ action: "delete", id: "never-created" }),
    ]);

    const deliveries = await drain(queues, handler);

    // Handed back four times (it may be waiting for its create), kept on the fifth.
    expect(deliveries.map((d) => d.response.batchItemFailures.length)).toEqual([1, 1, 1, 1, 0]);
    expect(log.map((line) => (line.failed as Failed[])[0]?.retry)).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
    expect(log.at(-1)).toMatchObject({
      level: "error",
      failed: [{ id, code: "NOT_FOUND", deadLettered: true }],
      CommandsDeadLettered: 1,
      CommandsHandedBack: 0,
    });
    expect(log[0]).toMatchObject({ CommandsDeadLettered: 0, CommandsHandedBack: 1 });
    const kept = await deadLetters(queues);
    expect(kept).toHaveLength(1);
    expect(kept[0]?.Body).toBe(JSON.stringify({ action: "delete", id: "never-created" }));
    expect(attributesOf(kept[0])).toMatchObject({
      "rapatriements-code": "NOT_FOUND",
      "rapatriements-status": "404",
      "rapatriements-reason": 'No rapatriement has id "never-created".',
      "rapatriements-message-id": id,
      "rapatriements-receive-count": "5",
      "rapatriements-author": expect.stringMatching(/^sqs:/) as unknown,
    });
  });

  test("what can never pass is kept at once, on its first delivery: an invalid command, a reused key, a passed version, a final record", async () => {
    const target = await newTarget("sqlite");
    const { handler, queues, engine } = await commandsHandler(target);
    const done = await engine.service.create(sampleInput("done"));
    await engine.service.update(done.id, { status: "cancelled" });
    const moved = await engine.service.create(sampleInput("moved"));
    await engine.service.update(moved.id, { comment: "v2" });
    await engine.service.update(moved.id, { comment: "v3" });
    const bodies = [
      JSON.stringify({ action: "create", data: { reference: "no lines" } }),
      JSON.stringify({ action: "create", data: sampleInput("k1"), idempotencyKey: "k" }),
      JSON.stringify({ action: "create", data: sampleInput("k2"), idempotencyKey: "k" }),
      JSON.stringify({
        action: "update",
        id: moved.id,
        data: { comment: "x" },
        expectedVersion: 2,
      }),
      JSON.stringify({ action: "update", id: done.id, data: { comment: "too late" } }),
    ];
    await sendMessages(queues, bodies);

    const deliveries = await drain(queues, handler);

    expect(deliveries).toHaveLength(1);
    const kept = await deadLetters(queues);
    expect(kept.map((m) => attributesOf(m)["rapatriements-code"]).sort()).toEqual(
      [
        "FORBIDDEN_TRANSITION",
        "IDEMPOTENCY_KEY_REUSED",
        "VALIDATION_FAILED",
        "VERSION_MISMATCH",
      ].sort(),
    );
    expect(kept.map((m) => m.Body).sort()).toEqual(
      [bodies[0], bodies[2], bodies[3], bodies[4]].sort(),
    );
    const invalid = kept.find((m) => m.Body === bodies[0]);
    expect(JSON.parse(attributesOf(invalid)["rapatriements-errors"] ?? "{}")).toMatchObject({
      errors: expect.arrayContaining([{ path: "lines", message: "is required" }]),
      more: 0,
    });
    expect((await references(engine)).sort()).toEqual(["RAP-done", "RAP-k1", "RAP-moved"]);
  });

  test("a refusal the dead-letter queue cannot take stays on the queue: nothing is lost", async () => {
    const target = await newTarget("sqlite");
    const queues = await commandsQueues();
    const engine = await newEngine(target);
    const log: LogLine[] = [];
    // A dead-letter queue that does not exist: SendMessage fails.
    const broken = sqsCommandsQueue(
      {
        ...queues.config,
        commands: { ...queues.config.commands, deadLetterQueueUrl: `${queues.deadLetterUrl}-gone` },
      },
      queues.sqs,
    );
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: engine.service, store: engine.store }),
      log: (line) => log.push(line),
      ...(broken === undefined ? {} : { commandsQueue: broken }),
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const [id] = await sendMessages(queues, ["{ not json"]);

    const response = await handler(
      eventOf(queues.arn, await receive(queues, 1)),
      lambdaContext("x"),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: id }] });
    expect(log[0]).toMatchObject({ failed: [{ id, code: "VALIDATION_FAILED", retry: true }] });
    expect(log[0]?.failed).not.toContainEqual(expect.objectContaining({ deadLettered: true }));
  });
});

describe("a direct invocation's size", () => {
  test("more commands than one SQS batch are refused before anything is applied", async () => {
    const target = await newTarget("sqlite");
    const { handler, requests, log } = await commandsHandler(target);
    const commands = Array.from({ length: 101 }, (_, i) => ({
      action: "create",
      data: sampleInput(`many-${i}`),
    }));

    const answer = await handler(commands, lambdaContext("too-many"));

    expect(answer).toEqual({
      ok: false,
      error: {
        status: 413,
        code: "TOO_MANY_COMMANDS",
        message:
          "A direct invocation takes at most 100 commands (got 101); none was applied: send them in several invocations.",
      },
    });
    expect(requests).toEqual([]);
    expect(log[0]).toMatchObject({ level: "error", code: "TOO_MANY_COMMANDS", commands: 101 });
    // One batch's worth is taken.
    const hundred = (await handler(
      commands.slice(0, 100),
      lambdaContext("ok"),
    )) as CommandOutcome[];
    expect(hundred.every((o) => o.ok)).toBe(true);
  });

  test("the answer stays under Lambda's 6 MB: whole records while they fit, then id, version and outcome", async () => {
    const target = await newTarget("sqlite");
    const { handler, engine } = await commandsHandler(target);
    // 500 lines of 64-character skus in 3-byte characters: about 165 KB a record.
    const wide = (n: number) =>
      sampleInput(`wide-${n}`, {
        lines: Array.from({ length: 500 }, (_, i) => ({
          sku: `${"€".repeat(60)}${String(i).padStart(4, "0")}`,
          quantity: 1,
          unit: "€".repeat(32),
        })),
      });
    const records: { id: string }[] = [];
    for (let n = 0; n < 20; n++) records.push(await engine.service.create(wide(n)));
    const updates = Array.from({ length: 100 }, (_, i) => ({
      action: "update",
      id: records[i % 20]?.id,
      data: { comment: `update ${i}` },
    }));

    const answer = (await handler(updates, lambdaContext("wide"))) as CommandOutcome[];

    const bytes = Buffer.byteLength(JSON.stringify(answer), "utf8");
    expect(bytes).toBeLessThan(6 * 1024 * 1024);
    expect(answer).toHaveLength(100);
    expect(answer.every((o) => o.ok)).toBe(true);
    const whole = answer.filter((o) => o.ok && o.record !== undefined);
    const short = answer.filter((o) => o.ok && o.recordOmitted === true);
    expect(whole.length).toBeGreaterThan(0);
    expect(short.length).toBeGreaterThan(0);
    expect(whole.length + short.length).toBe(100);
    // Whole ones first, in order; every one names its record and version.
    expect(answer.findIndex((o) => o.ok && o.recordOmitted === true)).toBe(whole.length);
    expect(answer[99]).toStrictEqual({
      ok: true,
      action: "update",
      id: records[19]?.id,
      version: 6,
      recordOmitted: true,
    });
    for (const record of records) {
      expect((await engine.service.get(record.id)).version).toBe(6);
    }
  });
});

describe("how fresh a container's copy must be for a command", () => {
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

  /**
   * `early` sent; then a container's copy fetched ahead; then another
   * container frees the reference "GONE", and a producer sends its create.
   */
  async function sentAroundACopy(early: string) {
    const target = await newTarget("sqlite");
    const writer = (await newEngine(target)).service;
    const gone = await writer.create(sampleInput("GONE"));
    const queues = await commandsQueues();
    const [earlyId] = await sendMessages(queues, [early]);
    await pause();
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    await pause();
    await writer.delete(gone.id);
    await sendMessages(queues, [create("GONE")]);
    return { target, queues, prefetch, earlyId };
  }

  test("a message sent before the copy was fetched ahead is answered from it; one sent after, from the object", async () => {
    const { target, queues, prefetch } = await sentAroundACopy(create("early"));

    const first = await commandsHandler(target, { prefetch }, queues);
    const early = await receive(queues, 1);
    expect(await first.handler(eventOf(queues.arn, early), lambdaContext("early"))).toEqual({
      batchItemFailures: [],
    });
    // Sent before the copy was asked for: applied on the copy, no GET first
    // (its PUT then loses to the delete made since, and is re-applied).
    expect(first.requests[0]?.command).toBe("PutObject");

    const second = await commandsHandler(target, { prefetch }, queues);
    const late = await receive(queues, 1);
    expect(await second.handler(eventOf(queues.arn, late), lambdaContext("late"))).toEqual({
      batchItemFailures: [],
    });
    // Sent after: the copy is confirmed with S3 before anything is applied.
    expect(second.requests[0]?.command).toBe("GetObject");
    expect((await references(second.engine)).sort()).toEqual(["RAP-GONE", "RAP-early"]);
  });

  test("a batch mixing both needs the object as it is: the latest send decides", async () => {
    // A command refused either way (its record is not there): with the other
    // refused too on a stale copy, the batch would send no PUT, so nothing
    // would correct an answer taken from that copy.
    const {
      target,
      queues,
      prefetch,
      earlyId: early,
    } = await sentAroundACopy(JSON.stringify({ action: "delete", id: "nowhere" }));
    const { handler, engine } = await commandsHandler(target, { prefetch }, queues);

    const response = await handler(
      eventOf(queues.arn, await receive(queues, 2)),
      lambdaContext("m"),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: early }] });
    expect(await references(engine)).toEqual(["RAP-GONE"]);
  });

  test("a direct invocation is never answered from a copy fetched ahead", async () => {
    const target = await newTarget("sqlite");
    const writer = (await newEngine(target)).service;
    const record = await writer.create(sampleInput("d"));
    const prefetch = prefetchObject(localS3Client(), target);
    await prefetch.outcome;
    await writer.update(record.id, { comment: "v2" });
    const { handler } = await commandsHandler(target, { prefetch });

    const answer = await handler(
      { action: "update", id: record.id, data: { status: "requested" }, expectedVersion: 2 },
      lambdaContext("direct"),
    );

    expect(answer).toMatchObject({ ok: true, version: 3 });
  });
});

describe("more of what the handler tells apart", () => {
  test("with no queue given, the function builds its own from the configuration and applies what SQS confirms", async () => {
    const target = await newTarget("sqlite");
    const engine = await newEngine(target);
    const queues = await commandsQueues();
    const config: Config = {
      region: queues.config.region,
      bucket: target.bucket,
      key: target.key,
      strategy: "sqlite",
      commands: queues.config.commands,
      ...(queues.config.credentials === undefined
        ? {}
        : { credentials: queues.config.credentials }),
    };
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: engine.service, store: engine.store, config }),
      log: () => {},
    }) as (event: unknown, context: Context) => Promise<unknown>;
    await sendMessages(queues, [create("configured")]);

    const response = await handler(
      eventOf(queues.arn, await receive(queues, 1)),
      lambdaContext("c"),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await references(engine)).toEqual(["RAP-configured"]);
  });

  test("a forged record claiming its last delivery is handed back, never copied to the dead-letter queue", async () => {
    const { handler, queues, engine } = await commandsHandler(await newTarget("sqlite"));
    const forged = forgedRecord("f-last", "{ not json", queues.arn);
    forged.attributes.ApproximateReceiveCount = "5";

    expect(await handler({ Records: [forged] }, lambdaContext("f"))).toEqual({
      batchItemFailures: [{ itemIdentifier: "f-last" }],
    });
    expect(await deadLetters(queues)).toEqual([]);
    expect(await references(engine)).toEqual([]);
  });

  test("a direct invocation's refusals are refusals in its log line, not redeliveries", async () => {
    const { handler, log } = await commandsHandler(await newTarget("sqlite"));
    await handler(
      [
        { action: "delete", id: "nowhere" },
        { action: "archive", id: "x" },
      ],
      lambdaContext("direct"),
    );
    expect(log[0]).toMatchObject({
      level: "error",
      failed: [
        { id: "0", code: "NOT_FOUND", retry: false },
        { id: "1", code: "VALIDATION_FAILED", retry: false },
      ],
    });
  });

  test("an EventBridge event invoked directly: what a later delivery could change is thrown for Lambda to retry, what none can is returned", async () => {
    const { handler, engine } = await commandsHandler(await newTarget("sqlite"));
    const record = await engine.service.create(sampleInput("eb"));
    await engine.service.update(record.id, { comment: "v2" });
    const done = await engine.service.create(sampleInput("done"));
    await engine.service.update(done.id, { status: "cancelled" });
    const event = (id: string, detail: unknown) => ({
      id,
      source: COMMAND_SOURCE,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail,
    });
    const update = (id: string, data: unknown, expectedVersion?: number) => ({
      action: "update",
      id,
      data,
      expectedVersion,
    });

    // A version not reached yet (412), a transition not possible yet (409): thrown.
    await expect(
      handler(event("e1", update(record.id, { comment: "x" }, 3)), lambdaContext("1")),
    ).rejects.toThrow("is at version 2, not 3");
    await expect(
      handler(event("e2", update(record.id, { status: "received" })), lambdaContext("2")),
    ).rejects.toThrow("cannot become received");
    // A version passed, a final record: returned, not retried.
    expect(
      await handler(event("e3", update(record.id, { comment: "x" }, 1)), lambdaContext("3")),
    ).toMatchObject({ ok: false, error: { status: 412, code: "VERSION_MISMATCH" } });
    expect(
      await handler(event("e4", update(done.id, { comment: "x" })), lambdaContext("4")),
    ).toMatchObject({ ok: false, error: { status: 409, code: "FORBIDDEN_TRANSITION" } });
  });

  test("an answer whose refusals list more fields than 6 MB can hold keeps the first five of each past the budget, and counts the rest", async () => {
    const { handler } = await commandsHandler(await newTarget("sqlite"));
    const bad = {
      reference: "RAP-bad",
      origin: "A",
      destination: "B",
      lines: Array.from({ length: 400 }, () => ({
        sku: "S".repeat(65),
        quantity: 0,
        unit: "U".repeat(33),
      })),
    };
    const commands = Array.from({ length: 100 }, () => ({ action: "create", data: bad }));

    const answer = (await handler(commands, lambdaContext("bad"))) as CommandOutcome[];

    expect(Buffer.byteLength(JSON.stringify(answer), "utf8")).toBeLessThan(6 * 1024 * 1024);
    const failures = answer.map((o) => (o.ok ? undefined : o.error));
    expect(failures.every((e) => e?.code === "VALIDATION_FAILED")).toBe(true);
    const whole = failures.filter((e) => e?.errorsOmitted === undefined);
    const short = failures.filter((e) => e?.errorsOmitted !== undefined);
    expect(whole.length).toBeGreaterThan(0);
    expect(short.length).toBeGreaterThan(0);
    const allErrors = (whole[0]?.errors ?? []) as unknown[];
    expect(allErrors).toHaveLength(1200);
    expect(short[0]).toMatchObject({ errorsOmitted: 1195 });
    expect(short[0]?.errors).toEqual(allErrors.slice(0, 5));
    expect(answer.at(-1)).not.toHaveProperty("recordOmitted");
  });
});
