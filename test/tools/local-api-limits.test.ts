/**
 * `npm start` enforces Lambda's limits as production does: a response over
 * Lambda's 6 MB limit and an invocation past the function's timeout
 * (`--timeout`, through the real server) are answered as API Gateway's HTTP
 * API answers a function error: 500 `{"message":"Internal Server Error"}`,
 * never the body, with Lambda's own error in the terminal. The largest list
 * page the product can give (records at the documented maxima, genuinely
 * stored) stays under the limit and is served.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import {
  LAMBDA_RESPONSE_LIMIT_BYTES,
  LocalFunctions,
} from "../../tools/local-api/lambda-runtime.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

const temporary = mkdtempSync(join(tmpdir(), "rapatriements-limits-"));
let child: ChildProcess | undefined;
let output = "";

// npm start runs in its own process group: stopping npm alone would leave its
// server (and that server's S3) running, still writing to this test's pipes.
afterEach(async () => {
  const running = child;
  child = undefined;
  if (running?.pid === undefined || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once("exit", resolve));
  process.kill(-running.pid, "SIGTERM");
  const stopped = await Promise.race([
    exited,
    new Promise((resolve) => setTimeout(() => resolve("late"), 10_000)),
  ]);
  if (stopped === "late") process.kill(-running.pid, "SIGKILL");
});
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

async function npmStart(name: string, args: string[]): Promise<string> {
  output = "";
  const started = spawn("npm", ["start", "--", "--port", "0", ...args], {
    cwd: PROJECT_ROOT,
    detached: true,
    env: {
      ...process.env,
      RAPATRIEMENTS_LOCAL_DIR: join(temporary, name),
      AWS_REGION: "eu-west-1",
      S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-limits/rapatriements/rapatriements.db",
      STORAGE_STRATEGY: "sqlite",
    },
  });
  child = started;
  // Only the server of the running test writes to `output`.
  const append = (chunk: Buffer) => {
    if (child === started) output += chunk.toString();
  };
  started.stdout.on("data", append);
  started.stderr.on("data", append);
  for (;;) {
    const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
    if (match?.[1] !== undefined) return match[1];
    if (started.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A record at the documented maxima: 500 lines, 64-character codes, a 2,000-character comment. */
function largest(n: number) {
  const pad = (text: string, length: number) => text.padEnd(length, "x");
  return {
    reference: pad(`MAX-${n}-`, 64),
    origin: pad(`ORIGIN-${n}-`, 64),
    destination: pad(`DESTINATION-${n}-`, 64),
    status: "requested",
    comment: pad("comment ", 2000),
    lines: Array.from({ length: 500 }, (_, i) => ({
      sku: pad(`SKU-${n}-${i}-`, 64),
      quantity: 123456.789,
      unit: pad("unit-", 32),
    })),
  };
}

// Each test starts npm start once or twice: several seconds each on a busy machine.
describe("npm start enforces Lambda's limits", { timeout: 180_000 }, () => {
  test("a list page of records at the documented maxima stays under 6 MB and is served, page after page", async () => {
    const file = join(temporary, "largest.json");
    writeFileSync(file, JSON.stringify(Array.from({ length: 100 }, (_, n) => largest(n))));
    const url = await npmStart("large", ["--from", file]);
    expect(output).toContain("importé 100 rapatriements");

    const seen: string[] = [];
    let next: string | null = "";
    while (next !== null) {
      const query: string = next === "" ? "" : `&cursor=${encodeURIComponent(next)}`;
      const answer = await fetch(`${url}/rapatriements?limit=100${query}`);
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(Buffer.byteLength(text)).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
      const page = JSON.parse(text) as { items: { id: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((r) => r.id));
      next = page.nextCursor;
    }
    expect(seen).toHaveLength(100);
    expect(new Set(seen).size).toBe(100);
    expect(output).not.toContain("ResponseSizeTooLarge");
  });

  test("an answer over 6 MB is never sent: 500 as API Gateway answers, with Lambda's error in the log", async () => {
    const lines: string[] = [];
    const functions = new LocalFunctions({
      moduleUrl: () => new URL("../fixtures/local-runtime/large-answer.ts", import.meta.url).href,
      log: (line) => lines.push(line),
    });
    try {
      const answer = await functions.invoke(
        "large-answer",
        toApiGatewayEvent(
          { method: "GET", url: "/large", requestId: "req-large" },
          { method: "GET", path: "/large", module: "large-answer" },
          {},
        ),
        "req-large",
      );
      expect(answer).toEqual({
        statusCode: 500,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ message: "Internal Server Error" }),
      });
      expect(lines.join("\n")).toMatch(
        /req-large Function\.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size \(6291556 bytes\): \d+ bytes/,
      );
    } finally {
      await functions.close();
    }
  });

  test("an invocation past the function's timeout is killed and answered 500 as API Gateway does, not by the handler", async () => {
    // One millisecond: no invocation can read S3 in that time.
    const url = await npmStart("timeout", ["--timeout", "0.001"]);
    expect(output).toContain("0.001 s timeout");

    const answer = await fetch(`${url}/rapatriements`);
    expect(answer.status).toBe(500);
    expect(await answer.json()).toEqual({ message: "Internal Server Error" });
    expect(output).toContain("Task timed out after 0.00 seconds");

    // The killed container is replaced: the next request is served (and times out) too.
    const again = await fetch(`${url}/rapatriements/some-id`);
    expect(again.status).toBe(500);
    expect(output.match(/Task timed out after/g)).toHaveLength(2);
  });

  test("--timeout refuses what Lambda refuses", async () => {
    const refused = spawn("npm", ["start", "--", "--timeout", "901"], { cwd: PROJECT_ROOT });
    let text = "";
    refused.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    const code = await new Promise((resolve) => refused.once("exit", resolve));
    expect(code).toBe(2);
    expect(text).toContain("--timeout takes seconds, more than 0 and at most 900");
  });
});
