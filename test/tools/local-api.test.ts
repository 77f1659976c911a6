/**
 * `npm start` as a user runs it: the local API in its own process, with its
 * own local S3 server, spoken to with plain HTTP. Every response is also
 * checked against docs/openapi.yaml.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { matchRoute } from "../../tools/local-api/api-gateway.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { launchChromium } from "../support/browser.ts";
import { startLocalApi } from "../support/local-api-process.ts";
import { openApiChecker, type RecordedResponse } from "../support/openapi.ts";
import { requireProgram } from "../support/programs.ts";

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field in assertions
  json: any;
}

const run = promisify(execFile);
const localDir = mkdtempSync(join(tmpdir(), "rapatriements-local-"));
const recorded: RecordedResponse[] = [];
let child: ChildProcess;
let baseUrl: string;

beforeAll(async () => {
  ({ child, baseUrl } = await startLocalApi({
    RAPATRIEMENTS_LOCAL_DIR: localDir,
    AWS_REGION: "eu-west-1",
    S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-e2e/rapatriements/rapatriements.db",
    STORAGE_STRATEGY: "sqlite",
  }));
}, 180_000);

afterAll(() => {
  if (child.exitCode === null) child.kill("SIGKILL");
});

async function call(
  method: string,
  path: string,
  options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  const answer: Answer = {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text,
    json: text === "" ? undefined : JSON.parse(text),
  };
  const route = matchRoute(HTTP_ROUTES, method, new URL(path, baseUrl).pathname)?.route.path;
  if (route !== undefined) {
    recorded.push({ method, route, status: answer.status, headers: answer.headers, body: text });
  }
  return answer;
}

function body(reference: string, overrides: Record<string, unknown> = {}) {
  return {
    reference,
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "SKU-1", quantity: 4, unit: "palette" }],
    ...overrides,
  };
}

/** Every record the API lists, page by page. */
async function everything(): Promise<{ id: string; reference: string }[]> {
  const items: { id: string; reference: string }[] = [];
  let cursor: string | null = null;
  do {
    const page = await call(
      "GET",
      `/rapatriements?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`,
    );
    expect(page.status).toBe(200);
    items.push(...page.json.items);
    cursor = page.json.nextCursor;
  } while (cursor !== null);
  return items;
}

describe("npm start", () => {
  test("the full life of a record, with plain HTTP", async () => {
    const created = await call("POST", "/rapatriements", {
      body: body("LIFE-1", { origin: "LIFE-SITE", requestedAt: "2026-03-01T08:00:00Z" }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`/rapatriements/${created.json.id}`);
    const id: string = created.json.id;

    const fetched = await call("GET", created.headers.location ?? "");
    expect(fetched.status).toBe(200);
    expect(fetched.json).toEqual(created.json);

    // Two more, so that filters and pages have something to tell apart.
    for (const [reference, status] of [
      ["LIFE-2", "requested"],
      ["LIFE-3", "cancelled"],
    ] as const) {
      const other = await call("POST", "/rapatriements", {
        body: body(reference, { origin: "LIFE-SITE", destination: "LILLE-03", status }),
      });
      expect(other.status).toBe(201);
    }
    const byOrigin = await call("GET", "/rapatriements?origin=LIFE-SITE");
    expect(byOrigin.json.items.map((r: { reference: string }) => r.reference)).toEqual([
      "LIFE-3",
      "LIFE-2",
      "LIFE-1",
    ]);
    const byStatus = await call("GET", "/rapatriements?origin=LIFE-SITE&status=draft,requested");
    expect(byStatus.json.items.map((r: { reference: string }) => r.reference)).toEqual([
      "LIFE-2",
      "LIFE-1",
    ]);
    const byDestination = await call("GET", "/rapatriements?destination=LILLE-03&origin=LIFE-SITE");
    expect(byDestination.json.items).toHaveLength(2);
    const byReference = await call("GET", "/rapatriements?reference=LIFE-1");
    expect(byReference.json.items.map((r: { id: string }) => r.id)).toEqual([id]);

    const first = await call("GET", "/rapatriements?origin=LIFE-SITE&limit=2");
    expect(first.json.items).toHaveLength(2);
    expect(typeof first.json.nextCursor).toBe("string");
    const second = await call(
      "GET",
      `/rapatriements?origin=LIFE-SITE&limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`,
    );
    expect(second.json.items.map((r: { reference: string }) => r.reference)).toEqual(["LIFE-1"]);
    expect(second.json.nextCursor).toBeNull();

    let etag = created.headers.etag ?? "";
    for (const status of ["requested", "in_transit", "received"]) {
      const moved = await call("PATCH", `/rapatriements/${id}`, {
        body: { status },
        headers: { "if-match": etag },
      });
      expect(moved.status).toBe(200);
      expect(moved.json.status).toBe(status);
      etag = moved.headers.etag ?? "";
    }
    expect(etag).toBe('"4"');

    const forbidden = await call("PATCH", `/rapatriements/${id}`, { body: { status: "draft" } });
    expect(forbidden.status).toBe(409);
    expect(forbidden.json.code).toBe("FORBIDDEN_TRANSITION");

    const stale = await call("DELETE", `/rapatriements/${id}`, { headers: { "if-match": '"2"' } });
    expect(stale.status).toBe(412);
    expect(stale.json.code).toBe("VERSION_MISMATCH");

    const deleted = await call("DELETE", `/rapatriements/${id}`, { headers: { "if-match": etag } });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");

    const gone = await call("GET", `/rapatriements/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers["content-type"]).toBe("application/problem+json");
  });

  test("bad input is answered with the right status, names every bad field, and stores nothing", async () => {
    const taken = await call("POST", "/rapatriements", { body: body("BAD-TAKEN") });
    expect(taken.status).toBe(201);
    const before = await everything();

    const cases: [string, () => Promise<Answer>, number, string[]][] = [
      [
        "missing fields",
        () => call("POST", "/rapatriements", { body: { reference: "BAD-1" } }),
        400,
        ["origin", "destination", "lines"],
      ],
      [
        "wrong types",
        () =>
          call("POST", "/rapatriements", {
            body: { reference: 12, origin: true, destination: [], lines: "many" },
          }),
        400,
        ["reference", "origin", "destination", "lines"],
      ],
      [
        "unknown field",
        () => call("POST", "/rapatriements", { body: body("BAD-2", { colour: "red" }) }),
        400,
        ["colour"],
      ],
      [
        "origin = destination",
        () => call("POST", "/rapatriements", { body: body("BAD-3", { destination: "LYON-01" }) }),
        400,
        ["destination"],
      ],
      [
        "expectedAt before requestedAt",
        () =>
          call("POST", "/rapatriements", {
            body: body("BAD-4", {
              requestedAt: "2026-03-02T00:00:00Z",
              expectedAt: "2026-03-01T00:00:00Z",
            }),
          }),
        400,
        ["expectedAt"],
      ],
      [
        "501 lines",
        () =>
          call("POST", "/rapatriements", {
            body: body("BAD-5", {
              lines: Array.from({ length: 501 }, (_, i) => ({ sku: `S${i}`, quantity: 1 })),
            }),
          }),
        400,
        ["lines"],
      ],
      [
        "oversized body",
        () =>
          call("POST", "/rapatriements", { body: body("BAD-6", { comment: "x".repeat(300_000) }) }),
        413,
        [],
      ],
      [
        "non-JSON",
        () =>
          call("POST", "/rapatriements", {
            raw: "reference=BAD-7",
            headers: { "content-type": "application/x-www-form-urlencoded" },
          }),
        415,
        [],
      ],
      [
        "malformed cursor",
        () => call("GET", "/rapatriements?cursor=not-a-cursor"),
        400,
        ["cursor"],
      ],
      ["limit of 0", () => call("GET", "/rapatriements?limit=0"), 400, ["limit"]],
      ["limit of 1000", () => call("GET", "/rapatriements?limit=1000"), 400, ["limit"]],
      [
        "duplicate reference",
        () => call("POST", "/rapatriements", { body: body("BAD-TAKEN") }),
        409,
        [],
      ],
    ];
    for (const [label, send, status, paths] of cases) {
      const answer = await send();
      expect(answer.status, label).toBe(status);
      expect(answer.headers["content-type"], label).toBe("application/problem+json");
      expect(answer.json.status, label).toBe(status);
      const named = (answer.json.errors ?? []).map((e: { path: string }) => e.path);
      expect(named, label).toEqual(expect.arrayContaining(paths));
      if (paths.length > 0) expect(named, label).toHaveLength(paths.length);
    }

    expect(await everything()).toEqual(before);
  });

  test("twenty concurrent POSTs all succeed and are all listed", async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call("POST", "/rapatriements", { body: body(`BURST-${i}`, { origin: "BURST-SITE" }) }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    const listed = await call("GET", "/rapatriements?origin=BURST-SITE&limit=100");
    expect(listed.json.items.map((r: { reference: string }) => r.reference).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `BURST-${i}`).sort(),
    );
  });

  test("a repeated POST with the same Idempotency-Key stores one record; another body is refused", async () => {
    const key = { "idempotency-key": "order-7f3a" };
    const first = await call("POST", "/rapatriements", { body: body("IDEM-1"), headers: key });
    const again = await call("POST", "/rapatriements", { body: body("IDEM-1"), headers: key });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    const stored = await call("GET", "/rapatriements?reference=IDEM-1");
    expect(stored.json.items).toHaveLength(1);

    const reused = await call("POST", "/rapatriements", { body: body("IDEM-2"), headers: key });
    expect(reused.status).toBe(422);
    expect(reused.json.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await call("GET", "/rapatriements?reference=IDEM-2")).json.items).toEqual([]);
  });

  test("every response above conforms to docs/openapi.yaml", () => {
    const check = openApiChecker();
    expect(recorded.length).toBeGreaterThan(40);
    expect(recorded.flatMap(check)).toEqual([]);
    // Every documented route was exercised.
    expect(new Set(recorded.map((r) => `${r.method} ${r.route}`))).toEqual(
      new Set(HTTP_ROUTES.map((r) => `${r.method} ${r.path}`)),
    );
  });

  test("the README's curl walk-through runs twice as written and leaves its record behind", async () => {
    requireProgram("curl", "this test runs the README's curl walk-through as written");
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## A walk through the API"));
    const script = /```bash\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    expect(script).toContain("API=http://127.0.0.1:3000\n");
    const references = new Set<string>();
    for (const round of [1, 2]) {
      const { stdout } = await run("bash", [
        "-euo",
        "pipefail",
        "-c",
        script.replace("API=http://127.0.0.1:3000\n", `API=${baseUrl}\n`),
      ]);
      // Bodies end without a newline: a status line may follow one on the same line.
      const statuses = [...stdout.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
      expect(statuses, `round ${round}`).toEqual([201, 200, 200, 412, 409, 204, 404]);
      // Then the change events published so far (an array, pretty-printed).
      const eventsAt = stdout.lastIndexOf("[\n  {");
      expect(eventsAt, `round ${round}: the events follow the record`).toBeGreaterThan(0);
      const left = JSON.parse(stdout.slice(stdout.lastIndexOf('{"id":', eventsAt), eventsAt));
      const events = JSON.parse(stdout.slice(eventsAt)) as Array<Record<string, unknown>>;
      for (const event of events) {
        expect(Object.keys(event)).toEqual(["id", "source", "detail-type", "detail", "time"]);
      }
      // Publication follows each answer: by the second round, the first
      // round's record has its Created and Updated events on the bus.
      if (round === 2) {
        const first = [...references][0];
        const ofFirst = events.filter(
          (event) => (event.detail as { reference?: string }).reference === first,
        );
        expect(ofFirst.map((event) => event["detail-type"])).toEqual([
          "Rapatriement Created",
          "Rapatriement Updated",
        ]);
      }
      expect(left).toMatchObject({
        status: "requested",
        version: 2,
        createdBy: "local-developer",
        updatedBy: "alice",
      });
      references.add(left.reference);
      const stored = await call("GET", `/rapatriements/${left.id}`);
      expect(stored.json).toEqual(left);
    }
    expect(references.size).toBe(2);
  });

  test("GET /openapi.yaml is the reference in the repository", async () => {
    const answer = await fetch(`${baseUrl}/openapi.yaml`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toContain("yaml");
    expect(await answer.text()).toBe(
      readFileSync(join(PROJECT_ROOT, "docs", "openapi.yaml"), "utf8"),
    );
  });

  test("GET /docs renders the reference in a real browser, with the five operations, from nothing but the local server", async () => {
    const { browser, source } = await launchChromium([
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ]);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
      const requested: string[] = [];
      page.on("request", (request) => requested.push(request.url()));
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));

      const response = await page.goto(`${baseUrl}/docs`);
      expect(response?.status()).toBe(200);
      const operations = page.locator(".opblock-summary");
      await operations.nth(4).waitFor({ timeout: 30_000 });
      const listed = (await page.locator(".opblock-summary").allInnerTexts()).map((text) =>
        text.replace(/\s+/g, " ").trim(),
      );
      expect(listed).toHaveLength(HTTP_ROUTES.length);
      for (const route of HTTP_ROUTES) {
        expect(listed.some((text) => text.startsWith(`${route.method} ${route.path}`))).toBe(true);
      }
      await expect(page.title()).resolves.toBe("Rapatriements API — reference");

      const screenshot = join(localDir, "docs.png");
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot of ${baseUrl}/docs by ${source}: ${screenshot}`);
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);

      expect(errors).toEqual([]);
      expect(requested.filter((url) => !url.startsWith(`${baseUrl}/`))).toEqual([]);
      expect(requested).toContain(`${baseUrl}/docs/openapi.json`);
      // "Try it out" goes to this npm start, whatever its port.
      await expect(page.locator(".servers select").inputValue()).resolves.toBe(baseUrl);
    } finally {
      await browser.close();
    }
  });

  test("X-Local-Identity says who creates and who changes; without it, local-developer", async () => {
    const alice = "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/alice";
    const created = await call("POST", "/rapatriements", {
      body: body("WHO-1"),
      headers: { "x-local-identity": alice },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: alice, updatedBy: alice });

    const cancelled = await call("PATCH", `/rapatriements/${created.json.id}`, {
      body: { status: "cancelled" },
      headers: { "X-Local-Identity": "bob" },
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ createdBy: alice, updatedBy: "bob" });

    const anonymous = await call("POST", "/rapatriements", { body: body("WHO-2") });
    expect(anonymous.json).toMatchObject({
      createdBy: "local-developer",
      updatedBy: "local-developer",
    });

    // The header names the caller; the body cannot.
    const forged = await call("POST", "/rapatriements", {
      body: body("WHO-3", { createdBy: "the-boss" }),
      headers: { "x-local-identity": "bob" },
    });
    expect(forged.status).toBe(400);
    expect(forged.json.errors).toEqual([
      {
        path: "createdBy",
        message: "is read-only: the server takes it from the caller's authenticated identity",
      },
    ]);
    const read = await call("GET", `/rapatriements/${created.json.id}`);
    expect(read.json).toMatchObject({ status: "cancelled", createdBy: alice, updatedBy: "bob" });
  });

  test("Ctrl-C saves the data to the local folder and stops", async () => {
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(join(localDir, "rapatriements.db"))).toBe(true);
  });
});
