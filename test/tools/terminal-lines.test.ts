/**
 * npm start's short line for a request whose storage had to work harder than
 * the terminal test can make it — a write that lost races and retried, a
 * server error — from the very log line the HTTP handler builds
 * (invocationLine), so that the two keep the same fields.
 */
import { describe, expect, test } from "vitest";
import { invocationLine } from "../../lambda/handlers/log-line.ts";
import { parseLogLine, requestLine } from "../../tools/local-api/terminal-lines.ts";

const AT = new Date(2026, 11, 7, 9, 5, 3);

function logged(line: Record<string, unknown>): Record<string, unknown> | undefined {
  return parseLogLine(JSON.stringify(line));
}

describe("npm start's line for a request", () => {
  test("a write that lost two races: loaded, saved, 2 retries, every S3 call counted", () => {
    const line = invocationLine({
      level: "info",
      requestId: "r1",
      route: "PATCH /rapatriements/{id}",
      fields: { path: "/rapatriements/42", status: 200 },
      report: {
        s3Calls: [
          { command: "GetObject", status: 200, ms: 4.2 },
          { command: "PutObject", status: 412, ms: 3.1 },
          { command: "GetObject", status: 200, ms: 4 },
          { command: "PutObject", status: 412, ms: 3 },
          { command: "GetObject", status: 200, ms: 4 },
          { command: "PutObject", status: 200, ms: 5.6 },
        ],
        cache: "miss",
        attempts: 3,
        roundSize: 1,
        warnings: [],
      },
    });
    expect(
      requestLine(
        { method: "PATCH", path: "/rapatriements/42", status: 200, ms: 31.4 },
        logged(line),
        AT,
      ),
    ).toBe(
      "09:05:03  PATCH /rapatriements/42  200  31 ms  loaded, saved, 2 retries · 6 S3 calls 24 ms",
    );
  });

  test("a server error names its code and the error", () => {
    const line = invocationLine({
      level: "error",
      requestId: "r2",
      route: "GET /rapatriements",
      fields: { path: "/rapatriements", status: 500 },
      error: new TypeError("Cannot read properties of undefined (reading 'lines')"),
    });
    expect(
      requestLine({ method: "GET", path: "/rapatriements", status: 500, ms: 2 }, logged(line), AT),
    ).toBe(
      "09:05:03  GET /rapatriements  500  2 ms  INTERNAL_ERROR · TypeError: Cannot read properties of undefined (reading 'lines')",
    );
  });

  test("any other text the function writes is no log line: npm start prints it as it is", () => {
    expect(parseLogLine("hello")).toBeUndefined();
    expect(parseLogLine("{not json")).toBeUndefined();
    expect(parseLogLine("[1,2]")).toBeUndefined();
  });
});
