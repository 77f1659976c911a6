/**
 * The domain service through the real local S3 server: what a user of the API
 * would notice (records, validation, rules, idempotency, listing, versions).
 * Each test works on a bucket of its own.
 */
import { describe, expect, test } from "vitest";
import type { Rapatriement, Status } from "../../../lambda/rapatriements/model.ts";
import { RapatriementService } from "../../../lambda/rapatriements/service.ts";
import { newEngine, newTarget, sampleInput } from "../../support/local-s3.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A service on a bucket no other test uses. */
async function fresh() {
  return newEngine(await newTarget("sqlite"));
}

/** A service on a fresh bucket whose clock moves one second at each reading. */
async function freshWithClock() {
  const { store } = await fresh();
  let now = Date.parse("2026-03-01T08:00:00.000Z");
  const tick = () => {
    now += 1000;
    return new Date(now);
  };
  return new RapatriementService({ store, now: tick });
}

type Service = Awaited<ReturnType<typeof fresh>>["service"];

/** Calls `fn`; fails when it throws instead of returning a promise. */
function returnedPromise<T>(fn: () => Promise<T>): Promise<T> {
  let promise: Promise<T> | undefined;
  let thrown: unknown;
  try {
    promise = fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "threw synchronously instead of returning a rejected promise").toBeUndefined();
  expect(promise).toBeInstanceOf(Promise);
  return promise ?? Promise.reject(thrown);
}

function without(body: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...body };
  for (const key of keys) delete copy[key];
  return copy;
}

function lines(n: number) {
  return Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }));
}

function fieldError(path: string, message?: string) {
  return message === undefined
    ? expect.objectContaining({ path })
    : expect.objectContaining({ path, message });
}

function validationFailed(...errors: unknown[]) {
  return {
    status: 400,
    code: "VALIDATION_FAILED",
    errors: expect.arrayContaining(errors),
  };
}

async function stored(service: Service): Promise<Rapatriement[]> {
  return (await service.list({ limit: "100" })).items;
}

/** Paths to bring a new (draft) record to each status. */
const PATH_TO: Record<Status, Status[]> = {
  draft: [],
  requested: ["requested"],
  in_transit: ["requested", "in_transit"],
  received: ["requested", "in_transit", "received"],
  cancelled: ["cancelled"],
};

async function createIn(service: Service, n: number | string, status: Status) {
  let record = await service.create(sampleInput(n));
  for (const next of PATH_TO[status]) record = await service.update(record.id, { status: next });
  expect(record.status).toBe(status);
  return record;
}

describe("create and get", () => {
  test("create returns the record with server fields; get returns the same record", async () => {
    const { service } = await fresh();
    const input = {
      reference: "RAP-2026/03.001_a",
      origin: "LYON-01",
      destination: "PARIS-02",
      lines: [
        { sku: "SKU-B", quantity: 2, unit: "carton" },
        { sku: "SKU-A", quantity: 1.5 },
        { sku: "SKU-C", quantity: 10, unit: "kg" },
      ],
      requestedAt: "2026-03-01T08:00:00Z",
      expectedAt: "2026-03-03T08:00:00Z",
      comment: "Retour de stock",
    };

    const created = await service.create(input);

    expect(created).toMatchObject({ ...input, status: "draft", version: 1 });
    expect(typeof created.id).toBe("string");
    expect(created.id.length).toBeGreaterThan(0);
    expect(created.createdAt).toMatch(ISO);
    expect(created.updatedAt).toBe(created.createdAt);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    // Lines keep their order; a line without unit has no unit.
    expect(created.lines).toEqual(input.lines);
    expect(created.lines[1]).not.toHaveProperty("unit");

    const got = await service.get(created.id);
    expect(got).toEqual(created);
  });

  test("status defaults to draft and optional fields stay absent", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    expect(created.status).toBe("draft");
    expect(created).not.toHaveProperty("comment");
    expect(created).not.toHaveProperty("requestedAt");
    expect(created).not.toHaveProperty("expectedAt");
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a new engine on the same bucket reads what another stored", async () => {
    const target = await newTarget("sqlite");
    const first = await newEngine(target);
    const created = await first.service.create(sampleInput(1));
    const second = await newEngine(target);
    expect(await second.service.get(created.id)).toEqual(created);
  });

  test("each create gets its own id", async () => {
    const { service } = await fresh();
    const a = await service.create(sampleInput(1));
    const b = await service.create(sampleInput(2));
    expect(a.id).not.toBe(b.id);
    expect(await service.get(a.id)).toEqual(a);
    expect(await service.get(b.id)).toEqual(b);
  });

  test("get of an unknown id is 404 NOT_FOUND", async () => {
    const { service } = await fresh();
    await expect(service.get("no-such-id")).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
    await service.create(sampleInput(1));
    await expect(service.get("no-such-id")).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
  });
});

describe("create validation", () => {
  const base = sampleInput(1);

  const cases: [string, unknown, unknown[]][] = [
    ["missing reference", without(base, "reference"), [fieldError("reference", "is required")]],
    ["missing origin", without(base, "origin"), [fieldError("origin", "is required")]],
    [
      "missing destination",
      without(base, "destination"),
      [fieldError("destination", "is required")],
    ],
    ["missing lines", without(base, "lines"), [fieldError("lines", "is required")]],
    [
      "every required field missing",
      {},
      [
        fieldError("reference", "is required"),
        fieldError("origin", "is required"),
        fieldError("destination", "is required"),
        fieldError("lines", "is required"),
      ],
    ],
    [
      "line without sku or quantity",
      { ...base, lines: [{ unit: "kg" }] },
      [fieldError("lines[0].sku", "is required"), fieldError("lines[0].quantity", "is required")],
    ],
    ["reference not a string", { ...base, reference: 42 }, [fieldError("reference")]],
    ["origin not a string", { ...base, origin: 7 }, [fieldError("origin")]],
    ["lines not an array", { ...base, lines: "SKU-1 x3" }, [fieldError("lines")]],
    ["line not an object", { ...base, lines: ["SKU-1"] }, [fieldError("lines[0]")]],
    [
      "quantity as a string",
      { ...base, lines: [{ sku: "A", quantity: "3" }] },
      [fieldError("lines[0].quantity")],
    ],
    ["unknown status", { ...base, status: "shipped" }, [fieldError("status")]],
    ["comment not a string", { ...base, comment: 5 }, [fieldError("comment")]],
    [
      "requestedAt not a date-time",
      { ...base, requestedAt: "demain" },
      [fieldError("requestedAt")],
    ],
    ["unknown field", { ...base, colour: "red" }, [fieldError("colour", "unknown field")]],
    [
      "unknown field in a line",
      {
        ...base,
        lines: [
          { sku: "A", quantity: 1 },
          { sku: "B", quantity: 1, colour: "red" },
        ],
      },
      [fieldError("lines[1].colour", "unknown field")],
    ],
    [
      "unknown field in the first line",
      { ...base, lines: [{ sku: "A", quantity: 1, colour: "red" }] },
      [fieldError("lines[0].colour", "unknown field")],
    ],
    [
      "server-managed fields sent by the client",
      { ...base, id: "x", version: 3 },
      [
        fieldError("id", "is read-only: the server sets it"),
        fieldError("version", "is read-only: the server sets it"),
      ],
    ],
    [
      "who made the change, sent by the client",
      { ...base, createdBy: "someone-else", updatedBy: null },
      [
        fieldError(
          "createdBy",
          "is read-only: the server takes it from the caller's authenticated identity",
        ),
        fieldError(
          "updatedBy",
          "is read-only: the server takes it from the caller's authenticated identity",
        ),
      ],
    ],
    [
      "origin equal to destination",
      { ...base, destination: base.origin },
      [fieldError("destination")],
    ],
    [
      "expectedAt before requestedAt",
      { ...base, requestedAt: "2026-03-02T08:00:00Z", expectedAt: "2026-03-01T08:00:00Z" },
      [fieldError("expectedAt")],
    ],
    ["no line", { ...base, lines: [] }, [fieldError("lines")]],
    ["501 lines", { ...base, lines: lines(501) }, [fieldError("lines")]],
    [
      "quantity 0",
      { ...base, lines: [{ sku: "A", quantity: 0 }] },
      [fieldError("lines[0].quantity")],
    ],
    [
      "negative quantity",
      {
        ...base,
        lines: [
          { sku: "A", quantity: 1 },
          { sku: "B", quantity: -2 },
        ],
      },
      [fieldError("lines[1].quantity")],
    ],
    ["empty sku", { ...base, lines: [{ sku: "", quantity: 1 }] }, [fieldError("lines[0].sku")]],
    ["reference with a space", { ...base, reference: "RAP 1" }, [fieldError("reference")]],
    [
      "reference of 65 characters",
      { ...base, reference: "R".repeat(65) },
      [fieldError("reference")],
    ],
    ["empty reference", { ...base, reference: "" }, [fieldError("reference")]],
    ["empty origin", { ...base, origin: "" }, [fieldError("origin")]],
    ["origin of 65 characters", { ...base, origin: "O".repeat(65) }, [fieldError("origin")]],
    ["comment of 2001 characters", { ...base, comment: "c".repeat(2001) }, [fieldError("comment")]],
  ];

  test.each(cases)("%s is refused and nothing is stored", async (_name, body, errors) => {
    const { service } = await fresh();
    await expect(service.create(body)).rejects.toMatchObject(validationFailed(...errors));
    expect(await stored(service)).toEqual([]);
  });

  test.each([
    ["null", null],
    ["an array", [sampleInput(1)]],
    ["a string", JSON.stringify(sampleInput(1))],
    ["a number", 42],
  ])("a body that is %s is refused and nothing is stored", async (_name, body) => {
    const { service } = await fresh();
    const error = await service.create(body).catch((e: unknown) => e);
    expect(error).toMatchObject(validationFailed(fieldError("")));
    expect(await stored(service)).toEqual([]);
  });

  test("several bad fields are all listed, each with its path", async () => {
    const { service } = await fresh();
    const body = {
      reference: "RAP 1",
      origin: "LYON-01",
      destination: "LYON-01",
      lines: [
        { sku: "A", quantity: 0 },
        { sku: "B", quantity: 2, colour: "red" },
      ],
      status: "lost",
      requestedAt: "2026-03-02T08:00:00Z",
      expectedAt: "2026-03-01T08:00:00Z",
      comment: "c".repeat(2001),
      priority: "high",
    };
    const error = await service.create(body).catch((e: unknown) => e);
    expect(error).toMatchObject(
      validationFailed(
        fieldError("reference"),
        fieldError("destination"),
        fieldError("lines[0].quantity"),
        fieldError("lines[1].colour", "unknown field"),
        fieldError("status"),
        fieldError("expectedAt"),
        fieldError("comment"),
        fieldError("priority", "unknown field"),
      ),
    );
    const paths = (error as { errors: { path: string }[] }).errors.map((e) => e.path);
    expect(new Set(paths)).toEqual(
      new Set([
        "reference",
        "destination",
        "lines[0].quantity",
        "lines[1].colour",
        "status",
        "expectedAt",
        "comment",
        "priority",
      ]),
    );
    expect(await stored(service)).toEqual([]);
  });

  test("limits that are allowed: 500 lines, 64-character reference, 2000-character comment", async () => {
    const { service } = await fresh();
    const created = await service.create({
      ...sampleInput(1),
      reference: "R".repeat(64),
      lines: lines(500),
      comment: "c".repeat(2000),
    });
    expect(created.lines).toHaveLength(500);
    expect(created.lines.map((l) => l.sku)).toEqual(lines(500).map((l) => l.sku));
    expect(await service.get(created.id)).toEqual(created);
  });

  test("expectedAt equal to requestedAt is accepted", async () => {
    const { service } = await fresh();
    const at = "2026-03-01T08:00:00Z";
    const created = await service.create({ ...sampleInput(1), requestedAt: at, expectedAt: at });
    expect(created).toMatchObject({ requestedAt: at, expectedAt: at });
  });
});

describe("unique reference", () => {
  test("a second create with the same reference is 409 and nothing is stored twice", async () => {
    const { service } = await fresh();
    const first = await service.create(sampleInput(1));
    await expect(
      service.create(sampleInput(1, { origin: "NANTES-03", destination: "LILLE-04" })),
    ).rejects.toMatchObject({ status: 409, code: "DUPLICATE_REFERENCE" });
    expect(await stored(service)).toEqual([first]);
    expect((await service.list({ reference: "RAP-1" })).items).toHaveLength(1);
  });

  test("the reference is free again once its record is deleted", async () => {
    const { service } = await fresh();
    const first = await service.create(sampleInput(1));
    await service.delete(first.id);
    const second = await service.create(sampleInput(1));
    expect(second.id).not.toBe(first.id);
    expect(await stored(service)).toEqual([second]);
  });
});

describe("idempotency key", () => {
  test("same key and same body returns the identical record and stores one", async () => {
    const { service } = await fresh();
    const body = sampleInput(1, { comment: "c" });
    const first = await service.create(body, { idempotencyKey: "key-1" });
    const again = await service.create(body, { idempotencyKey: "key-1" });
    expect(again).toEqual(first);
    expect(await stored(service)).toEqual([first]);
  });

  test("same key and same body with keys in another order is the same request", async () => {
    const { service } = await fresh();
    const first = await service.create(
      {
        reference: "RAP-1",
        origin: "LYON-01",
        destination: "PARIS-02",
        lines: [{ sku: "A", quantity: 1, unit: "kg" }],
        comment: "c",
      },
      { idempotencyKey: "key-1" },
    );
    const again = await service.create(
      {
        comment: "c",
        lines: [{ unit: "kg", quantity: 1, sku: "A" }],
        destination: "PARIS-02",
        origin: "LYON-01",
        reference: "RAP-1",
      },
      { idempotencyKey: "key-1" },
    );
    expect(again).toEqual(first);
    expect(await stored(service)).toHaveLength(1);
  });

  test("same key with another body is 422 and stores nothing more", async () => {
    const { service } = await fresh();
    const first = await service.create(sampleInput(1), { idempotencyKey: "key-1" });
    await expect(service.create(sampleInput(2), { idempotencyKey: "key-1" })).rejects.toMatchObject(
      { status: 422, code: "IDEMPOTENCY_KEY_REUSED" },
    );
    await expect(
      service.create(sampleInput(1, { comment: "other" }), { idempotencyKey: "key-1" }),
    ).rejects.toMatchObject({ status: 422, code: "IDEMPOTENCY_KEY_REUSED" });
    expect(await stored(service)).toEqual([first]);
  });

  test("other keys are other requests: same body under a new key is a duplicate reference", async () => {
    const { service } = await fresh();
    await service.create(sampleInput(1), { idempotencyKey: "key-1" });
    await expect(service.create(sampleInput(1), { idempotencyKey: "key-2" })).rejects.toMatchObject(
      { status: 409, code: "DUPLICATE_REFERENCE" },
    );
    expect(await stored(service)).toHaveLength(1);
  });
});

describe("list", () => {
  test("an empty store lists nothing", async () => {
    const { service } = await fresh();
    expect(await service.list({})).toEqual({ items: [], nextCursor: null });
  });

  test("newest first", async () => {
    const { service } = await fresh();
    const created: Rapatriement[] = [];
    for (let n = 1; n <= 4; n++) created.push(await service.create(sampleInput(n)));
    const page = await service.list({});
    expect(page.items).toEqual([...created].reverse());
    expect(page.nextCursor).toBeNull();
  });

  test("filters by status (comma list), origin, destination and reference", async () => {
    const { service } = await fresh();
    const draft = await service.create(sampleInput(1));
    const requested = await createIn(service, 2, "requested");
    const inTransit = await createIn(service, 3, "in_transit");
    const cancelled = await createIn(service, 4, "cancelled");
    const fromNantes = await service.create(
      sampleInput(5, { origin: "NANTES-03", destination: "LILLE-04" }),
    );

    const ids = async (query: Record<string, string>) =>
      (await service.list(query)).items.map((r) => r.id);

    expect(await ids({ status: "draft,requested" })).toEqual([
      fromNantes.id,
      requested.id,
      draft.id,
    ]);
    expect(await ids({ status: "in_transit" })).toEqual([inTransit.id]);
    expect(await ids({ status: "cancelled,in_transit" })).toEqual([cancelled.id, inTransit.id]);
    expect(await ids({ status: "received" })).toEqual([]);
    expect(await ids({ origin: "NANTES-03" })).toEqual([fromNantes.id]);
    expect(await ids({ destination: "PARIS-02" })).toEqual([
      cancelled.id,
      inTransit.id,
      requested.id,
      draft.id,
    ]);
    expect(await ids({ destination: "LILLE-04", status: "requested" })).toEqual([]);
    expect(await ids({ reference: "RAP-3" })).toEqual([inTransit.id]);
    expect(await ids({ reference: "RAP-404" })).toEqual([]);
    expect(await ids({ origin: "LYON-01", status: "draft" })).toEqual([draft.id]);
  });

  test("an unknown status in the filter is refused", async () => {
    const { service } = await fresh();
    await expect(service.list({ status: "draft,shipped" })).rejects.toMatchObject(
      validationFailed(fieldError("status")),
    );
  });

  test("limit and nextCursor reach every record exactly once, newest first", async () => {
    const { service } = await fresh();
    const created: Rapatriement[] = [];
    for (let n = 1; n <= 7; n++) created.push(await service.create(sampleInput(n)));

    const seen: Rapatriement[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { limit: "3" };
      if (cursor !== null) query.cursor = cursor;
      const page = await service.list(query);
      seen.push(...page.items);
      sizes.push(page.items.length);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);

    expect(cursor).toBeNull();
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...created].reverse());
    expect(new Set(seen.map((r) => r.id)).size).toBe(7);
  });

  test("a page that ends exactly at the last record has no nextCursor", async () => {
    const { service } = await fresh();
    for (let n = 1; n <= 4; n++) await service.create(sampleInput(n));
    const first = await service.list({ limit: "2" });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await service.list({ limit: "2", cursor: first.nextCursor ?? "" });
    expect(second.items).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const all = await service.list({ limit: "4" });
    expect(all.items).toHaveLength(4);
    expect(all.nextCursor).toBeNull();
  });

  test("pagination with a filter reaches every matching record exactly once", async () => {
    const { service } = await fresh();
    const requested: string[] = [];
    for (let n = 1; n <= 6; n++) {
      if (n % 2 === 0) requested.push((await createIn(service, n, "requested")).id);
      else await service.create(sampleInput(n));
    }
    const first = await service.list({ status: "requested", limit: "2" });
    expect(first.nextCursor).not.toBeNull();
    const second = await service.list({
      status: "requested",
      limit: "2",
      cursor: first.nextCursor ?? "",
    });
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((r) => r.id)).toEqual([...requested].reverse());
  });

  test("a record created between pages does not show up twice nor shift later pages", async () => {
    const { service } = await fresh();
    const created: Rapatriement[] = [];
    for (let n = 1; n <= 4; n++) created.push(await service.create(sampleInput(n)));
    const first = await service.list({ limit: "2" });
    await service.create(sampleInput(5));
    const second = await service.list({ limit: "2", cursor: first.nextCursor ?? "" });
    expect([...first.items, ...second.items].map((r) => r.id)).toEqual(
      [...created].reverse().map((r) => r.id),
    );
    expect(second.nextCursor).toBeNull();
  });

  test.each(["sqlite", "json"] as const)(
    "with STORAGE_STRATEGY=%s, a cursor never lets in a record created after its page, whatever was deleted or imported",
    async (strategy) => {
      const { service } = await newEngine(await newTarget(strategy));
      const old = [];
      for (let n = 1; n <= 3; n++) old.push(await service.create(sampleInput(n)));
      const first = await service.list({ limit: "2" });
      expect(first.items.map((r) => r.reference)).toEqual(["RAP-3", "RAP-2"]);
      const cursor = first.nextCursor ?? "";

      // Every record at or after the cursor's position goes, then one is created.
      for (const record of old) await service.delete(record.id);
      await service.create(sampleInput("after-deletes"));
      expect((await service.list({ limit: "2", cursor })).items).toEqual([]);

      // An import that replaces everything does not reuse positions either.
      await service.import([sampleInput("imported-1"), sampleInput("imported-2")], {
        replace: true,
      });
      expect((await service.list({ limit: "2", cursor })).items).toEqual([]);
      const fresh = await service.list({ limit: "10" });
      expect(fresh.items.map((r) => r.reference)).toEqual(["RAP-imported-2", "RAP-imported-1"]);
    },
  );

  test.each([
    "garbage",
    "r1.",
    "r1.!!!",
    "r1.MA", // "0"
    "r1.LTE", // "-1"
    `r1.${"A".repeat(60)}`,
    "r2.MTIz", // another prefix before "123"
    "r1.!MTIz", // junk before "123"
    "r1.MTIz!", // junk after "123"
    "r1.MTIg", // "12 "
    "r1.MDEy", // "012"
    "r1.OTk5OTk5OTk5OTk5OTk5OQ", // 9999999999999999, beyond the safe integers
  ])("a malformed cursor %j is refused with path cursor", async (cursor) => {
    const { service } = await fresh();
    await service.create(sampleInput(1));
    await expect(service.list({ cursor })).rejects.toMatchObject(
      validationFailed(
        fieldError("cursor", "is not a cursor returned by this API (use nextCursor as given)"),
      ),
    );
  });

  test.each(["0", "101", "1000", "abc", "-1", "2.5", ""])(
    "limit %j is refused with path limit",
    async (limit) => {
      const { service } = await fresh();
      await expect(service.list({ limit })).rejects.toMatchObject(
        validationFailed(fieldError("limit")),
      );
    },
  );

  test("limit 1 and 100 are accepted; default page size is 20", async () => {
    const { service } = await fresh();
    for (let n = 1; n <= 21; n++) await service.create(sampleInput(n));
    const one = await service.list({ limit: "1" });
    expect(one.items).toHaveLength(1);
    expect(one.nextCursor).not.toBeNull();
    const hundred = await service.list({ limit: "100" });
    expect(hundred.items).toHaveLength(21);
    expect(hundred.nextCursor).toBeNull();
    const byDefault = await service.list({});
    expect(byDefault.items).toHaveLength(20);
    expect(byDefault.nextCursor).not.toBeNull();
  });

  test("an unknown query parameter is refused", async () => {
    const { service } = await fresh();
    await expect(service.list({ sort: "asc" })).rejects.toMatchObject(
      validationFailed(fieldError("sort")),
    );
  });

  test("several bad parameters are all listed", async () => {
    const { service } = await fresh();
    await expect(
      service.list({ limit: "0", status: "nope", sort: "asc", origin: "" }),
    ).rejects.toMatchObject(
      validationFailed(
        fieldError("limit"),
        fieldError("status"),
        fieldError("sort"),
        fieldError("origin"),
      ),
    );
  });
});

describe("update", () => {
  test("a partial patch changes only the given fields, bumps version and updatedAt", async () => {
    const service = await freshWithClock();
    const created = await service.create(sampleInput(1, { comment: "avant" }));

    const updated = await service.update(created.id, {
      comment: "après",
      lines: [
        { sku: "X", quantity: 1 },
        { sku: "Y", quantity: 2, unit: "kg" },
      ],
    });

    expect(updated).toEqual({
      ...created,
      comment: "après",
      lines: [
        { sku: "X", quantity: 1 },
        { sku: "Y", quantity: 2, unit: "kg" },
      ],
      version: 2,
      updatedAt: updated.updatedAt,
    });
    expect(updated.updatedAt).toMatch(ISO);
    expect(updated.updatedAt).not.toBe(created.updatedAt);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(updated.createdAt).toBe(created.createdAt);
    expect(await service.get(created.id)).toEqual(updated);
  });

  test("each change adds one to the version", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    const v2 = await service.update(created.id, { comment: "a" });
    const v3 = await service.update(created.id, { origin: "NANTES-03" });
    expect([created.version, v2.version, v3.version]).toEqual([1, 2, 3]);
    expect(await service.get(created.id)).toMatchObject({
      comment: "a",
      origin: "NANTES-03",
      version: 3,
    });
  });

  test("the right expectedVersion is accepted; a stale one is 412 and changes nothing", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    const v2 = await service.update(created.id, { comment: "a" }, { expectedVersion: 1 });
    expect(v2.version).toBe(2);

    await expect(
      service.update(created.id, { comment: "b" }, { expectedVersion: 1 }),
    ).rejects.toMatchObject({ status: 412, code: "VERSION_MISMATCH" });
    await expect(
      service.update(created.id, { comment: "b" }, { expectedVersion: 3 }),
    ).rejects.toMatchObject({ status: 412, code: "VERSION_MISMATCH" });
    expect(await service.get(created.id)).toEqual(v2);
  });

  test("status path draft → requested → in_transit → received", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    const requested = await service.update(created.id, { status: "requested" });
    const inTransit = await service.update(created.id, { status: "in_transit" });
    const received = await service.update(created.id, { status: "received" });
    expect([requested, inTransit, received].map((r) => [r.status, r.version])).toEqual([
      ["requested", 2],
      ["in_transit", 3],
      ["received", 4],
    ]);
    expect(await service.get(created.id)).toEqual(received);
  });

  test.each([
    ["draft", "cancelled"],
    ["requested", "cancelled"],
  ] as const)("%s → %s is allowed", async (from, to) => {
    const { service } = await fresh();
    const record = await createIn(service, 1, from);
    const updated = await service.update(record.id, { status: to });
    expect(updated).toMatchObject({ status: to, version: record.version + 1 });
  });

  test.each([
    ["draft", "received"],
    ["draft", "in_transit"],
    ["requested", "draft"],
    ["requested", "received"],
    ["in_transit", "draft"],
    ["in_transit", "requested"],
    ["in_transit", "cancelled"],
  ] as const)("%s → %s is a forbidden transition (409) and changes nothing", async (from, to) => {
    const { service } = await fresh();
    const record = await createIn(service, 1, from);
    await expect(service.update(record.id, { status: to })).rejects.toMatchObject({
      status: 409,
      code: "FORBIDDEN_TRANSITION",
    });
    expect(await service.get(record.id)).toEqual(record);
  });

  test.each([
    ["received", { comment: "trop tard" }],
    ["received", { status: "cancelled" }],
    ["received", { lines: [{ sku: "A", quantity: 1 }] }],
    ["cancelled", { comment: "trop tard" }],
    ["cancelled", { status: "draft" }],
    ["cancelled", { status: "requested" }],
  ] as const)("a %s record cannot change: %j is 409", async (status, patch) => {
    const { service } = await fresh();
    const record = await createIn(service, 1, status);
    await expect(service.update(record.id, patch)).rejects.toMatchObject({
      status: 409,
      code: "FORBIDDEN_TRANSITION",
    });
    expect(await service.get(record.id)).toEqual(record);
  });

  test("an empty patch is 400", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    await expect(service.update(created.id, {})).rejects.toMatchObject({
      status: 400,
      code: "VALIDATION_FAILED",
    });
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a patch that is not an object is 400", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    for (const patch of [null, [], "comment"]) {
      await expect(service.update(created.id, patch)).rejects.toMatchObject({
        status: 400,
        code: "VALIDATION_FAILED",
      });
    }
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a patch with unknown or server-managed fields is 400, every one listed", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    await expect(
      service.update(created.id, { colour: "red", version: 5, id: "x", comment: "ok" }),
    ).rejects.toMatchObject(
      validationFailed(
        fieldError("colour", "unknown field"),
        fieldError("version", "is read-only: the server sets it"),
        fieldError("id", "is read-only: the server sets it"),
      ),
    );
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a patch with bad values lists every bad field", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    await expect(
      service.update(created.id, {
        reference: "RAP 1",
        lines: [{ sku: "A", quantity: -1 }],
        status: "lost",
        comment: "c".repeat(2001),
      }),
    ).rejects.toMatchObject(
      validationFailed(
        fieldError("reference"),
        fieldError("lines[0].quantity"),
        fieldError("status"),
        fieldError("comment"),
      ),
    );
    await expect(service.update(created.id, { lines: [] })).rejects.toMatchObject(
      validationFailed(fieldError("lines")),
    );
    expect(await service.get(created.id)).toEqual(created);
  });

  test("null clears the comment", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1, { comment: "à effacer" }));
    const updated = await service.update(created.id, { comment: null });
    expect(updated).not.toHaveProperty("comment");
    expect(updated.version).toBe(2);
    const got = await service.get(created.id);
    expect(got).not.toHaveProperty("comment");
    expect(got).toEqual(updated);
  });

  test("null clears requestedAt and expectedAt", async () => {
    const { service } = await fresh();
    const created = await service.create(
      sampleInput(1, { requestedAt: "2026-03-01T08:00:00Z", expectedAt: "2026-03-02T08:00:00Z" }),
    );
    const updated = await service.update(created.id, { requestedAt: null, expectedAt: null });
    expect(updated).not.toHaveProperty("requestedAt");
    expect(updated).not.toHaveProperty("expectedAt");
    expect(await service.get(created.id)).toEqual(updated);
  });

  test("a patch making origin equal to destination is 400 and changes nothing", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    await expect(service.update(created.id, { origin: created.destination })).rejects.toMatchObject(
      validationFailed(fieldError("destination")),
    );
    await expect(service.update(created.id, { destination: created.origin })).rejects.toMatchObject(
      validationFailed(fieldError("destination")),
    );
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a patch putting expectedAt before the stored requestedAt is 400", async () => {
    const { service } = await fresh();
    const created = await service.create(
      sampleInput(1, { requestedAt: "2026-03-02T08:00:00Z", expectedAt: "2026-03-03T08:00:00Z" }),
    );
    await expect(
      service.update(created.id, { expectedAt: "2026-03-01T08:00:00Z" }),
    ).rejects.toMatchObject(validationFailed(fieldError("expectedAt")));
    await expect(
      service.update(created.id, { requestedAt: "2026-03-04T08:00:00Z" }),
    ).rejects.toMatchObject(validationFailed(fieldError("expectedAt")));
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a patch to another record's reference is 409 and changes nothing", async () => {
    const { service } = await fresh();
    const a = await service.create(sampleInput(1));
    const b = await service.create(sampleInput(2));
    await expect(service.update(b.id, { reference: a.reference })).rejects.toMatchObject({
      status: 409,
      code: "DUPLICATE_REFERENCE",
    });
    expect(await service.get(b.id)).toEqual(b);
    expect((await service.list({ reference: a.reference })).items).toEqual([a]);
  });

  test("a record may keep its own reference and take a free one", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    const renamed = await service.update(created.id, { reference: "RAP-NEW" });
    expect(renamed).toMatchObject({ reference: "RAP-NEW", version: 2 });
    expect((await service.list({ reference: "RAP-1" })).items).toEqual([]);
    expect((await service.list({ reference: "RAP-NEW" })).items).toEqual([renamed]);
  });

  test("a patch that changes nothing returns the record with the same version", async () => {
    const service = await freshWithClock();
    const created = await service.create(sampleInput(1, { comment: "same" }));
    const same = await service.update(created.id, {
      comment: "same",
      status: "draft",
      reference: created.reference,
      lines: created.lines,
    });
    expect(same).toEqual(created);
    const absent = await service.update(created.id, { requestedAt: null });
    expect(absent).toEqual(created);
    expect(await service.get(created.id)).toEqual(created);
  });

  test("a field given as undefined is left as it is; only null clears it", async () => {
    // A caller in code may spread optional values; JSON never holds undefined.
    const { service } = await fresh();
    const created = await service.create(sampleInput(1, { comment: "kept" }));
    const changed = await service.update(created.id, { comment: undefined, origin: "NANTES-03" });
    expect(changed).toMatchObject({ comment: "kept", origin: "NANTES-03", version: 2 });
    expect(await service.get(created.id)).toEqual(changed);
  });

  test("each refusal says why, in words the caller can act on", async () => {
    const { service } = await fresh();
    const draft = await service.create(sampleInput(1));
    await service.create(sampleInput(2));
    const received = await createIn(service, 3, "received");

    await expect(service.update(draft.id, { status: "received" })).rejects.toMatchObject({
      status: 409,
      code: "FORBIDDEN_TRANSITION",
      message: "A draft rapatriement cannot become received; allowed: requested, cancelled.",
    });
    await expect(service.update(received.id, { comment: "late" })).rejects.toMatchObject({
      status: 409,
      code: "FORBIDDEN_TRANSITION",
      message: "The rapatriement is received; a received rapatriement cannot change.",
    });
    await expect(service.update(draft.id, { reference: "RAP-2" })).rejects.toMatchObject({
      status: 409,
      code: "DUPLICATE_REFERENCE",
      message: 'A rapatriement with reference "RAP-2" already exists.',
    });
    await service.update(draft.id, { comment: "v2" });
    await expect(
      service.update(draft.id, { comment: "v3" }, { expectedVersion: 1 }),
    ).rejects.toMatchObject({
      status: 412,
      code: "VERSION_MISMATCH",
      message: "The rapatriement is at version 2, not 1; reload it and retry.",
    });
    expect(await service.get(draft.id)).toMatchObject({ comment: "v2", version: 2 });
  });

  test("update of an unknown id is 404", async () => {
    const { service } = await fresh();
    await service.create(sampleInput(1));
    await expect(service.update("no-such-id", { comment: "x" })).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
  });
});

describe("delete", () => {
  test("says which version it deleted; then get is 404 and list no longer shows it", async () => {
    const { service } = await fresh();
    const keep = await service.create(sampleInput(1));
    const created = await service.create(sampleInput(2, { comment: "x" }));
    const deleted = await service.delete(created.id);
    expect(deleted).toMatchObject({ action: "delete", id: created.id, version: 1 });
    await expect(service.get(created.id)).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
    expect(await stored(service)).toEqual([keep]);
  });

  test("the right expectedVersion is accepted; a stale one is 412 and the record stays", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    const v2 = await service.update(created.id, { comment: "a" });
    await expect(service.delete(created.id, { expectedVersion: 1 })).rejects.toMatchObject({
      status: 412,
      code: "VERSION_MISMATCH",
    });
    expect(await service.get(created.id)).toEqual(v2);
    expect(await service.delete(created.id, { expectedVersion: 2 })).toMatchObject({
      id: v2.id,
      version: 2,
    });
    await expect(service.get(created.id)).rejects.toMatchObject({ status: 404 });
  });

  test("delete of an unknown id is 404", async () => {
    const { service } = await fresh();
    await expect(service.delete("no-such-id")).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
    const created = await service.create(sampleInput(1));
    await service.delete(created.id);
    await expect(service.delete(created.id)).rejects.toMatchObject({
      status: 404,
      code: "NOT_FOUND",
    });
  });
});

describe("input errors reject the returned promise", () => {
  // Callers chain .catch() or use Promise.allSettled over many operations (a
  // batch of commands): a bad input must reject the promise, not throw first.
  test("create with an invalid body", async () => {
    const { service } = await fresh();
    await expect(returnedPromise(() => service.create({}))).rejects.toMatchObject(
      validationFailed(fieldError("reference", "is required")),
    );
  });

  test("update with an empty patch", async () => {
    const { service } = await fresh();
    const created = await service.create(sampleInput(1));
    await expect(returnedPromise(() => service.update(created.id, {}))).rejects.toMatchObject({
      status: 400,
      code: "VALIDATION_FAILED",
    });
  });

  test("list with a bad limit", async () => {
    const { service } = await fresh();
    await expect(returnedPromise(() => service.list({ limit: "0" }))).rejects.toMatchObject(
      validationFailed(fieldError("limit")),
    );
  });

  test("list with a malformed cursor", async () => {
    const { service } = await fresh();
    await expect(returnedPromise(() => service.list({ cursor: "garbage" }))).rejects.toMatchObject(
      validationFailed(fieldError("cursor")),
    );
  });

  test("Promise.allSettled over creates reports the bad one alone", async () => {
    const { service } = await fresh();
    const results = await Promise.allSettled(
      [sampleInput(1), { reference: "RAP 2" }, sampleInput(3)].map((body) =>
        returnedPromise(() => service.create(body)),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await stored(service)).map((r) => r.reference).sort()).toEqual(["RAP-1", "RAP-3"]);
  });
});

describe("a write's Idempotency-Key and expectedVersion", () => {
  test("a key of 1 to 255 printable ASCII characters is taken; any other is 400 and nothing is stored", async () => {
    const { service } = await fresh();
    const taken = ["k", "x".repeat(255), "!~", "order/2026-03-01#7"];
    for (const [n, key] of taken.entries()) {
      expect(await service.create(sampleInput(n), { idempotencyKey: key })).toMatchObject({
        reference: `RAP-${n}`,
      });
    }
    const refused = ["", "x".repeat(256), "two words", "clé", " lead", "trail ", "del\x7f"];
    for (const key of refused) {
      await expect(
        service.create(sampleInput("refused"), { idempotencyKey: key }),
        JSON.stringify(key),
      ).rejects.toMatchObject({
        status: 400,
        code: "VALIDATION_FAILED",
        errors: [
          { path: "Idempotency-Key", message: "must be 1 to 255 printable ASCII characters" },
        ],
      });
    }
    const [first] = await stored(service);
    await expect(service.delete(first?.id, { idempotencyKey: "tab\tkey" })).rejects.toMatchObject({
      status: 400,
    });
    expect(await stored(service)).toHaveLength(taken.length);
  });

  test("an expectedVersion that is not an integer >= 1 is 400 and changes nothing", async () => {
    const { service } = await fresh();
    const record = await service.create(sampleInput(1));
    const refusal = {
      status: 400,
      code: "VALIDATION_FAILED",
      errors: [{ path: "expectedVersion", message: "must be an integer >= 1" }],
    };
    for (const expectedVersion of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      await expect(
        service.update(record.id, { comment: "x" }, { expectedVersion }),
        String(expectedVersion),
      ).rejects.toMatchObject(refusal);
      await expect(
        service.delete(record.id, { expectedVersion }),
        String(expectedVersion),
      ).rejects.toMatchObject(refusal);
    }
    expect(await service.get(record.id)).toEqual(record);
  });
});

describe("import", () => {
  const dates = { createdAt: "2026-03-01T08:00:00.000Z", updatedAt: "2026-03-05T09:30:00.000Z" };

  test("keeps each record's id, dates, version and authors; fills in what the file does not say", async () => {
    const service = await freshWithClock();
    const authors = { createdBy: "alice", updatedBy: "bob" };
    const result = await service.import([
      { id: "rap-a", ...sampleInput("a"), ...dates, version: 4, ...authors },
      { id: "rap-b", ...sampleInput("b"), createdAt: dates.createdAt },
      sampleInput("c"),
    ]);

    expect(result).toEqual({ imported: 3, replaced: 0 });
    const [a, b, c] = await service.listAll();
    expect(a).toEqual({
      id: "rap-a",
      ...sampleInput("a"),
      status: "draft",
      ...dates,
      version: 4,
      ...authors,
    });
    // No updatedAt: the record was last changed when it was created.
    expect(b).toEqual({
      id: "rap-b",
      ...sampleInput("b"),
      status: "draft",
      createdAt: dates.createdAt,
      updatedAt: dates.createdAt,
      version: 1,
      createdBy: null,
      updatedBy: null,
    });
    // No id nor dates: a new id, and the time of the import.
    expect(c).toMatchObject({ ...sampleInput("c"), version: 1, createdBy: null, updatedBy: null });
    expect(c?.id).not.toMatch(/^rap-/);
    expect(c?.createdAt).toMatch(/^2026-03-01T08:00:0\d\.000Z$/);
    expect(c?.updatedAt).toBe(c?.createdAt);
  });

  test("a file with an invalid record is refused whole, each error under the record's place", async () => {
    const { service } = await fresh();
    const kept = await service.create(sampleInput("kept"));
    await expect(
      service.import([sampleInput(0), sampleInput(1, { lines: [] }), 5, sampleInput(3)], {
        replace: true,
      }),
    ).rejects.toMatchObject({
      status: 400,
      code: "VALIDATION_FAILED",
      message: "The file holds invalid records.",
      errors: [
        { path: "[1].lines", message: "must hold at least 1 line" },
        { path: "[2]", message: "must be an object" },
      ],
    });
    expect(await service.listAll()).toEqual([kept]);
  });

  test("an id or a reference repeated in the file is refused, naming both places", async () => {
    const { service } = await fresh();
    const raws = [
      { id: "rap-1", ...sampleInput(1) },
      "not a record",
      { id: "rap-1", ...sampleInput(2) },
      sampleInput(1),
      sampleInput(4),
      sampleInput(5),
      { id: "rap-1", ...sampleInput(1) },
    ];
    await expect(service.import(raws)).rejects.toMatchObject({
      status: 400,
      errors: [
        { path: "[1]", message: "must be an object" },
        { path: "[2].id", message: "repeats [0].id" },
        { path: "[3].reference", message: "repeats [0].reference" },
        { path: "[6].id", message: "repeats [0].id" },
        { path: "[6].reference", message: "repeats [0].reference" },
      ],
    });
    expect(await service.listAll()).toEqual([]);
  });
});
