/**
 * What Lambda itself imposes on an HTTP answer: at most 6 MB of response
 * payload. A list page at the documented maxima must stay under it, and the
 * pages must still give every record once.
 */
// @ts-nocheck

import { describe, expect, test } from "vitest";
import {
  LAMBDA_RESPONSE_LIMIT_BYTES,
  newHttpApi,
  responsePayloadBytes,
} from "../../support/http-api-events.ts";

/** A record at every documented maximum, its strings made of what JSON escapes twice. */
function maximalRecord(n: number) {
  const escaped = (length: number) => '"\\'.repeat(length / 2);
  return {
    reference: `MAX-${String(n).padStart(3, "0")}-${"X".repeat(56)}`,
    origin: `O${escaped(62)}${n % 10}`,
    destination: `D${escaped(62)}${n % 10}`,
    lines: Array.from({ length: 500 }, (_, i) => ({
      sku: `${escaped(58)}${String(i).padStart(6, "0")}`,
      quantity: 123456789.12345678,
      unit: escaped(32),
    })),
    status: "in_transit",
    requestedAt: "2026-03-01T08:00:00.000+01:00",
    expectedAt: "2026-03-04T17:00:00.000+01:00",
    comment: escaped(2000),
  };
}

describe("Lambda's 6 MB response limit", () => {
  test("100 records at the maxima come in pages that each stay under 6 MB, every record once", async () => {
    const api = await newHttpApi();
    const records = Array.from({ length: 100 }, (_, n) => maximalRecord(n));
    await api.service.import(records);

    const seen: string[] = [];
    const sizes: number[] = [];
    let query = "limit=100";
    for (let page = 0; page < 100; page += 1) {
      const { result, status, json } = await api.send({
        routeKey: "GET /rapatriements",
        rawPath: "/rapatriements",
        rawQueryString: query,
      });
      expect(status).toBe(200);
      sizes.push(responsePayloadBytes(result));
      const body = json as { items: { reference: string }[]; nextCursor: string | null };
      expect(body.items.length).toBeGreaterThan(0);
      seen.push(...body.items.map((item) => item.reference));
      if (body.nextCursor === null) break;
      query = `limit=100&cursor=${encodeURIComponent(body.nextCursor)}`;
    }

    // The whole 100 would be about 9 MB: more than one page, each under the limit.
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(LAMBDA_RESPONSE_LIMIT_BYTES);
    expect(sizes[0]).toBeGreaterThan(4 * 1024 * 1024);
    // Newest first, none twice, none missing.
    expect(seen).toEqual(records.map((r) => r.reference).reverse());
    expect(api.lines.every((line) => line.status === 200)).toBe(true);
  });
});
