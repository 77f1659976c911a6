/**
 * Receipts written at schema 4 (a key as text, shared by every caller, a
 * whole SHA-256, the record's id, an ISO expiry), through the real local S3
 * server in either format: after the upgrade to schema 5 each one still
 * answers its replay, whoever sends it (their keys had no scope), refuses
 * another request under its key, expires when it did, and survives a round
 * trip through both codecs.
 */
import { describe, expect, test } from "vitest";
import type { StorageStrategy } from "../../../lambda/config.ts";
import { CommandProcessor } from "../../../lambda/rapatriements/commands.ts";
import {
  ANY_REQUEST,
  fingerprint,
  fingerprintBits,
  LEGACY_SCOPE,
  minuteOf,
  receiptHash,
} from "../../../lambda/rapatriements/receipts.ts";
import { RapatriementService } from "../../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { parseCreate } from "../../../lambda/rapatriements/validation.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import { createDatabase, currentVersion } from "../../../lambda/storage/migrations.ts";
import { type Database, loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import {
  getBytes,
  newEngine,
  newTarget,
  putBytes,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const STRATEGIES: StorageStrategy[] = ["sqlite", "json"];
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;
const START = Date.parse("2026-03-01T08:00:00.000Z");

const at = (ms: number) => new Date(START + ms).toISOString();

/** What each schema-4 receipt was written for: its key, request, record, version, expiry. */
const RECEIPTS = {
  // An API create: its fingerprint covers the fields alone.
  api: {
    key: "http:order-1",
    print: fingerprint(parseCreate(sampleInput(1))),
    action: "create",
    id: "r-1",
    version: 1,
    expiresAt: at(20 * HOUR_MS),
  },
  // A command under a producer's key: its fingerprint covers the command without the key.
  command: {
    key: "command:erp-7",
    print: fingerprint({ action: "update", id: "r-1", data: { comment: "quai 4" } }),
    action: "update",
    id: "r-1",
    version: 2,
    expiresAt: at(10 * DAY_MS),
  },
  event: {
    key: "event:evt-1",
    print: fingerprint({ action: "create", data: sampleInput(2) }),
    action: "create",
    id: "r-2",
    version: 1,
    expiresAt: at(14 * DAY_MS),
  },
  // Its record is gone: it was deleted.
  message: {
    key: "sqs-message:m-1",
    print: fingerprint({ action: "delete", id: "r-3" }),
    action: "delete",
    id: "r-3",
    version: 4,
    expiresAt: at(13 * DAY_MS),
  },
  // Carried over from schema 2, which kept no fingerprint: any update is its replay.
  schema2: {
    key: "command:old-1",
    print: "",
    action: "update",
    id: "r-1",
    version: 2,
    expiresAt: at(12 * DAY_MS),
  },
} as const;

/** A data file as schema 4 wrote it (the JSON one with a list of objects per table). */
async function schema4File(strategy: StorageStrategy): Promise<Uint8Array> {
  const SQL = await loadSqlJs();
  const old = createDatabase(SQL, rapatriementsSchema, 4);
  try {
    for (const [seq, id, n, version] of [
      [5, "r-1", 1, 2],
      [6, "r-2", 2, 1],
    ] as const) {
      old.run(
        `INSERT INTO rapatriements (seq, id, reference, origin, destination, status, comment,
           created_at, updated_at, version)
         VALUES (?, ?, ?, 'LYON-01', 'PARIS-02', 'draft', ?, ?, ?, ?)`,
        [seq, id, `RAP-${n}`, version === 2 ? "quai 4" : null, at(0), at(0), version],
      );
      old.run(
        "INSERT INTO rapatriement_lines (rapatriement_id, position, sku, quantity, unit) VALUES (?, 0, ?, 3, 'carton')",
        [id, `SKU-${n}`],
      );
    }
    old.run("INSERT INTO counters (name, value) VALUES ('rapatriements.seq', 7)");
    for (const r of Object.values(RECEIPTS)) {
      old.run("INSERT INTO receipts VALUES (?, ?, ?, ?, ?, ?)", [
        r.key,
        r.print,
        r.action,
        r.id,
        r.version,
        r.expiresAt,
      ]);
    }
    // Schema 4 wrote no table compactly.
    return codecFor(strategy).encode(old, { ...rapatriementsSchema, compactTables: [] });
  } finally {
    old.close();
  }
}

/** The receipts as schema 5 keeps them, in a fixed order. */
function receiptRows(db: Database) {
  return db.exec("SELECT * FROM receipts ORDER BY key_hash")[0]?.values ?? [];
}

describe.each(STRATEGIES)("receipts written at schema 4, STORAGE_STRATEGY=%s", (strategy) => {
  async function upgraded() {
    const target = await newTarget(strategy);
    await putBytes(target, await schema4File(strategy));
    const clock = { now: START };
    const { store } = await newEngine(target, { now: () => clock.now });
    const service = new RapatriementService({ store, now: () => new Date(clock.now) });
    return { target, clock, service, store, commands: new CommandProcessor(service) };
  }

  test("are carried over as a few integers under the shared scope, each with its record's position", async () => {
    const { target, service } = await upgraded();
    await service.create(sampleInput(9)); // the first save, at schema 5

    const bytes = await getBytes(target);
    const legacy = (key: string) => receiptHash(LEGACY_SCOPE, key);
    const minute = (iso: string) => minuteOf(Date.parse(iso));
    expect(
      await tableRows(strategy, bytes, "SELECT * FROM receipts ORDER BY version, key_hash"),
    ).toEqual(
      [
        [
          legacy(RECEIPTS.api.key),
          fingerprintBits(RECEIPTS.api.print),
          5,
          1,
          minute(RECEIPTS.api.expiresAt),
        ],
        [
          legacy(RECEIPTS.event.key),
          fingerprintBits(RECEIPTS.event.print),
          6,
          1,
          minute(RECEIPTS.event.expiresAt),
        ],
        [
          legacy(RECEIPTS.command.key),
          fingerprintBits(RECEIPTS.command.print),
          5,
          2,
          minute(RECEIPTS.command.expiresAt),
        ],
        [
          legacy(RECEIPTS.schema2.key),
          ANY_REQUEST.update,
          5,
          2,
          minute(RECEIPTS.schema2.expiresAt),
        ],
        // The deleted record's position is not known: 0.
        [
          legacy(RECEIPTS.message.key),
          fingerprintBits(RECEIPTS.message.print),
          0,
          4,
          minute(RECEIPTS.message.expiresAt),
        ],
      ].sort((a, b) => Number(a[3]) - Number(b[3]) || Number(a[0]) - Number(b[0])),
    );
    // Nothing of the old table is left: no key, no record id.
    const text = Buffer.from(bytes).toString("latin1");
    expect(text).not.toContain("order-1");
    expect(text).not.toContain("receipts_schema4");
    expect(await tableRows(strategy, bytes, "PRAGMA user_version")).toEqual([
      [currentVersion(rapatriementsSchema)],
    ]);
  });

  test("each still answers its replay, from any caller, and refuses another request under its key", async () => {
    const { service, store, commands } = await upgraded();
    const send = (command: unknown, carrier?: string, actor = "sqs:AIDA-OTHER") =>
      store.write(commands.prepare(command, carrier, actor));

    // The API's key: the record it created, found by its position.
    const replayed = await service.create(sampleInput(1), {
      idempotencyKey: "order-1",
      actor: "alice",
    });
    expect(replayed).toMatchObject({ id: "r-1", reference: "RAP-1", version: 2 });
    await expect(
      service.create(sampleInput(8), { idempotencyKey: "order-1", actor: "bob" }),
    ).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });

    // A producer's key, an event id, a message id.
    expect(
      await send({
        action: "update",
        id: "r-1",
        data: { comment: "quai 4" },
        idempotencyKey: "erp-7",
      }),
    ).toMatchObject({ action: "update", id: "r-1", version: 2, replayed: true });
    expect(await send({ action: "create", data: sampleInput(2) }, "event:evt-1")).toMatchObject({
      action: "create",
      id: "r-2",
      version: 1,
      record: { reference: "RAP-2" },
      replayed: true,
    });
    expect(await send({ action: "delete", id: "r-3" }, "sqs-message:m-1")).toStrictEqual({
      action: "delete",
      id: "r-3",
      version: 4,
      replayed: true,
    });
    await expect(send({ action: "delete", id: "r-2" }, "sqs-message:m-1")).rejects.toMatchObject({
      status: 422,
    });

    // Schema 2's: any update under its key is its replay; another action is refused.
    expect(
      await send({ action: "update", id: "r-1", data: { comment: "x" }, idempotencyKey: "old-1" }),
    ).toMatchObject({ id: "r-1", version: 2, replayed: true });
    await expect(
      send({ action: "delete", id: "r-1", idempotencyKey: "old-1" }),
    ).rejects.toMatchObject({ status: 422 });

    // Nothing was applied again.
    expect((await service.listAll()).map((r) => [r.id, r.version, r.comment])).toEqual([
      ["r-1", 2, "quai 4"],
      ["r-2", 1, undefined],
    ]);
  });

  test("each expires when it did at schema 4, and is forgotten by the next save after", async () => {
    const { target, clock, service } = await upgraded();
    const kept = async () =>
      (
        await tableRows(
          strategy,
          await getBytes(target),
          "SELECT version, record_seq FROM receipts",
        )
      ).length;

    clock.now = START + 20 * HOUR_MS - 60_000;
    expect(
      await service.create(sampleInput(1), { idempotencyKey: "order-1", actor: "alice" }),
    ).toMatchObject({ id: "r-1" });
    await service.create(sampleInput(10));
    expect(await kept()).toBe(5);

    // Past 20 hours the API's key is gone: the same request is a new one (its reference is taken).
    clock.now = START + 20 * HOUR_MS + 60_000;
    await expect(
      service.create(sampleInput(1), { idempotencyKey: "order-1", actor: "alice" }),
    ).rejects.toMatchObject({ status: 409, code: "DUPLICATE_REFERENCE" });
    clock.now = START + 22 * HOUR_MS;
    await service.create(sampleInput(11));
    expect(await kept()).toBe(4);

    // Past 14 days, the longest of them: every one is gone.
    clock.now = START + 14 * DAY_MS + 2 * HOUR_MS;
    await service.create(sampleInput(12));
    expect(await kept()).toBe(0);
  });

  test("survive a round trip through both codecs", async () => {
    const { target, service } = await upgraded();
    await service.create(sampleInput(9), { idempotencyKey: "new-1", actor: "alice" });
    const SQL = await loadSqlJs();
    const [own, other] = [codecFor(strategy), codecFor(strategy === "json" ? "sqlite" : "json")];

    const first = own.decode(await getBytes(target), SQL, rapatriementsSchema);
    const across = other.decode(other.encode(first, rapatriementsSchema), SQL, rapatriementsSchema);
    const back = own.decode(own.encode(across, rapatriementsSchema), SQL, rapatriementsSchema);
    try {
      expect(receiptRows(first)).toHaveLength(6);
      expect(receiptRows(across)).toEqual(receiptRows(first));
      expect(receiptRows(back)).toEqual(receiptRows(first));
    } finally {
      for (const db of [first, across, back]) db.close();
    }
  });
});
