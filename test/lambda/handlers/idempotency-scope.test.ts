/**
 * An idempotency key belongs to its caller, through the handlers as API
 * Gateway, SQS and EventBridge call them, on the real S3 API of the local
 * server. The same key from another caller is another key: that caller's
 * request is applied on its own (or refused on its own, as a taken
 * reference), never answered with the first caller's record. The same
 * caller's retry is answered, applied once; another request under its key
 * is refused (422). Event and message ids are scoped the same way; commands
 * go through a queue of the local server, as the event source mapping
 * delivers them.
 */
import type { Context, SQSBatchResponse } from "aws-lambda";
import { describe, expect, test } from "vitest";
import { createCommandsHandler } from "../../../lambda/handlers/apply-commands.ts";
import type { CommandOutcome } from "../../../lambda/handlers/command-answers.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import { COMMAND_DETAIL_TYPE } from "../../../lambda/handlers/routes.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import {
  commandsQueues,
  deadLetters,
  receive,
  sendMessages,
  settle,
  sqsEvent,
} from "../../support/commands-queue.ts";
import { type EventParts, newHttpApi } from "../../support/http-api-events.ts";
import { newEngine, newTarget, sampleInput } from "../../support/local-s3.ts";

type Api = Awaited<ReturnType<typeof newHttpApi>>;

const ALICE = { jwt: { sub: "alice" } };
const BOB = { jwt: { sub: "bob" } };

function post(api: Api, body: unknown, key: string, caller: Pick<EventParts, "jwt">) {
  return api.send({
    routeKey: "POST /rapatriements",
    rawPath: "/rapatriements",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "idempotency-key": key },
    ...caller,
  });
}

function patch(api: Api, id: string, body: unknown, key: string, caller: Pick<EventParts, "jwt">) {
  return api.send({
    routeKey: "PATCH /rapatriements/{id}",
    rawPath: `/rapatriements/${id}`,
    pathParameters: { id },
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", "idempotency-key": key },
    ...caller,
  });
}

async function listed(api: Api) {
  const page = await api.send({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
  return (page.json as { items: { reference: string; createdBy: string | null }[] }).items
    .map((r) => `${r.reference} by ${r.createdBy}`)
    .sort();
}

describe("the HTTP API's Idempotency-Key, between two callers", () => {
  test("Bob's POST with Alice's key and body is his own request: 409 for the taken reference, not her record", async () => {
    const api = await newHttpApi();
    const alice = await post(api, sampleInput("KS-1"), "create-KS-1", ALICE);
    expect(alice.status).toBe(201);
    expect(alice.json).toMatchObject({ reference: "RAP-KS-1", createdBy: "alice" });

    const bob = await post(api, sampleInput("KS-1"), "create-KS-1", BOB);
    expect(bob.status).toBe(409);
    expect(bob.json).toMatchObject({ code: "DUPLICATE_REFERENCE" });
    expect(JSON.stringify(bob.json)).not.toContain((alice.json as { id: string }).id);
    expect(await listed(api)).toEqual(["RAP-KS-1 by alice"]);
  });

  test("Bob's POST with Alice's key and another body creates his own record", async () => {
    const api = await newHttpApi();
    const alice = await post(api, sampleInput("KS-1"), "create-KS-1", ALICE);
    const bob = await post(api, sampleInput("KS-2"), "create-KS-1", BOB);
    expect(bob.status).toBe(201);
    expect(bob.json).toMatchObject({ reference: "RAP-KS-2", createdBy: "bob", version: 1 });
    expect((bob.json as { id: string }).id).not.toBe((alice.json as { id: string }).id);

    // Each one's retry is answered with their own record, applied once.
    const aliceAgain = await post(api, sampleInput("KS-1"), "create-KS-1", ALICE);
    const bobAgain = await post(api, sampleInput("KS-2"), "create-KS-1", BOB);
    expect([aliceAgain.status, bobAgain.status]).toEqual([201, 201]);
    expect(aliceAgain.json).toEqual(alice.json);
    expect(bobAgain.json).toEqual(bob.json);
    expect(await listed(api)).toEqual(["RAP-KS-1 by alice", "RAP-KS-2 by bob"]);

    // Another body under one's own key is refused, whoever else used the key.
    const reused = await post(api, sampleInput("KS-3"), "create-KS-1", ALICE);
    expect(reused.status).toBe(422);
    expect(reused.json).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect(await listed(api)).toHaveLength(2);
  });

  test("a PATCH under Alice's key, sent again by Bob, is applied again for Bob", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("KS-1"), "create-KS-1", ALICE);
    const { id } = created.json as { id: string };

    const first = await patch(api, id, { comment: "quai 4" }, "note-1", ALICE);
    const retry = await patch(api, id, { comment: "quai 4" }, "note-1", ALICE);
    expect(first.json).toMatchObject({ version: 2, updatedBy: "alice" });
    expect(retry.json).toEqual(first.json);

    await patch(api, id, { comment: "quai 5" }, "note-2", ALICE);
    const bob = await patch(api, id, { comment: "quai 4" }, "note-1", BOB);
    expect(bob.status).toBe(200);
    expect(bob.json).toMatchObject({ comment: "quai 4", version: 4, updatedBy: "bob" });
  });
});

/**
 * The commands handler over a queue of the local server. `deliver` sends one
 * message and hands it to the handler as the event source mapping would,
 * from `senderId` when given: the local server gives every sender the same
 * id, so the test writes the one SQS gives each principal (the receipt
 * handle stays SQS's own, and SQS confirms it).
 */
async function commandsHandler() {
  const engine = await newEngine(await newTarget("sqlite"));
  const queues = await commandsQueues();
  const log: LogLine[] = [];
  const handler = createCommandsHandler({
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: (line) => log.push(line),
    commandsQueue: queues.queue,
  }) as (event: unknown, context: Context) => Promise<SQSBatchResponse>;
  const deliver = async (body: unknown, senderId?: string) => {
    const [id = ""] = await sendMessages(queues, [body]);
    const messages = await receive(queues, 1);
    const event = sqsEvent(queues.arn, messages);
    if (senderId !== undefined) {
      for (const record of event.Records) record.attributes.SenderId = senderId;
    }
    const response = await handler(event, lambdaContext(id));
    // One delivery of each is what these tests look at: even a message handed
    // back is taken off the queue, so that the next delivery is the next one sent.
    await settle(queues, messages, { batchItemFailures: [] });
    const failed = (log.at(-1)?.failed ?? []) as { code: string; retry: boolean }[];
    return { handedBack: response.batchItemFailures.length > 0, failed };
  };
  return { deliver, engine, queues };
}

function event(id: string, source: string, command: unknown) {
  return { version: "0", id, source, "detail-type": COMMAND_DETAIL_TYPE, detail: command };
}

async function authored(engine: Awaited<ReturnType<typeof newEngine>>): Promise<string[]> {
  return (await engine.service.listAll()).map((r) => `${r.reference} by ${r.createdBy}`).sort();
}

describe("a command's idempotencyKey, between two authors", () => {
  const create = (n: string) => ({
    action: "create",
    data: sampleInput(n),
    idempotencyKey: "erp-4711",
  });

  test("the same key and command from another SQS sender is that sender's own: refused on its own (409), not answered with the first", async () => {
    const { deliver, engine } = await commandsHandler();

    expect(await deliver(create("KS-1"), "AIDA-ALICE")).toEqual({ handedBack: false, failed: [] });
    // Bob's command is his own: its reference is taken (handed back: the
    // holder may yet be deleted), not answered with Alice's record.
    expect(await deliver(create("KS-1"), "AIDA-BOB")).toMatchObject({
      handedBack: true,
      failed: [{ code: "DUPLICATE_REFERENCE", retry: true }],
    });
    // Bob's other command under the same key is applied, as his.
    expect(await deliver(create("KS-2"), "AIDA-BOB")).toEqual({ handedBack: false, failed: [] });
    // Alice's command sent again (a new message) is answered from her receipt.
    expect(await deliver(create("KS-1"), "AIDA-ALICE")).toEqual({ handedBack: false, failed: [] });

    expect(await authored(engine)).toEqual([
      "RAP-KS-1 by sqs:AIDA-ALICE",
      "RAP-KS-2 by sqs:AIDA-BOB",
    ]);
  });

  test("from the EventBridge rule, each source's key is its own: replayed, 409, applied, 422", async () => {
    const { deliver, engine, queues } = await commandsHandler();

    expect(await deliver(event("evt-1", "erp.alice", create("KS-1")))).toMatchObject({
      handedBack: false,
    });
    // The same command in a new event from the same source: a replay, nothing new.
    expect(await deliver(event("evt-2", "erp.alice", create("KS-1")))).toEqual({
      handedBack: false,
      failed: [],
    });
    expect(await deliver(event("evt-3", "erp.bob", create("KS-1")))).toMatchObject({
      failed: [{ code: "DUPLICATE_REFERENCE" }],
    });
    expect(await deliver(event("evt-4", "erp.bob", create("KS-2")))).toEqual({
      handedBack: false,
      failed: [],
    });
    // Another command under Alice's own key can never pass: kept with its reason.
    expect(await deliver(event("evt-5", "erp.alice", create("KS-3")))).toMatchObject({
      handedBack: false,
      failed: [{ code: "IDEMPOTENCY_KEY_REUSED", retry: false }],
    });
    expect(await authored(engine)).toEqual([
      "RAP-KS-1 by eventbridge:erp.alice",
      "RAP-KS-2 by eventbridge:erp.bob",
    ]);
    expect(await deadLetters(queues)).toHaveLength(1);
  });

  test("an event id is its source's: the same id from another source is another event", async () => {
    const { deliver, engine } = await commandsHandler();
    const plain = (n: string) => ({ action: "create", data: sampleInput(n) });

    await deliver(event("evt-same", "erp.alice", plain("KS-1")));
    // EventBridge delivering Alice's event twice: one command.
    await deliver(event("evt-same", "erp.alice", plain("KS-1")));
    // Not taken for a redelivery of Alice's event, nor refused as a reused key.
    expect(await deliver(event("evt-same", "erp.bob", plain("KS-2")))).toEqual({
      handedBack: false,
      failed: [],
    });
    expect(await authored(engine)).toEqual([
      "RAP-KS-1 by eventbridge:erp.alice",
      "RAP-KS-2 by eventbridge:erp.bob",
    ]);
  });

  test("direct invocations share one author: one caller's key is every direct caller's", async () => {
    const engine = await newEngine(await newTarget("sqlite"));
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: engine.service, store: engine.store }),
      log: () => {},
    }) as (event: unknown, context: Context) => Promise<unknown>;
    const first = (await handler(create("KS-1"), lambdaContext("d1"))) as CommandOutcome;
    // An EventBridge-shaped event invoked directly is a direct invocation too.
    const again = (await handler(
      event("evt-x", "erp.bob", create("KS-1")),
      lambdaContext("d2"),
    )) as CommandOutcome;
    expect(first).toMatchObject({ ok: true, record: { createdBy: "lambda:direct-invocation" } });
    expect(again).toMatchObject({ ok: true, replayed: true });
    expect(await authored(engine)).toEqual(["RAP-KS-1 by lambda:direct-invocation"]);
  });
});
