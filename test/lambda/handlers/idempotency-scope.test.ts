/**
 * An idempotency key belongs to its caller, through the handlers as API
 * Gateway, SQS and EventBridge call them, on the real S3 API of the local
 * server. The same key from another caller is another key: that caller's
 * request is applied on its own (or refused on its own, as a taken
 * reference), never answered with the first caller's record. The same
 * caller's retry is answered, applied once; another request under its key
 * is refused (422). Event and message ids are scoped the same way.
 */
import type { Context } from "aws-lambda";
import { describe, expect, test } from "vitest";
import {
  type CommandOutcome,
  createCommandsHandler,
} from "../../../lambda/handlers/apply-commands.ts";
import type { HandlerDeps } from "../../../lambda/handlers/dependencies.ts";
import { COMMAND_DETAIL_TYPE } from "../../../lambda/handlers/routes.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import { type EventParts, newHttpApi } from "../../support/http-api-events.ts";
import { newEngine, newTarget, sampleInput } from "../../support/local-s3.ts";
import { sqsEvent } from "../../support/sqs-events.ts";

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

async function commandsHandler() {
  const engine = await newEngine(await newTarget("sqlite"));
  const deps: HandlerDeps = {
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: () => {},
  };
  const handler = createCommandsHandler(deps) as (
    event: unknown,
    context: Context,
  ) => Promise<unknown>;
  return { handler, engine };
}

function event(id: string, source: string, command: unknown) {
  return { version: "0", id, source, "detail-type": COMMAND_DETAIL_TYPE, detail: command };
}

describe("a command's idempotencyKey, between two authors", () => {
  const create = (n: string) => ({
    action: "create",
    data: sampleInput(n),
    idempotencyKey: "erp-4711",
  });

  test("the same key and command from another SQS sender is refused on its own (409), not answered with the first", async () => {
    const { handler, engine } = await commandsHandler();
    const send = (id: string, sender: string, command: unknown) =>
      handler(
        sqsEvent([{ id, body: JSON.stringify(command), senderId: sender }]),
        lambdaContext(id),
      );

    expect(await send("m-1", "AIDA-ALICE", create("KS-1"))).toEqual({ batchItemFailures: [] });
    // Bob's command is his own: its reference is taken, a refusal that stays (no retry).
    expect(await send("m-2", "AIDA-BOB", create("KS-1"))).toEqual({ batchItemFailures: [] });
    // Bob's other command under the same key is applied, as his.
    expect(await send("m-3", "AIDA-BOB", create("KS-2"))).toEqual({ batchItemFailures: [] });
    // Alice's command sent again (a new message) is answered from her receipt.
    expect(await send("m-4", "AIDA-ALICE", create("KS-1"))).toEqual({ batchItemFailures: [] });

    const records = await engine.service.listAll();
    expect(records.map((r) => `${r.reference} by ${r.createdBy}`).sort()).toEqual([
      "RAP-KS-1 by sqs:AIDA-ALICE",
      "RAP-KS-2 by sqs:AIDA-BOB",
    ]);
  });

  test("directly from EventBridge, each source's answer is its own: replayed, 409, applied, 422", async () => {
    const { handler, engine } = await commandsHandler();
    const send = async (id: string, source: string, command: unknown) =>
      (await handler(event(id, source, command), lambdaContext(id))) as CommandOutcome;

    const first = await send("evt-1", "erp.alice", create("KS-1"));
    expect(first).toMatchObject({ ok: true, action: "create", version: 1 });
    expect(first).not.toHaveProperty("replayed");
    expect(await send("evt-2", "erp.alice", create("KS-1"))).toEqual({ ...first, replayed: true });
    expect(await send("evt-3", "erp.bob", create("KS-1"))).toMatchObject({
      ok: false,
      error: { status: 409, code: "DUPLICATE_REFERENCE" },
    });
    const bob = await send("evt-4", "erp.bob", create("KS-2"));
    expect(bob).toMatchObject({ ok: true, record: { createdBy: "eventbridge:erp.bob" } });
    expect(bob).not.toHaveProperty("replayed");
    expect(await send("evt-5", "erp.alice", create("KS-3"))).toMatchObject({
      ok: false,
      error: { status: 422, code: "IDEMPOTENCY_KEY_REUSED" },
    });
    expect(await engine.service.listAll()).toHaveLength(2);
  });

  test("an event id is its source's: the same id from another source is another event", async () => {
    const { handler, engine } = await commandsHandler();
    const send = async (source: string, command: unknown) =>
      (await handler(event("evt-same", source, command), lambdaContext(source))) as CommandOutcome;
    const plain = (n: string) => ({ action: "create", data: sampleInput(n) });

    expect(await send("erp.alice", plain("KS-1"))).toMatchObject({ ok: true });
    expect(await send("erp.alice", plain("KS-1"))).toMatchObject({ ok: true, replayed: true });
    // Not taken for a redelivery of Alice's event, nor refused as a reused key.
    const bob = await send("erp.bob", plain("KS-2"));
    expect(bob).toMatchObject({ ok: true, record: { reference: "RAP-KS-2" } });
    expect(bob).not.toHaveProperty("replayed");
    expect(await engine.service.listAll()).toHaveLength(2);
  });
});
