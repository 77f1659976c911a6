/**
 * The SQL repository's own promises, through the service and the real local
 * S3 server: where a list ends, what an empty filter means, how many records
 * there are, and that a caller's name (personal data) goes with the last
 * record that names it.
 */
import { describe, expect, test } from "vitest";
import * as repository from "../../../lambda/rapatriements/repository.ts";
import {
  getBytes,
  newClockedEngine,
  newEngine,
  newTarget,
  pastEventsWindow,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const ZOE = "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/zoe-personne";

describe("lists and counts", () => {
  test("the last page names no next position; an empty status list filters nothing", async () => {
    const { service, store } = await newEngine(await newTarget("sqlite"));
    for (const n of [1, 2]) await service.create(sampleInput(n));

    const page = await service.list({ limit: "5" });
    expect(page.items.map((r) => r.reference)).toEqual(["RAP-2", "RAP-1"]);
    expect(page.nextCursor).toBeNull();
    const unfiltered = await store.read((db) => repository.list(db, { statuses: [] }, 5));
    expect(unfiltered.items).toHaveLength(2);
    expect(unfiltered.nextSeq).toBeUndefined();
  });

  test("an import into data that holds records is refused with their count, unless it replaces them", async () => {
    const target = await newTarget("sqlite");
    const { service, store } = await newEngine(target);
    for (const n of [1, 2, 3]) await service.create(sampleInput(n));

    await expect(service.import([sampleInput("new")])).rejects.toMatchObject({
      code: "IMPORT_REFUSED",
      existing: 3,
    });
    expect(await service.import([sampleInput("new")], { replace: true })).toEqual({
      imported: 1,
      replaced: 3,
    });
    expect(await store.read((db) => repository.count(db))).toBe(1);
  });

  test("records whose author is not known are counted", async () => {
    const { service, store } = await newEngine(await newTarget("sqlite"));
    await service.import([
      sampleInput("unknown-1"),
      { ...sampleInput("known"), createdBy: ZOE, updatedBy: ZOE },
      sampleInput("unknown-2"),
    ]);

    expect(await store.read((db) => repository.countWithoutAuthor(db))).toBe(2);
  });
});

describe("a caller's name is personal data", () => {
  test("deleting the last record that names a caller leaves the name nowhere in the object, once its events expire", async () => {
    const target = await newTarget("sqlite");
    const { service, clock } = await newClockedEngine(target);
    await service.create(sampleInput("kept"));
    const created = await service.create(sampleInput("gone"), { actor: ZOE });

    await service.delete(created.id);
    await pastEventsWindow(clock, service);

    const bytes = await getBytes(target);
    expect(await tableRows("sqlite", bytes, "SELECT name FROM actors")).toEqual([]);
    expect(Buffer.from(bytes).toString("latin1")).not.toContain("zoe-personne");
  });

  test("an import that replaces the data leaves no name of the old data, once its events expire", async () => {
    const target = await newTarget("sqlite");
    const { service, clock } = await newClockedEngine(target);
    await service.create(sampleInput("old"), { actor: ZOE });

    await service.import([sampleInput("new")], { replace: true });
    await pastEventsWindow(clock, service);

    const bytes = await getBytes(target);
    expect(await tableRows("sqlite", bytes, "SELECT name FROM actors")).toEqual([]);
    expect(Buffer.from(bytes).toString("latin1")).not.toContain("zoe-personne");
  });
});
