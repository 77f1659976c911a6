/**
 * The SQLite codec's saves: the object stays the size of its live data, and a
 * few free pages are kept for the next writes rather than compacted away on
 * every save. Through the real S3 API of the local server.
 */
import { expect, test } from "vitest";
import { OUTBOX_WINDOW_MS } from "../../../lambda/rapatriements/outbox.ts";
import {
  getBytes,
  newClockedEngine,
  newTarget,
  sampleInput,
  tableRows,
} from "../../support/local-s3.ts";

const COMMENT = "c".repeat(2_000);

/** The object's page count and free pages, as SQLite reads them. */
async function pages(bytes: Uint8Array) {
  const [[pageCount, free]] = (await tableRows(
    "sqlite",
    bytes,
    "SELECT page_count, freelist_count FROM pragma_page_count(), pragma_freelist_count()",
  )) as [[number, number]];
  return { pageCount, free };
}

test("free pages are kept while they are few, and given back once they are an eighth of the file", async () => {
  const target = await newTarget("sqlite");
  const { service, clock } = await newClockedEngine(target);
  // Each deletion comes after the events window of the one before: its
  // save forgets the event that held the record before (outbox.ts), so what
  // a deletion frees is the record's room alone.
  const deleteLater = async (id: string) => {
    clock.now += OUTBOX_WINDOW_MS + 60_000;
    await service.delete(id);
  };
  await service.import(
    Array.from({ length: 60 }, (_, n) => ({
      id: `r-${n}`,
      ...sampleInput(n, { comment: COMMENT }),
    })),
  );
  const full = await getBytes(target);

  // A few deletions: their pages stay free in the file, for the next records.
  for (let n = 0; n < 6; n++) await deleteLater(`r-${n}`);
  const few = await pages(await getBytes(target));
  expect(few.free).toBeGreaterThan(0);
  expect(few.free * 8).toBeLessThanOrEqual(few.pageCount);

  // Most deleted: the saves compact the file as its free pages pass an eighth.
  for (let n = 6; n < 55; n++) await deleteLater(`r-${n}`);
  const left = await getBytes(target);
  const after = await pages(left);
  expect(after.free * 8).toBeLessThanOrEqual(after.pageCount);
  // Never compacted, the file would stay the size it had at 60 records.
  expect(left.length).toBeLessThan(full.length / 2);
  expect(await service.listAll()).toHaveLength(5);
});
