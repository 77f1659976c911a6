/**
 * The commands handler against the local S3 server: an SQS batch is one
 * transaction (one PUT), failures are reported alone, redelivery changes
 * nothing, concurrent batches both land, direct invocations answer each
 * command.
 */
import type { Context, SQSEvent } from "aws-lambda";
import { describe, expect, test } from "vitest";
import {
  type CommandOutcome,
  createCommandsHandler,
} from "../../../lambda/handlers/apply-commands.ts";
import type { HandlerDeps, LogLine } from "../../../lambda/handlers/dependencies.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../../lambda/handlers/routes.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import {
  etagOf,
  newEngine,
  newTarget,
  recordRequests,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

async function commandsHandler(target: Target) {
  const engine = await newEngine(target);
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

function sqsEvent(bodies: { id: string; body: string }[]): SQSEvent {
  return {
    Records: bodies.map(({ id, body }) => ({
      messageId: id,
      receiptHandle: `handle-${id}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "0",
        SenderId: "test",
        ApproximateFirstReceiveTimestamp: "0",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:000000000000:commands",
      awsRegion: "eu-west-1",
    })),
  };
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
  test("a batch of 10 with 2 invalid commits the 8 others in exactly one PUT and reports the 2 ids", async () => {
    const target = await newTarget("sqlite");
    const { handler, log, engine, requests } = await commandsHandler(target);

    const response = await handler(batchOfTen("b1"), lambdaContext("sqs-1"));

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: "b1-bad-data" }, { itemIdentifier: "b1-not-json" }],
    });
    expect(requests.filter((r) => r.command === "PutObject")).toHaveLength(1);
    expect(await references(engine)).toEqual(
      Array.from({ length: 8 }, (_, i) => `RAP-b1-${i}`).sort(),
    );
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({
      source: "sqs",
      commands: 10,
      succeeded: 8,
      failed: [
        { id: "b1-bad-data", code: "VALIDATION_FAILED" },
        { id: "b1-not-json", code: "VALIDATION_FAILED" },
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

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: "b2-bad-data" }, { itemIdentifier: "b2-not-json" }],
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

    expect((ra as { batchItemFailures: unknown[] }).batchItemFailures).toHaveLength(2);
    expect((rb as { batchItemFailures: unknown[] }).batchItemFailures).toHaveLength(2);
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
    expect(await handler(remove, lambdaContext("3"))).toEqual({
      batchItemFailures: [{ itemIdentifier: "d1" }],
    });
    expect(await references(engine)).toEqual([]);
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
