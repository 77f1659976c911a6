/**
 * The synthesized bundles under AWS's own delivery semantics: containers
 * initialised long before their first request, a standard queue that
 * reorders and redelivers, callers who forge an event's shape, answers held
 * to Lambda's 6 MB. Each invocation is a fresh Node.js process loading the
 * bundle with the deployed environment (AWS_LAMBDA_FUNCTION_NAME set, as
 * Lambda's init runs it), against the local server's S3 and SQS.
 */
import { describe, expect, test } from "vitest";
import type { CommandOutcome } from "../../lambda/handlers/command-answers.ts";
import { COMMANDS_MODULE, HTTP_FUNCTION_MODULE } from "../../lambda/handlers/routes.ts";
import { DATA_KEY, initialisedBundle, invokeBundle, isolatedCopy } from "../support/bundles.ts";
import {
  commandsQueues,
  deadLetters,
  drain,
  receive,
  sendMessages,
  sqsEvent,
  type TestQueues,
} from "../support/commands-queue.ts";
import {
  createBucket,
  localEndpoint,
  localS3Client,
  newEngine,
  sampleInput,
} from "../support/local-s3.ts";
import { synthesize } from "../support/synth.ts";

const synthesized = synthesize();
const httpBundle = isolatedCopy(synthesized, HTTP_FUNCTION_MODULE);
const commandsBundle = isolatedCopy(synthesized, COMMANDS_MODULE);

/** A bucket with a data object, and a container of our own writing to it. */
async function dataObject() {
  const bucket = await createBucket(localS3Client());
  const engine = await newEngine({ bucket, key: DATA_KEY, strategy: "sqlite" });
  return { bucket, service: engine.service };
}

/** The commands function's environment as the stack sets it, with the local queues. */
function queueEnvironment(queues: TestQueues): Record<string, string> {
  return {
    COMMANDS_QUEUE_URL: queues.url,
    COMMANDS_QUEUE_ARN: queues.arn,
    COMMANDS_DEAD_LETTER_QUEUE_URL: queues.deadLetterUrl,
    COMMANDS_MAX_RECEIVE_COUNT: String(queues.config.commands.maxReceiveCount),
    COMMANDS_VISIBILITY_TIMEOUT_SECONDS: String(queues.config.commands.visibilityTimeoutSeconds),
    AWS_ENDPOINT_URL_SQS: localEndpoint(),
  };
}

/** The commands bundle as the event source mapping's target: a fresh container per batch. */
function commandsContainer(bucket: string, queues: TestQueues) {
  return async (event: unknown) =>
    (await invokeBundle(commandsBundle, bucket, event, queueEnvironment(queues))).result;
}

describe("a container initialised ahead of traffic", () => {
  test("answers its first write from the object as it is when the request arrives, not from its init copy", async () => {
    const { bucket, service } = await dataObject();
    const first = await service.create(sampleInput(1, { comment: "a" }));
    const gone = await service.create(sampleInput("GONE"));
    const containers = Array.from({ length: 4 }, () => initialisedBundle(httpBundle, bucket));
    await Promise.all(containers.map((c) => c.initialised));
    // Another container writes after their init, before their first request.
    await service.update(first.id, { comment: "b" });
    const created = await service.create(sampleInput(3));
    await service.delete(gone.id);
    const [a, b, c, d] = containers;
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error();

    const patchNew = await a.invoke({
      method: "PATCH",
      url: `/rapatriements/${created.id}`,
      body: { status: "requested" },
    });
    expect(patchNew.statusCode).toBe(200);
    const reuse = await b.invoke({
      method: "POST",
      url: "/rapatriements",
      body: sampleInput("GONE"),
    });
    expect(reuse.statusCode).toBe(201);
    const back = await c.invoke({
      method: "PATCH",
      url: `/rapatriements/${first.id}`,
      body: { comment: "a" },
    });
    expect([back.statusCode, back.headers.etag]).toEqual([200, '"3"']);
    const current = await d.invoke({
      method: "PATCH",
      url: `/rapatriements/${first.id}`,
      body: { comment: "d" },
      headers: { "if-match": '"3"' },
    });
    expect([current.statusCode, current.headers.etag]).toEqual([200, '"4"']);
    expect(await service.get(first.id)).toMatchObject({ comment: "d", version: 4 });
  });

  test("the commands function applies the message sent after an acknowledged write, as the write left the record", async () => {
    const { bucket, service } = await dataObject();
    const queues = await commandsQueues();
    const record = await service.create(sampleInput("cmd"));
    const container = initialisedBundle(commandsBundle, bucket, queueEnvironment(queues));
    await container.initialised;
    // An HTTP write is acknowledged; then a producer sends the next step.
    await service.update(record.id, { comment: "quai 4" });
    await sendMessages(queues, [
      { action: "update", id: record.id, data: { status: "requested" }, expectedVersion: 2 },
    ]);

    const { result } = await container.invokeEvent(sqsEvent(queues.arn, await receive(queues, 1)));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(await service.get(record.id)).toMatchObject({
      status: "requested",
      comment: "quai 4",
      version: 3,
    });
  });
});

describe("a standard queue, through the commands bundle", () => {
  test("commands delivered in the worst order converge once what was handed back comes back", async () => {
    const { bucket, service } = await dataObject();
    const queues = await commandsQueues();
    const x = await service.create(sampleInput("X"));
    const y = await service.create(sampleInput("Y"));
    const ids = await sendMessages(queues, [
      { action: "update", id: x.id, data: { status: "requested" }, expectedVersion: 1 },
      {
        action: "update",
        id: x.id,
        data: { status: "in_transit", comment: "camion 12" },
        expectedVersion: 2,
      },
      { action: "update", id: y.id, data: { status: "requested" } },
      { action: "update", id: y.id, data: { status: "in_transit" } },
    ]);
    // Each pair's second command first, in batches of two.
    const rank = (id: string | undefined) => [1, 3, 0, 2].indexOf(ids.indexOf(id ?? ""));

    const deliveries = await drain(queues, commandsContainer(bucket, queues), {
      batchSize: 2,
      order: (messages) => [...messages].sort((a, b) => rank(a.MessageId) - rank(b.MessageId)),
    });

    expect(deliveries.length).toBeGreaterThan(2);
    expect(deliveries.some((d) => d.response.batchItemFailures.length > 0)).toBe(true);
    expect(await service.get(x.id)).toMatchObject({
      status: "in_transit",
      comment: "camion 12",
      version: 3,
    });
    expect(await service.get(y.id)).toMatchObject({ status: "in_transit", version: 3 });
    expect(await deadLetters(queues)).toEqual([]);
  });

  test("a command that never passes is delivered until its last receive, then kept in the dead-letter queue with its reason", async () => {
    const { bucket } = await dataObject();
    const queues = await commandsQueues();
    const [id] = await sendMessages(queues, [{ action: "delete", id: "never-created" }]);

    const deliveries = await drain(queues, commandsContainer(bucket, queues));

    expect(deliveries.map((d) => d.event.Records[0]?.attributes.ApproximateReceiveCount)).toEqual([
      "1",
      "2",
      "3",
      "4",
      "5",
    ]);
    const [kept, ...more] = await deadLetters(queues);
    expect(more).toEqual([]);
    expect(kept?.Body).toBe(JSON.stringify({ action: "delete", id: "never-created" }));
    expect(kept?.MessageAttributes?.["rapatriements-code"]?.StringValue).toBe("NOT_FOUND");
    expect(kept?.MessageAttributes?.["rapatriements-message-id"]?.StringValue).toBe(id);
  });
});

describe("an event's shape proves nothing", () => {
  test("an SQS batch invoked directly is not applied, whatever SenderId or EventBridge source it claims", async () => {
    const { bucket, service } = await dataObject();
    const queues = await commandsQueues();
    const claim = {
      version: "0",
      id: "evt-forged",
      source: "sap.finance",
      "detail-type": "RapatriementCommand",
      detail: { action: "create", data: sampleInput("forged") },
    };
    const forged = {
      Records: [
        {
          messageId: "f-1",
          receiptHandle: "made-up",
          body: JSON.stringify(claim),
          attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: String(Date.now()),
            SenderId: "AROAINTRUDER:mallory",
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: "",
          eventSource: "aws:sqs",
          eventSourceARN: queues.arn,
          awsRegion: "eu-west-1",
        },
      ],
    };

    const { result, log } = await invokeBundle(
      commandsBundle,
      bucket,
      forged,
      queueEnvironment(queues),
    );

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "f-1" }] });
    expect(await service.listAll()).toEqual([]);
    expect(log).toEqual([
      expect.objectContaining({
        failed: [expect.objectContaining({ id: "f-1", code: "MESSAGE_NOT_CONFIRMED" })],
      }),
    ]);
    expect(JSON.stringify(log)).not.toMatch(/sap\.finance|mallory/);
  });

  test("an EventBridge-shaped event invoked directly is recorded as a direct invocation", async () => {
    const { bucket, service } = await dataObject();
    const { result } = await invokeBundle(commandsBundle, bucket, {
      version: "0",
      id: "evt-claim",
      source: "interflow.rapatriements",
      "detail-type": "RapatriementCommand",
      detail: { action: "create", data: sampleInput("claimed") },
    });
    expect(result).toMatchObject({ ok: true, record: { createdBy: "lambda:direct-invocation" } });
    const [stored] = await service.listAll();
    expect(stored).toMatchObject({
      createdBy: "lambda:direct-invocation",
      updatedBy: "lambda:direct-invocation",
    });
  });
});

describe("a direct invocation's answer, within Lambda's limits", () => {
  test("more commands than an SQS batch are refused before anything is applied", async () => {
    const { bucket, service } = await dataObject();
    const commands = Array.from({ length: 101 }, (_, i) => ({
      action: "create",
      data: sampleInput(`many-${i}`),
    }));
    const { result } = await invokeBundle(commandsBundle, bucket, commands);
    expect(result).toMatchObject({ ok: false, error: { status: 413, code: "TOO_MANY_COMMANDS" } });
    expect(await service.listAll()).toEqual([]);
  });

  test("100 updates of wide records answer under 6 MB: whole records while they fit, then id, version and outcome", async () => {
    const { bucket, service } = await dataObject();
    const wide = (n: number) =>
      sampleInput(`wide-${n}`, {
        lines: Array.from({ length: 500 }, (_, i) => ({
          sku: `${"€".repeat(60)}${String(i).padStart(4, "0")}`,
          quantity: 1,
          unit: "€".repeat(32),
        })),
      });
    const records: { id: string }[] = [];
    for (let n = 0; n < 20; n++) records.push(await service.create(wide(n)));
    const updates = Array.from({ length: 100 }, (_, i) => ({
      action: "update",
      id: records[i % 20]?.id,
      data: { comment: `update ${i}` },
    }));

    const { result } = await invokeBundle(commandsBundle, bucket, updates);

    const answer = result as CommandOutcome[];
    expect(Buffer.byteLength(JSON.stringify(answer), "utf8")).toBeLessThan(6 * 1024 * 1024);
    expect(answer).toHaveLength(100);
    expect(answer.every((o) => o.ok)).toBe(true);
    expect(answer.filter((o) => o.ok && o.recordOmitted === true).length).toBeGreaterThan(0);
    for (const record of records) expect((await service.get(record.id)).version).toBe(6);
  });
});
