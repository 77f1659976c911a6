/**
 * Receipts through the real local S3 server: what a replay needs is kept for
 * its window and then forgotten in the next save, a deleted record leaves no
 * text behind, and receipts written by schema 2 (whole copies of records)
 * are carried over as schema 3 keeps them.
 */
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import { CommandProcessor } from "../../../lambda/rapatriements/commands.ts";
import {
  ANY_REQUEST,
  API_KEY_WINDOW_MS,
  fingerprint,
  fingerprintBits,
  LEGACY_SCOPE,
  receiptHash,
  receiptKey,
  scopeOf,
} from "../../../lambda/rapatriements/receipts.ts";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { parseCreate } from "../../../lambda/rapatriements/validation.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import { createDatabase } from "../../../lambda/storage/migrations.ts";
import { loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import {
  getBytes,
  newClockedEngine,
  newEngine,
  newTarget,
  pastEventsWindow,
  putBytes,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const STRATEGIES: StorageStrategy[] = ["sqlite", "json"];

/** A service and its store sharing one clock that the test moves. */
async function withClock(strategy: StorageStrategy) {
  const target = await newTarget(strategy);
  return { target, ...(await newClockedEngine(target)) };
}

describe.each(STRATEGIES)("receipts with STORAGE_STRATEGY=%s", (strategy) => {
  test("an Idempotency-Key is honoured for 24 hours, then forgotten in the next save", async () => {
    const { target, clock, service } = await withClock(strategy);
    await service.create(sampleInput(1), { idempotencyKey: "order-1" });

    clock.now += API_KEY_WINDOW_MS - 1000;
    await expect(
      service.create(sampleInput(2), { idempotencyKey: "order-1" }),
    ).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });

    clock.now += 2000;
    const later = await service.create(sampleInput(2), { idempotencyKey: "order-1" });
    expect(later).toMatchObject({ reference: "RAP-2", version: 1 });
    // One receipt left: the new one; the expired one went in that same save.
    expect(
      await tableRows(strategy, await getBytes(target), "SELECT key_hash FROM receipts"),
    ).toEqual([[receiptHash(scopeOf(null), "http:order-1")]]);
  });

  test("a create replayed after its record was deleted says so (404), and creates nothing", async () => {
    const { service } = await newEngine(await newTarget(strategy));
    const created = await service.create(sampleInput(1), { idempotencyKey: "k" });
    await service.delete(created.id);

    // The receipt keeps the record's list position, not its id: the answer cannot name it.
    await expect(service.create(sampleInput(1), { idempotencyKey: "k" })).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
      message: "The rapatriement this idempotency key created has since been deleted.",
    });
    expect(await service.listAll()).toEqual([]);
  });

  test("a record deleted after keyed writes leaves none of its text in the object once its delete event has expired", async () => {
    const { target, service, clock } = await withClock(strategy);
    for (let n = 0; n < 30; n++) await service.create(sampleInput(`keep-${n}`));
    const secret = "Mme Dupont, 12 rue des Lilas";
    const record = await service.create(
      sampleInput("gone", { comment: secret, lines: [{ sku: "SKU-PRIVATE-778", quantity: 1 }] }),
      { idempotencyKey: "gone-1" },
    );
    await service.update(record.id, { comment: `${secret} (2)` }, { idempotencyKey: "gone-2" });
    await service.delete(record.id, { idempotencyKey: "gone-3" });
    // Its delete event carries the record for the events window (12 hours).
    expect(Buffer.from(await getBytes(target)).toString("latin1")).toContain("RAP-gone");
    await pastEventsWindow(clock, service);

    const text = Buffer.from(await getBytes(target)).toString("latin1");
    expect(text).not.toContain("Dupont");
    expect(text).not.toContain("SKU-PRIVATE-778");
    expect(text).not.toContain("RAP-gone");
  });

  test("receipts written by schema 2 are carried over without their copies of records", async () => {
    const target = await newTarget(strategy);
    const SQL = await loadSqlJs();
    const old = createDatabase(SQL, rapatriementsSchema, 2);
    const at = new Date().toISOString();
    const comment = "copied into every receipt";
    const record = {
      id: "r-1",
      ...sampleInput(1, { comment }),
      status: "draft",
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    old.run(
      `INSERT INTO rapatriements (seq, id, reference, origin, destination, status, comment, created_at, updated_at, version)
       VALUES (7, 'r-1', 'RAP-1', 'LYON-01', 'PARIS-02', 'draft', ?, ?, ?, 1)`,
      [comment, at, at],
    );
    old.run(
      "INSERT INTO rapatriement_lines (rapatriement_id, position, sku, quantity, unit) VALUES ('r-1', 0, 'SKU-1', 3, 'carton')",
    );
    old.run("INSERT INTO idempotency_keys VALUES ('order-1', ?, 'r-1', ?, ?)", [
      fingerprint(parseCreate(sampleInput(1, { comment: "copied into every receipt" }))),
      JSON.stringify(record),
      at,
    ]);
    // Event and message ids were namespaced already; other keys were a command's own.
    const receipts: [string, string, unknown][] = [
      ["event:evt-1", "create", { action: "create", record }],
      ["sqs-message:m-1", "update", { action: "update", record: { ...record, version: 2 } }],
      ["cmd-1", "delete", { action: "delete", record: { ...record, version: 3 } }],
      // What no replay can use: a record without its id or version.
      ["cmd-2", "delete", { action: "delete" }],
      ["cmd-3", "update", { action: "update", record: { id: "r-1", version: "2" } }],
      ["cmd-4", "update", { action: "update", record: null }],
    ];
    for (const [key, action, response] of receipts) {
      old.run("INSERT INTO command_receipts VALUES (?, ?, ?, ?)", [
        key,
        action,
        JSON.stringify(response),
        at,
      ]);
    }
    await putBytes(target, codecFor(strategy).encode(old, rapatriementsSchema));
    old.close();
    const { service, store } = await newEngine(target);
    const commands = new CommandProcessor(service);

    // A schema-2 receipt kept no fingerprint: its command's redelivery is
    // answered from it, and is not applied again; another action under its
    // key is refused all the same.
    expect(
      await store.write(commands.prepare({ action: "delete", id: "r-1", idempotencyKey: "cmd-1" })),
    ).toEqual({ action: "delete", id: "r-1", version: 3, replayed: true });
    await expect(
      store.write(
        commands.prepare({
          action: "update",
          id: "r-1",
          data: { comment: "other" },
          idempotencyKey: "cmd-1",
        }),
      ),
    ).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });
    expect(await service.get("r-1")).toMatchObject({ version: 1, comment });

    const replayed = await service.create(
      sampleInput(1, { comment: "copied into every receipt" }),
      {
        idempotencyKey: "order-1",
      },
    );
    expect(replayed).toMatchObject({ id: "r-1", version: 1 });
    await service.create(sampleInput(2)); // a save at the current schema

    const bytes = await getBytes(target);
    const legacy = (key: string) => receiptHash(LEGACY_SCOPE, key);
    expect(
      await tableRows(
        strategy,
        bytes,
        "SELECT key_hash, fingerprint, record_seq, version FROM receipts ORDER BY version, fingerprint",
      ),
    ).toEqual([
      // Their fingerprint was not kept: any request of their action is accepted.
      [legacy("event:evt-1"), ANY_REQUEST.create, 7, 1],
      [
        legacy("http:order-1"),
        fingerprintBits(fingerprint(parseCreate(sampleInput(1, { comment })))),
        7,
        1,
      ],
      [legacy("sqs-message:m-1"), ANY_REQUEST.update, 7, 2],
      [legacy("command:cmd-1"), ANY_REQUEST.delete, 7, 3],
    ]);
    // The comment lives in the record alone now, not in copies of it.
    const text = Buffer.from(bytes).toString("latin1");
    expect(text.split("copied into every receipt")).toHaveLength(2);
    // The next position follows the file's highest.
    expect((await service.list({ limit: "1" })).items[0]?.reference).toBe("RAP-2");
  });
});

describe("a receipt's fingerprint", () => {
  test("is the one earlier releases stored, so a client's retry across a deploy is still answered", async () => {
    // Receipts outlive a deploy (24 hours for an Idempotency-Key, 15 days for
    // a command): a fingerprint computed otherwise by a new release would
    // refuse, as a reused key, the retry of a write the old one applied.
    // This one was stored whole by the release that introduced schema 3;
    // schema 5 keeps its first 48 bits.
    const target = await newTarget("sqlite");
    const { service } = await newEngine(target);
    const lines = [
      { sku: "PAL-EUR", quantity: 2, unit: "palette" },
      { sku: "SKU-7", quantity: 12, unit: "carton" },
    ];
    await service.create(sampleInput("fp", { comment: "deux lignes", lines }), {
      idempotencyKey: "order-fp",
    });

    expect(
      await tableRows(
        "sqlite",
        await getBytes(target),
        "SELECT key_hash, fingerprint FROM receipts",
      ),
    ).toEqual([
      [
        receiptHash(scopeOf(null), "http:order-fp"),
        fingerprintBits("1b3157c9ab5f6a82f102620c48c0ae3de140214747fac8f761e25d860b6cfbc9"),
      ],
    ]);
  });
});

describe("a command's receipt", () => {
  const DAY_MS = 24 * 3600 * 1000;

  test("is kept 15 days, longer than SQS keeps a message, then forgotten in the next save", async () => {
    const { target, clock, service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const record = await service.create(sampleInput("r"));
    const update = { action: "update", id: record.id, data: { comment: "once" } };
    const deliver = () => store.write(commands.prepare(update, receiptKey.event("evt-15d")));

    const first = await deliver();
    expect(first).toMatchObject({ version: 2 });
    expect(first).not.toHaveProperty("replayed");
    await service.update(record.id, { comment: "changed since" });

    // SQS keeps a message up to 14 days: a redelivery then is still answered from the receipt.
    clock.now += 14 * DAY_MS + 23 * 3600 * 1000;
    expect(await deliver()).toMatchObject({ version: 2, replayed: true });
    expect(await service.get(record.id)).toMatchObject({ comment: "changed since", version: 3 });

    // Past 15 days the receipt is gone from the object, at the next save.
    clock.now += 3600 * 1000 + 1000;
    await service.create(sampleInput("later"));
    expect(
      await tableRows("sqlite", await getBytes(target), "SELECT key_hash FROM receipts"),
    ).toEqual([]);
  });
  test("a create's first delivery is applied, not replayed; its redelivery is answered from the receipt", async () => {
    const { service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const create = { action: "create", data: sampleInput("c") };
    const deliver = () => store.write(commands.prepare(create, receiptKey.event("evt-c")));

    const first = await deliver();
    expect(first).toMatchObject({ action: "create", version: 1, record: { reference: "RAP-c" } });
    expect(first).not.toHaveProperty("replayed");
    expect(await deliver()).toEqual({ ...first, replayed: true });
    expect(await service.listAll()).toHaveLength(1);
  });

  test("sent again under its key with the same data in another order, it is the same command; other data is refused", async () => {
    const { service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const record = await service.create(sampleInput("o"));
    const line = { sku: "PAL-EUR", quantity: 2, unit: "palette" };
    const first = {
      action: "update",
      id: record.id,
      idempotencyKey: "erp-order",
      data: { comment: "x", lines: [line] },
    };
    const reordered = {
      idempotencyKey: "erp-order",
      data: { lines: [{ unit: "palette", quantity: 2, sku: "PAL-EUR" }], comment: "x" },
      id: record.id,
      action: "update",
    };

    expect(await store.write(commands.prepare(first))).toMatchObject({ version: 2 });
    expect(await store.write(commands.prepare(reordered))).toMatchObject({
      version: 2,
      replayed: true,
    });
    await expect(
      store.write(commands.prepare({ ...first, data: { comment: "x", lines: [line, line] } })),
    ).rejects.toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED" });
    expect((await service.get(record.id)).version).toBe(2);
  });
});

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 3600 * 1000;

/** How many receipts the object holds. */
async function receiptCount(target: Awaited<ReturnType<typeof newTarget>>): Promise<unknown> {
  return (
    await tableRows("sqlite", await getBytes(target), "SELECT COUNT(*) FROM receipts")
  )[0]?.[0];
}

describe("a carrier's or a producer's key is kept as long as it can come back", () => {
  test.each([
    // The dead-letter queue keeps a message 14 days from its first send.
    ["a message id", 14, receiptKey.sqsMessage("m-1"), undefined],
    // EventBridge retries for 24 hours; the message that carries it, 14 days more.
    ["an event id", 15, receiptKey.event("evt-1"), undefined],
    ["a producer's idempotencyKey", 15, undefined, "erp-1"],
  ])("%s: %s days, then forgotten in a save", async (_kind, days, carrier, idempotencyKey) => {
    const { target, clock, service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const record = await service.create(sampleInput("w"));
    const command = { action: "update", id: record.id, data: { comment: "once" }, idempotencyKey };
    const deliver = () => store.write(commands.prepare(command, carrier, "sqs:AIDA-SENDER"));
    const start = clock.now;

    expect(await deliver()).toMatchObject({ version: 2 });
    clock.now = start + days * DAY_MS - MINUTE_MS;
    expect(await deliver()).toMatchObject({ version: 2, replayed: true });
    await service.update(record.id, { comment: "later" });
    expect(await receiptCount(target)).toBe(1);

    // An hour past its window (the most a receipt outlives it), a save forgets it.
    clock.now = start + days * DAY_MS + 61 * MINUTE_MS;
    await service.update(record.id, { comment: "later still" });
    expect(await receiptCount(target)).toBe(0);
  });
});

describe("expired receipts", () => {
  test("are looked for at most once an hour, and never answered from meanwhile", async () => {
    const { target, clock, service } = await withClock("sqlite");
    const start = clock.now;
    const pruned = async () =>
      (
        await tableRows(
          "sqlite",
          await getBytes(target),
          "SELECT value FROM counters WHERE name = 'receipts.pruned_minute'",
        )
      )[0]?.[0];
    await service.create(sampleInput(1), { idempotencyKey: "k-1" });
    expect(await pruned()).toBe(start / MINUTE_MS);

    // Within the hour, a save does not look: the receipt alive stays, as always.
    clock.now = start + 30 * MINUTE_MS;
    await service.create(sampleInput(2));
    expect(await pruned()).toBe(start / MINUTE_MS);

    // An hour later, it looks, and the receipt, alive, stays.
    clock.now = start + API_KEY_WINDOW_MS - 30 * MINUTE_MS;
    await service.create(sampleInput(3));
    expect(await pruned()).toBe(clock.now / MINUTE_MS);
    expect(await receiptCount(target)).toBe(1);

    // Expired, but the last look was half an hour ago: still in the object…
    clock.now = start + API_KEY_WINDOW_MS + MINUTE_MS;
    await service.create(sampleInput(4));
    expect(await receiptCount(target)).toBe(1);
    // …and not answered from: the same request is applied again (its reference is taken).
    await expect(service.create(sampleInput(1), { idempotencyKey: "k-1" })).rejects.toMatchObject({
      status: 409,
      code: "DUPLICATE_REFERENCE",
    });

    // An hour after the last look, the next save forgets it.
    clock.now = start + API_KEY_WINDOW_MS + 31 * MINUTE_MS;
    await service.create(sampleInput(5));
    expect(await receiptCount(target)).toBe(0);
  });
});

describe("a key's scope", () => {
  test("an unknown caller (null) is a scope of its own, apart from every caller's, even one named null", async () => {
    const { service } = await withClock("sqlite");
    const nobody = await service.create(sampleInput(1), { idempotencyKey: "k" });
    const named = await service.create(sampleInput(2), { idempotencyKey: "k", actor: "null" });
    expect(named).toMatchObject({ reference: "RAP-2", createdBy: "null" });
    expect(await service.create(sampleInput(1), { idempotencyKey: "k" })).toEqual(nobody);
    expect(await service.create(sampleInput(2), { idempotencyKey: "k", actor: "null" })).toEqual(
      named,
    );
    await expect(
      service.create(sampleInput(2), { idempotencyKey: "k", actor: null }),
    ).rejects.toMatchObject({ status: 422 });
  });
});

describe("a replay whose record has since been deleted", () => {
  test("a create's redelivery answers without id nor record, and creates nothing", async () => {
    const { service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const deliver = () =>
      store.write(
        commands.prepare(
          { action: "create", data: sampleInput("gone") },
          receiptKey.event("evt-gone"),
          "eventbridge:erp",
        ),
      );
    const first = await deliver();
    await service.delete(first.id);

    expect(await deliver()).toStrictEqual({ action: "create", version: 1, replayed: true });
    expect(await service.listAll()).toEqual([]);
  });

  test("a delete's redelivery answers the id it was sent with and the version it deleted", async () => {
    const { service, store } = await withClock("sqlite");
    const commands = new CommandProcessor(service);
    const record = await service.create(sampleInput("d"));
    await service.update(record.id, { comment: "v2" });
    const deliver = () =>
      store.write(
        commands.prepare(
          { action: "delete", id: record.id },
          receiptKey.sqsMessage("m-d"),
          "sqs:AIDA-SENDER",
        ),
      );

    expect(await deliver()).toStrictEqual({ action: "delete", id: record.id, version: 2 });
    expect(await deliver()).toStrictEqual({
      action: "delete",
      id: record.id,
      version: 2,
      replayed: true,
    });
  });
});
