/**
 * The change events, end to end on the local server: writes through the HTTP
 * API and the commands function, the events publisher, a bus with a rule
 * whose target is an SQS queue, and what that target receives — each event
 * checked against its schema in docs/events/. An event exists if and only if
 * its change was saved; a publisher that fails or dies before moving its
 * position loses nothing.
 */
import {
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsRequestEntry,
} from "@aws-sdk/client-eventbridge";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import { createCommandsHandler } from "../../../lambda/handlers/apply-commands.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import type { DeliveredEvent } from "../../../tools/local-sqs/bus-target.ts";
import { apiOver } from "../../support/api.ts";
import {
  localEventBridge,
  newPublisher,
  newTestBus,
  publicationFor,
} from "../../support/event-bus.ts";
import { faultyClient, onNextPut, s3Error } from "../../support/faults.ts";
import {
  etagOf,
  getBytes,
  localS3Client,
  newEngine,
  newTarget,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const byType = (events: DeliveredEvent[]) => events.map((e) => e["detail-type"]);

async function setUp(strategy: StorageStrategy) {
  const data = await newTarget(strategy);
  const bus = await newTestBus();
  const engine = await newEngine(data);
  const publisher = await newPublisher(data, publicationFor(bus, data));
  return { data, bus, engine, api: apiOver(engine), publisher };
}

/** The commit ids the object holds, newest last. */
async function commitsOf(strategy: StorageStrategy, data: Awaited<ReturnType<typeof newTarget>>) {
  const rows = await tableRows(
    strategy,
    await getBytes(data),
    "SELECT id FROM storage_commits ORDER BY seq",
  );
  return rows.map(([id]) => String(id));
}

describe.each(["sqlite", "json"] as StorageStrategy[])(
  "change events with STORAGE_STRATEGY=%s",
  (strategy) => {
    test("a create, a status change and a delete through the API each give exactly their documented event", async () => {
      const { data, bus, api, publisher } = await setUp(strategy);
      const created = await api("POST", "/rapatriements", sampleInput(1));
      expect(created.status).toBe(201);
      const id = created.json.id as string;
      const commitOfCreate = (await commitsOf(strategy, data)).at(-1);
      const changed = await api(
        "PATCH",
        `/rapatriements/${id}`,
        { status: "requested" },
        { "if-match": '"1"' },
      );
      expect(changed.status).toBe(200);
      const deleted = await api("DELETE", `/rapatriements/${id}`, undefined, { "if-match": '"2"' });
      expect(deleted.status).toBe(204);

      const result = await publisher.run();
      expect(result).toMatchObject({ published: 3, failed: 0 });
      const events = await bus.received();
      expect(byType(events)).toEqual([
        "Rapatriement Created",
        "Rapatriement Updated",
        "Rapatriement Deleted",
      ]);
      const [create, update, remove] = events.map((e) => e.detail);
      expect(events.every((e) => e.source === "rapatriements")).toBe(true);
      expect(create).toEqual({
        eventId: `${id}:1`,
        id,
        reference: "RAP-1",
        version: 1,
        record: created.json,
        changes: {},
        updatedBy: created.json.updatedBy,
        time: created.json.createdAt,
        commit: commitOfCreate,
      });
      expect(events[0]?.time).toBe(created.json.createdAt.replace(/\.\d{3}Z$/, "Z"));
      expect(update).toMatchObject({
        eventId: `${id}:2`,
        version: 2,
        record: changed.json,
        changes: { status: { from: "draft", to: "requested" } },
        time: changed.json.updatedAt,
      });
      // A delete carries the record as it was, and the version after its last.
      expect(remove).toMatchObject({
        eventId: `${id}:3`,
        version: 3,
        record: changed.json,
        changes: {},
      });
      const commits = await commitsOf(strategy, data);
      expect([create, update, remove].map((d) => d?.commit)).toEqual(commits.slice(-3));

      // Published once: the next run has nothing to send.
      expect(await publisher.run()).toMatchObject({ published: 0 });
      expect(await bus.received()).toEqual([]);
    });

    test("a refused or unsaved change gives no event", async () => {
      const { data, bus, api, publisher } = await setUp(strategy);
      const created = await api("POST", "/rapatriements", sampleInput(1));
      const id = created.json.id as string;
      const refusals = [
        await api("PATCH", `/rapatriements/${id}`, { status: "received" }),
        await api("PATCH", `/rapatriements/${id}`, { comment: "x" }, { "if-match": '"7"' }),
        await api("POST", "/rapatriements", sampleInput(1)),
        await api("POST", "/rapatriements", { reference: "" }),
        await api("DELETE", "/rapatriements/absent"),
        // Nothing changes: no new version, no event.
        await api("PATCH", `/rapatriements/${id}`, { origin: "LYON-01" }),
      ];
      expect(refusals.map((r) => r.status)).toEqual([409, 412, 409, 400, 404, 200]);

      // A PUT that S3 refuses: the change is not saved, and neither is its event.
      const faulty = faultyClient();
      const failing = await newEngine(data, { s3: faulty.client, retry: { maxAttempts: 1 } });
      onNextPut(faulty, async () => {
        throw s3Error("InternalError", 500);
      });
      await expect(failing.service.update(id, { comment: "never saved" })).rejects.toThrow();

      expect(await publisher.run()).toMatchObject({ published: 1 });
      const events = await bus.received();
      expect(events.map((e) => e.detail.eventId)).toEqual([`${id}:1`]);
    });

    test("a batch of commands gives one event per applied command, in order, and none for a refused one", async () => {
      const { data, bus, engine, publisher } = await setUp(strategy);
      const commands = createCommandsHandler({
        dependencies: async () => ({ service: engine.service, store: engine.store }),
        log: () => {},
      }) as (event: unknown, context: Context) => Promise<unknown>;
      const first = await engine.service.create(sampleInput("base"));
      const answer = await commands(
        [
          { action: "create", data: sampleInput("a") },
          { action: "update", id: first.id, data: { status: "requested" }, expectedVersion: 1 },
          { action: "update", id: first.id, data: { status: "draft" } },
          { action: "create", data: sampleInput("b"), idempotencyKey: "k-1" },
          { action: "delete", id: first.id, expectedVersion: 2 },
        ],
        lambdaContext("batch"),
      );
      expect((answer as { ok: boolean }[]).map((r) => r.ok)).toEqual([
        true,
        true,
        false,
        true,
        true,
      ]);
      // The same command again is answered from its receipt: no change, no event.
      await commands(
        [{ action: "create", data: sampleInput("b"), idempotencyKey: "k-1" }],
        lambdaContext("again"),
      );

      await publisher.run();
      const events = await bus.received();
      expect(byType(events)).toEqual([
        "Rapatriement Created",
        "Rapatriement Created",
        "Rapatriement Updated",
        "Rapatriement Created",
        "Rapatriement Deleted",
      ]);
      expect(events.map((e) => e.detail.reference)).toEqual([
        "RAP-base",
        "RAP-a",
        "RAP-base",
        "RAP-b",
        "RAP-base",
      ]);
      // The batch was one save: its four events name one commit, the object's latest but one.
      const commits = await commitsOf(strategy, data);
      expect(new Set(events.slice(1).map((e) => e.detail.commit))).toEqual(
        new Set([commits.at(-1)]),
      );
      expect(events[4]?.detail.updatedBy).toBe("lambda:direct-invocation");
    });

    test("an update's event keeps the record as that version was, though the record changed since", async () => {
      const { bus, engine, publisher } = await setUp(strategy);
      const record = await engine.service.create(sampleInput(1, { comment: "un" }));
      await engine.service.update(record.id, { comment: "deux" });
      await engine.service.update(record.id, { comment: "trois", status: "requested" });
      await publisher.run();
      const events = await bus.received();
      expect(events.map((e) => (e.detail.record as { comment: string }).comment)).toEqual([
        "un",
        "deux",
        "trois",
      ]);
      expect(events.map((e) => e.detail.changes)).toEqual([
        {},
        { comment: { from: "un", to: "deux" } },
        { comment: { from: "deux", to: "trois" }, status: { from: "draft", to: "requested" } },
      ]);
    });
  },
);

test("a run before anything was written (no bucket yet) publishes nothing, and does not fail", async () => {
  const bus = await newTestBus();
  const data = {
    bucket: `never-${Date.now().toString(36)}`,
    key: "d/rapatriements.db",
    strategy: "sqlite" as const,
  };
  const publisher = await newPublisher(data, publicationFor(bus, data));
  expect(await publisher.run()).toMatchObject({ published: 0, failed: 0, position: undefined });
});

describe("a publisher that fails or dies loses nothing", () => {
  test("PutEvents failing: the run fails, counts its failures, and the next run publishes every event", async () => {
    const { data, bus, engine } = await setUp("sqlite");
    for (let n = 0; n < 12; n++) await engine.service.create(sampleInput(n));
    const events = localEventBridge();
    const mock = mockClient(events);
    mock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error("unreachable"), { name: "InternalException" }));
    const broken = await newPublisher(data, publicationFor(bus, data, events));
    await expect(broken.run()).rejects.toThrow("unreachable");
    expect(broken.lines[0]).toMatchObject({
      level: "error",
      published: 0,
      failed: 12,
      PublicationFailures: 12,
    });
    expect(await bus.received()).toEqual([]);

    const healthy = await newPublisher(data, publicationFor(bus, data));
    expect(await healthy.run()).toMatchObject({ published: 12, failed: 0 });
    expect(healthy.lines[0]).toMatchObject({ EventsPublished: 12, PublicationFailures: 0 });
    expect(typeof healthy.lines[0]?.PublicationLagMs).toBe("number");
    expect((await bus.received()).length).toBe(12);
  });

  test("entries EventBridge keeps refusing: the events before them are published, the rest by the next run", async () => {
    const { data, bus, engine } = await setUp("sqlite");
    for (let n = 0; n < 5; n++) await engine.service.create(sampleInput(n));
    const publication = publicationFor(bus, data);
    const real = publication.events;
    const events = localEventBridge();
    // The event of RAP-2 is refused (throttled) every time; the others go through.
    mockClient(events)
      .on(PutEventsCommand)
      .callsFake(async (input: PutEventsCommandInput) => {
        const entries = input.Entries ?? [];
        const refused = (e: PutEventsRequestEntry) =>
          e.Detail?.includes('"reference":"RAP-2"') === true;
        const through = entries.filter((e) => !refused(e));
        const sent =
          through.length === 0
            ? { Entries: [] }
            : await real.send(new PutEventsCommand({ Entries: through }));
        let k = 0;
        return {
          FailedEntryCount: entries.length - through.length,
          Entries: entries.map((e) =>
            refused(e)
              ? { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" }
              : (sent.Entries ?? [])[k++],
          ),
        };
      });
    const throttled = await newPublisher(data, { ...publication, events });
    await expect(throttled.run()).rejects.toThrow("ThrottlingException");
    expect(throttled.lines[0]).toMatchObject({ published: 2, failed: 3 });

    const healthy = await newPublisher(data, publication);
    expect(await healthy.run()).toMatchObject({ published: 3 });
    const delivered = await bus.received();
    const ids = delivered.map((e) => e.detail.eventId as string);
    // Every event arrived; the ones a refused call did carry came again, with the same id.
    expect(new Set(ids).size).toBe(5);
  });

  test("killed after publishing, before moving its position: the next run publishes the same events again, same ids", async () => {
    const { data, bus, engine } = await setUp("json");
    const record = await engine.service.create(sampleInput(1));
    await engine.service.update(record.id, { status: "requested" });
    const publication = publicationFor(bus, data);
    // Its position's PUT never happens: the process is gone.
    const faulty = faultyClient();
    onNextPut(faulty, async () => {
      throw Object.assign(new Error("killed"), { name: "TimeoutError" });
    });
    const dying = await newPublisher(data, { ...publication, s3: faulty.client });
    await expect(dying.run()).rejects.toThrow("killed");
    const first = await bus.received();

    const next = await newPublisher(data, publication);
    expect(await next.run()).toMatchObject({ published: 2 });
    const again = await bus.received();
    expect(again.map((e) => e.detail)).toEqual(first.map((e) => e.detail));
    expect(again.map((e) => e.detail.eventId)).toEqual([`${record.id}:1`, `${record.id}:2`]);
  });

  test("two publishers racing: every event reaches the target at least once, and the position ends past them all", async () => {
    const { data, bus, engine } = await setUp("sqlite");
    const a = await newPublisher(data, publicationFor(bus, data));
    const b = await newPublisher(data, publicationFor(bus, data));
    const ids: string[] = [];
    for (let round = 0; round < 4; round++) {
      for (let n = 0; n < 3; n++)
        ids.push((await engine.service.create(sampleInput(`${round}-${n}`))).id);
      await Promise.all([a.run(), b.run()]);
    }
    const delivered = (await bus.received()).map((e) => e.detail.eventId);
    expect(new Set(delivered)).toEqual(new Set(ids.map((id) => `${id}:1`)));
    expect(await a.run()).toMatchObject({ published: 0 });
  });

  test("an object started again (deleted, written anew) is published from its start, not skipped", async () => {
    const { data, bus, engine, publisher } = await setUp("sqlite");
    await engine.service.create(sampleInput(1));
    await engine.service.create(sampleInput(2));
    await publisher.run();
    await bus.received();
    // Another object at the key: its outbox starts again at 1.
    const fresh = await newTarget("sqlite");
    const other = await newEngine(fresh);
    await other.service.create(sampleInput(3));
    const bytes = await getBytes(fresh);
    await localS3Client().send(
      new PutObjectCommand({ Bucket: data.bucket, Key: data.key, Body: bytes }),
    );
    expect(await etagOf(data)).toBeDefined();

    expect(await publisher.run()).toMatchObject({ published: 1, restarted: true });
    expect((await bus.received()).map((e) => e.detail.reference)).toEqual(["RAP-3"]);
  });
});
