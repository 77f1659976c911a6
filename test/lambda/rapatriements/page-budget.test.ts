/**
 * A page's byte budget at its edge: a page that fills it to the byte keeps
 * every record, one byte less ends the page a record earlier, and a page
 * always moves forward by at least one record. (Whole pages near Lambda's
 * 6 MB limit go through the real S3 API in service.test.ts.)
 */
import { describe, expect, test } from "vitest";
import { fittingCount, payloadBytes } from "../../../lambda/rapatriements/page-budget.ts";

const records = [
  { id: "a", comment: 'une "citation" et un \\ retour' },
  { id: "b", comment: "Entrepôt de Lyon — quai 3" },
  { id: "c", comment: "x".repeat(40) },
];

describe("a page's byte budget", () => {
  test("an item costs the bytes of its JSON escaped once more inside the body string, plus its comma", () => {
    // {"id":"a"} → "{\"id\":\"a\"}" inside the body: 4 escaping backslashes; minus the outer quotes, plus the comma.
    expect(payloadBytes({ id: "a" })).toBe(10 + 4 + 1);
    // UTF-8 bytes, not characters: "é" is two.
    expect(payloadBytes({ id: "é" })).toBe(payloadBytes({ id: "e" }) + 1);
  });

  test("records that fill the budget to the byte all fit; one byte less leaves the last one for the next page", () => {
    const total = records.reduce((sum, record) => sum + payloadBytes(record), 0);
    expect(fittingCount(records, total)).toBe(3);
    expect(fittingCount(records, total - 1)).toBe(2);
    expect(fittingCount(records, total + 1000)).toBe(3);
  });

  test("a page holds at least one record, even one larger than the budget, and none when there are none", () => {
    expect(fittingCount(records, 1)).toBe(1);
    expect(fittingCount([], 1)).toBe(0);
  });
});
