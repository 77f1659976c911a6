/**
 * `npm start`'s change events, as a user sees them: writes through the local
 * API, then `GET /_local/events` lists what the bus rule's target received
 * (newest last, each checked against its schema in docs/events/), and the
 * terminal shows one short line per event.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { validateEvent } from "../support/event-schemas.ts";
import { startLocalApi } from "../support/local-api-process.ts";

let child: ChildProcess;
let baseUrl: string;
let output: string[];

beforeAll(async () => {
  ({ child, baseUrl, output } = await startLocalApi({
    RAPATRIEMENTS_LOCAL_DIR: mkdtempSync(join(tmpdir(), "rapatriements-events-")),
    AWS_REGION: "eu-west-1",
    S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-events/rapatriements/rapatriements.json",
  }));
}, 180_000);

afterAll(() => {
  if (child.exitCode === null) child.kill("SIGKILL");
});

async function send(method: string, path: string, body?: unknown) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
}

/** What `look` finds once it holds `count` items: publication follows the answers. */
async function onceThere<T>(count: number, look: () => Promise<T[]> | T[]): Promise<T[]> {
  for (;;) {
    const found = await look();
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("a create, a status change and a delete are listed at /_local/events, newest last, one line each on the terminal", {
  timeout: 60_000,
}, async () => {
  const created = await send("POST", "/rapatriements", {
    reference: "RAP-EV-1",
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "PAL", quantity: 2 }],
  });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  expect((await send("PATCH", `/rapatriements/${id}`, { status: "requested" })).status).toBe(200);
  expect((await send("DELETE", `/rapatriements/${id}`)).status).toBe(204);
  // A refused change lists nothing.
  expect((await send("PATCH", `/rapatriements/${id}`, { status: "received" })).status).toBe(404);

  const events = await onceThere(
    3,
    async () => (await send("GET", "/_local/events")).json as Record<string, unknown>[],
  );
  for (const event of events) validateEvent(event);
  expect(events.map((e) => Object.keys(e))).toEqual(
    Array(3).fill(["id", "source", "detail-type", "detail", "time"]),
  );
  expect(events.map((e) => e["detail-type"])).toEqual([
    "Rapatriement Created",
    "Rapatriement Updated",
    "Rapatriement Deleted",
  ]);
  expect(events.map((e) => (e.detail as { eventId: string }).eventId)).toEqual([
    `${id}:1`,
    `${id}:2`,
    `${id}:3`,
  ]);
  const lines = await onceThere(3, () => output.filter((line) => line.startsWith("  event ")));
  expect(lines).toEqual([
    "  event Rapatriement Created RAP-EV-1 v1",
    "  event Rapatriement Updated RAP-EV-1 v2 status draft → requested",
    "  event Rapatriement Deleted RAP-EV-1 v3",
  ]);
});
