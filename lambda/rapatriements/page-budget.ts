/**
 * Domain: how many bytes a page of records may take. A synchronous Lambda
 * answers at most 6 MB (6,291,456 bytes) of payload, and what an HTTP handler
 * answers is the JSON of `{ statusCode, headers, body }` whose body is itself
 * JSON in a string: every quote and backslash of the page is escaped once
 * more. A page stops before it would pass MAX_PAGE_BYTES of that payload,
 * which leaves a megabyte for the envelope and headers. Past that a page holds
 * fewer records than `limit` and `nextCursor` continues from the last one.
 */
export const MAX_PAGE_BYTES = 5 * 1024 * 1024;

/** What one item adds to an invocation's response payload, in bytes (its comma included). */
export function payloadBytes(item: unknown): number {
  // The outer quotes of the string are the envelope's; the comma is the list's.
  // Stryker disable next-line StringLiteral: "" is Buffer.byteLength's default, UTF-8, too
  return Buffer.byteLength(JSON.stringify(JSON.stringify(item)), "utf8") - 2 + 1;
}

/**
 * How many of `items`, from the first, fit in `maxBytes` of payload. Never
 * fewer than one when there is one: a single record is far below the budget
 * (its request body was at most 256 KiB), and a page must move forward.
 */
export function fittingCount(items: readonly unknown[], maxBytes: number): number {
  let bytes = 0;
  for (let index = 0; index < items.length; index += 1) {
    bytes += payloadBytes(items[index]);
    if (bytes > maxBytes) return Math.max(index, 1);
  }
  return items.length;
}
