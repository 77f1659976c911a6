/**
 * The HTTP handlers as API Gateway (HTTP API, payload v2) calls them, on the
 * real S3 API of the local server: status codes, headers and bodies a caller
 * sees, and the one log line an operator reads per invocation.
 */
import { randomUUID } from "node:crypto";
import {
  GetObjectCommand,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { ValueError } from "../../../lambda/errors.ts";
import type { Dependencies, HandlerDeps } from "../../../lambda/handlers/composition-root.ts";
import { createRapatriementHandler } from "../../../lambda/handlers/create-rapatriement.ts";
import { deleteRapatriementHandler } from "../../../lambda/handlers/delete-rapatriement.ts";
import { getRapatriementHandler } from "../../../lambda/handlers/get-rapatriement.ts";
import { MAX_BODY_BYTES } from "../../../lambda/handlers/http-handler.ts";
import { listRapatriementsHandler } from "../../../lambda/handlers/list-rapatriements.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import { HTTP_ROUTES } from "../../../lambda/handlers/routes.ts";
import { updateRapatriementHandler } from "../../../lambda/handlers/update-rapatriement.ts";
import type { Rapatriement } from "../../../lambda/rapatriements/model.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { prefetchObject } from "../../../lambda/storage/object-fetch.ts";
import {
  lambdaContext,
  matchRoute,
  toApiGatewayEvent,
} from "../../../tools/local-api/api-gateway.ts";
import { faultyClient, lostResponse, onNextPut, s3Error } from "../../support/faults.ts";
import {
  localS3Client,
  newEngine,
  newTarget,
  putBytes,
  REGION,
  sampleInput,
  type Target,
  uniqueBucketName,
} from "../../support/local-s3.ts";

type Handler = ReturnType<typeof createRapatriementHandler>;

interface Api {
  create: Handler;
  list: Handler;
  get: Handler;
  update: Handler;
  remove: Handler;
  /** Every line the handlers logged, in order. */
  lines: LogLine[];
}

function handlersFor(deps: HandlerDeps) {
  return {
    create: createRapatriementHandler(deps),
    list: listRapatriementsHandler(deps),
    get: getRapatriementHandler(deps),
    update: updateRapatriementHandler(deps),
    remove: deleteRapatriementHandler(deps),
  };
}

/** One warm container on a fresh object: its own engine, its own handlers, its own log. */
async function newApi(
  overrides: Partial<DatabaseObjectDeps> = {},
): Promise<Api & { target: Target }> {
  const target = await newTarget("sqlite");
  const { service, store } = await newEngine(target, overrides);
  const lines: LogLine[] = [];
  const deps: HandlerDeps = {
    dependencies: async () => ({ service, store }),
    log: (line) => lines.push(line),
  };
  return { ...handlersFor(deps), lines, target };
}

/** Handlers whose dependencies cannot be built, as when the configuration is wrong. */
function brokenApi(error: Error): Api {
  const lines: LogLine[] = [];
  const deps: HandlerDeps = {
    dependencies: (): Promise<Dependencies> => Promise.reject(error),
    log: (line) => lines.push(line),
  };
  return { ...handlersFor(deps), lines };
}

interface Call {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  pathParameters?: Record<string, string>;
  isBase64Encoded?: boolean;
  /**
   * Headers put on the event exactly as spelled here, instead of lower-cased
   * the way API Gateway hands them over: checks the handlers' own
   * normalisation, for any caller that does not lower-case them.
   */
  rawHeaders?: Record<string, string>;
  /** The function's timeout for this invocation (default: the deployed one). */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The parsed body; undefined when there is none. */
  json: unknown;
  body: string | undefined;
  requestId: string;
}

async function invoke(handler: Handler, call: Call): Promise<Answer> {
  const path = new URL(call.url, "http://localhost").pathname;
  const match = matchRoute(HTTP_ROUTES, call.method, path);
  if (match === undefined) throw new Error(`no route for ${call.method} ${path}`);
  const requestId = randomUUID();
  const event = toApiGatewayEvent(
    {
      method: call.method,
      url: call.url,
      ...(call.headers === undefined ? {} : { headers: call.headers }),
      ...(call.body === undefined ? {} : { body: call.body }),
      requestId,
    },
    match.route,
    call.pathParameters ?? match.pathParameters,
  );
  if (call.isBase64Encoded === true) event.isBase64Encoded = true;
  // An empty body as some event sources send it, rather than none.
  if (call.body === "") event.body = "";
  if (call.rawHeaders !== undefined) event.headers = { ...call.rawHeaders };
  const result = await handler(event, lambdaContext(requestId, call.timeoutMs));
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  const body = result.body;
  return {
    status: result.statusCode ?? 200,
    headers,
    json: body === undefined || body === "" ? undefined : JSON.parse(body),
    body,
    requestId,
  };
}

const JSON_HEADERS = { "content-type": "application/json" };

function post(body: unknown, headers: Record<string, string> = JSON_HEADERS): Call {
  return { method: "POST", url: "/rapatriements", headers, body: JSON.stringify(body) };
}

async function created(api: Api, n: number | string = 1): Promise<Rapatriement> {
  const answer = await invoke(api.create, post(sampleInput(n)));
  expect(answer.status).toBe(201);
  return answer.json as Rapatriement;
}

/** The single line logged by the last invocation, after checking there was exactly one more. */
function lastLine(api: Api, before: number): LogLine {
  expect(api.lines).toHaveLength(before + 1);
  const line = api.lines[before];
  if (line === undefined) throw new Error("no log line");
  return line;
}

/** The log line of one call, checked to be the only line that call wrote. */
async function invokeLogged(
  api: Api,
  handler: Handler,
  call: Call,
): Promise<{ answer: Answer; line: LogLine }> {
  const before = api.lines.length;
  const answer = await invoke(handler, call);
  return { answer, line: lastLine(api, before) };
}

function s3Calls(line: LogLine): { calls: string[]; count: number } {
  return line.s3 as { calls: string[]; count: number };
}

/**
 * The title of each status, the same on every answer (RFC 9457: a title
 * summarises the problem's type and does not change from one to the next).
 */
const TITLES: Record<number, string> = {
  400: "Invalid request",
  404: "Not found",
  409: "Conflict",
  412: "Precondition failed",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable request",
  500: "Internal error",
  503: "Service busy",
};

/** The fields every problem+json answer has, and its media type. */
function expectProblem(answer: Answer, status: number, code: string): Record<string, unknown> {
  expect(answer.status).toBe(status);
  expect(answer.headers["content-type"]).toBe("application/problem+json");
  const problem = answer.json as Record<string, unknown>;
  expect(problem).toMatchObject({ status, code, requestId: answer.requestId });
  // docs/openapi.yaml: "urn:rapatriements:problem:<code in kebab case>".
  expect(problem.type).toBe(`urn:rapatriements:problem:${code.toLowerCase().replaceAll("_", "-")}`);
  expect(problem.title).toBe(TITLES[status]);
  expect(typeof problem.detail).toBe("string");
  return problem;
}

/** What a caller must never see in a 500: the internal message, a stack trace. */
function expectNothingInternal(answer: Answer, secret: string): void {
  expect(answer.body).not.toContain(secret);
  expect(answer.body).not.toMatch(/\bat .+:\d+:\d+/);
  expect(answer.body).not.toContain("stack");
  expect(answer.body).not.toContain("cause");
}

describe("the log line", () => {
  test("a create logs exactly one JSON line with its request id, route, status and S3 calls", async () => {
    const api = await newApi();
    const started = performance.now();
    const { answer, line } = await invokeLogged(api, api.create, post(sampleInput(1)));
    const elapsed = performance.now() - started;

    expect(answer.status).toBe(201);
    const text = JSON.stringify(line);
    expect(text).not.toContain("\n");
    expect(JSON.parse(text)).toEqual(line);
    expect(line).toMatchObject({
      level: "info",
      requestId: answer.requestId,
      route: "POST /rapatriements",
      path: "/rapatriements",
      status: 201,
      outcome: "success",
      retries: 0,
      cache: "absent",
    });
    // The handler's own time, in milliseconds rounded to a tenth: most of the
    // call's, and no more than the call's time to the tenth above.
    expect(line.durationMs).toBeLessThanOrEqual(Math.ceil(elapsed * 10) / 10);
    expect(line.durationMs).toBeGreaterThan(elapsed / 4);
    expect(String(line.durationMs)).toMatch(/^\d+(\.\d)?$/);
    const { calls, count } = s3Calls(line);
    expect(count).toBe(calls.length);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatch(/^GetObject 404 \d+(\.\d)?ms$/);
    expect(calls[1]).toMatch(/^PutObject 200 \d+(\.\d)?ms$/);
    // The S3 time is the calls' own, added up (each rounded, hence the margin).
    const callMs = calls.map((call) => Number(/ ([\d.]+)ms$/.exec(call)?.[1]));
    const totalMs = (line.s3 as { ms: number }).ms;
    expect(Math.abs(totalMs - callMs.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(0.2);
    expect(line).not.toHaveProperty("error");
    // One write in its round, nothing to warn of: neither field is there.
    expect(line).not.toHaveProperty("roundSize");
    expect(line).not.toHaveProperty("warnings");
  });

  test("a create that had to make the bucket, but not its default encryption, logs the warning", async () => {
    const { client, mock } = faultyClient();
    mock.on(PutBucketEncryptionCommand).rejects(s3Error("AccessDenied", 403));
    const api = await newApi({
      s3: client,
      target: { bucket: uniqueBucketName("gone"), key: "r/r.db", region: REGION },
    });

    const { answer, line } = await invokeLogged(api, api.create, post(sampleInput(1)));

    expect(answer.status).toBe(201);
    expect(line).toMatchObject({
      level: "info",
      warnings: [expect.stringContaining("s3:PutEncryptionConfiguration")],
    });
  });

  test("a PUT that got no answer is logged as such, among the S3 calls", async () => {
    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(lostResponse());
    const api = await newApi({
      s3: faulty.client,
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 },
    });

    const { line } = await invokeLogged(api, api.create, post(sampleInput(1)));

    expect(s3Calls(line).calls[1]).toMatch(/^PutObject no-response \d+(\.\d)?ms$/);
  });

  test("a warm GET after a create costs one conditional GetObject answered 304: a cache hit", async () => {
    const api = await newApi();
    const record = await created(api);

    const { answer, line } = await invokeLogged(api, api.get, {
      method: "GET",
      url: `/rapatriements/${record.id}`,
    });

    expect(answer.status).toBe(200);
    expect(line).toMatchObject({
      requestId: answer.requestId,
      route: "GET /rapatriements/{id}",
      status: 200,
      outcome: "success",
      retries: 0,
      cache: "hit",
    });
    const { calls, count } = s3Calls(line);
    expect(count).toBe(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^GetObject 304 [\d.]+ms$/);

    const notModified = await invokeLogged(api, api.get, {
      method: "GET",
      url: `/rapatriements/${record.id}`,
      headers: { "if-none-match": '"1"' },
    });
    expect(notModified.answer.status).toBe(304);
    expect(notModified.line).toMatchObject({ level: "info", status: 304, outcome: "success" });
  });

  test("bad input is a client_error that cost no S3 call", async () => {
    const api = await newApi();
    const { answer, line } = await invokeLogged(
      api,
      api.create,
      post(sampleInput(1, { origin: "", lines: [] })),
    );

    expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(line).toMatchObject({
      level: "warn",
      requestId: answer.requestId,
      route: "POST /rapatriements",
      status: 400,
      outcome: "client_error",
      code: "VALIDATION_FAILED",
      retries: 0,
      cache: null,
    });
    expect(s3Calls(line)).toMatchObject({ calls: [], count: 0 });
  });

  test("every invocation, whatever its outcome, logs exactly one line", async () => {
    const api = await newApi();
    const record = await created(api);
    const calls: [Handler, Call][] = [
      [api.get, { method: "GET", url: `/rapatriements/${record.id}` }],
      [api.get, { method: "GET", url: "/rapatriements/missing" }],
      [api.list, { method: "GET", url: "/rapatriements" }],
      [api.create, { method: "POST", url: "/rapatriements", headers: JSON_HEADERS, body: "{" }],
      [api.remove, { method: "DELETE", url: `/rapatriements/${record.id}` }],
    ];
    for (const [handler, call] of calls) {
      const { answer, line } = await invokeLogged(api, handler, call);
      expect(line.requestId).toBe(answer.requestId);
      expect(line.status).toBe(answer.status);
    }
    expect(api.lines.map((l) => l.outcome)).toEqual([
      "success",
      "success",
      "client_error",
      "success",
      "client_error",
      "success",
    ]);
  });
});

describe("responses", () => {
  test('POST answers 201 with the record, its Location and ETag "1"', async () => {
    const api = await newApi();
    const answer = await invoke(api.create, post(sampleInput(1)));

    expect(answer.status).toBe(201);
    expect(answer.headers["content-type"]).toMatch(/^application\/json\b/);
    const record = answer.json as Rapatriement;
    expect(record).toMatchObject({ reference: "RAP-1", status: "draft", version: 1 });
    expect(typeof record.id).toBe("string");
    expect(answer.headers.location).toBe(`/rapatriements/${encodeURIComponent(record.id)}`);
    expect(answer.headers.etag).toBe('"1"');
  });

  test("GET answers the record with its ETag; If-None-Match equal to it answers 304 with no body", async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;

    const full = await invoke(api.get, { method: "GET", url });
    expect(full.status).toBe(200);
    expect(full.json).toEqual(record);
    expect(full.headers.etag).toBe('"1"');

    const notModified = await invoke(api.get, {
      method: "GET",
      url,
      headers: { "if-none-match": '"1"' },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.body ?? "").toBe("");
    expect(notModified.headers.etag).toBe('"1"');

    const stale = await invoke(api.get, {
      method: "GET",
      url,
      headers: { "if-none-match": '"7"' },
    });
    expect(stale.status).toBe(200);
    expect(stale.json).toEqual(record);
  });

  test("If-None-Match compares weakly, takes a list, and * matches any record", async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;
    for (const value of ['W/"1"', '"7", "1"', "*"]) {
      const answer = await invoke(api.get, {
        method: "GET",
        url,
        headers: { "if-none-match": value },
      });
      expect(answer.status, value).toBe(304);
    }
    const other = await invoke(api.get, {
      method: "GET",
      url,
      headers: { "if-none-match": 'W/"2", "3"' },
    });
    expect(other.status).toBe(200);
  });

  test("GET /rapatriements lists the records, newest first, with a cursor", async () => {
    const api = await newApi();
    await created(api, 1);
    await created(api, 2);
    await created(api, 3);

    const first = await invoke(api.list, { method: "GET", url: "/rapatriements?limit=2" });
    expect(first.status).toBe(200);
    const page = first.json as { items: Rapatriement[]; nextCursor: string | null };
    expect(page.items.map((r) => r.reference)).toEqual(["RAP-3", "RAP-2"]);
    expect(typeof page.nextCursor).toBe("string");

    const second = await invoke(api.list, {
      method: "GET",
      url: `/rapatriements?limit=2&cursor=${encodeURIComponent(page.nextCursor ?? "")}`,
    });
    expect(second.json).toEqual({
      items: [expect.objectContaining({ reference: "RAP-1" })],
      nextCursor: null,
    });
  });

  test("GET /rapatriements filters by status and refuses a bad query at no S3 cost", async () => {
    const api = await newApi();
    const draft = await created(api, 1);
    const other = await created(api, 2);
    await invoke(api.update, {
      method: "PATCH",
      url: `/rapatriements/${other.id}`,
      headers: JSON_HEADERS,
      body: JSON.stringify({ status: "requested" }),
    });

    const filtered = await invoke(api.list, {
      method: "GET",
      url: "/rapatriements?status=draft,cancelled",
    });
    expect((filtered.json as { items: Rapatriement[] }).items.map((r) => r.id)).toEqual([draft.id]);

    const { answer, line } = await invokeLogged(api, api.list, {
      method: "GET",
      url: "/rapatriements?limit=0&colour=red",
    });
    const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
    expect((problem.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "colour",
      "limit",
    ]);
    expect(s3Calls(line).count).toBe(0);
  });

  test('PATCH with If-Match "1" answers 200 and ETag "2"; a stale If-Match answers 412', async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;

    const patched = await invoke(api.update, {
      method: "PATCH",
      url,
      headers: { "content-type": "application/json", "if-match": '"1"' },
      body: JSON.stringify({ status: "requested" }),
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.json).toMatchObject({ id: record.id, status: "requested", version: 2 });

    const stale = await invoke(api.update, {
      method: "PATCH",
      url,
      headers: { "content-type": "application/json", "if-match": '"1"' },
      body: JSON.stringify({ comment: "trop tard" }),
    });
    expectProblem(stale, 412, "VERSION_MISMATCH");

    const current = await invoke(api.get, { method: "GET", url });
    expect(current.json).toMatchObject({ version: 2, status: "requested" });
    expect(current.json).not.toHaveProperty("comment");
  });

  test.each([["abc"], ['W/"1"'], ['"0"'], ["1"]])(
    "a malformed If-Match (%s) answers 400 naming If-Match, at no S3 cost",
    async (value) => {
      const api = await newApi();
      const record = await created(api);

      const { answer, line } = await invokeLogged(api, api.update, {
        method: "PATCH",
        url: `/rapatriements/${record.id}`,
        headers: { "content-type": "application/json", "if-match": value },
        body: JSON.stringify({ comment: "x" }),
      });

      const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
      expect(problem.errors).toEqual([expect.objectContaining({ path: "If-Match" })]);
      expect(s3Calls(line).count).toBe(0);
    },
  );

  test("If-Match names any version, however many digits; around it spaces are ignored, after it nothing is", async () => {
    const api = await newApi();
    const record = await created(api);
    const patch = (ifMatch: string) =>
      invoke(api.update, {
        method: "PATCH",
        url: `/rapatriements/${record.id}`,
        headers: { "content-type": "application/json", "if-match": ifMatch },
        body: JSON.stringify({ comment: ifMatch }),
      });

    expectProblem(await patch('"12"'), 412, "VERSION_MISMATCH");
    const trailing = expectProblem(await patch('"1"x'), 400, "VALIDATION_FAILED");
    expect(trailing.errors).toEqual([
      { path: "If-Match", message: 'must be the ETag of the record as returned, e.g. "3", or *' },
    ]);
    expect((await patch(' "1" ')).status).toBe(200);
    // An empty If-Match is no condition, as * is.
    expect((await patch("")).status).toBe(200);
  });

  test("a hand-made event without the path's id, or with an empty one: 400 naming id", async () => {
    const api = await newApi();
    for (const pathParameters of [{}, { id: "" }] as Record<string, string>[]) {
      const answer = await invoke(api.get, {
        method: "GET",
        url: "/rapatriements/x",
        pathParameters,
      });
      expect(expectProblem(answer, 400, "VALIDATION_FAILED").errors).toEqual([
        { path: "id", message: "is required in the path" },
      ]);
    }
  });

  test("If-Match: * is accepted as no condition", async () => {
    const api = await newApi();
    const record = await created(api);

    const answer = await invoke(api.update, {
      method: "PATCH",
      url: `/rapatriements/${record.id}`,
      headers: { "content-type": "application/json", "if-match": "*" },
      body: JSON.stringify({ comment: "sans condition" }),
    });

    expect(answer.status).toBe(200);
    expect(answer.headers.etag).toBe('"2"');
  });

  test("a rule refused answers 409 Conflict: a reference taken, a status that cannot follow", async () => {
    const api = await newApi();
    const record = await created(api, "dup");

    const duplicate = await invokeLogged(api, api.create, post(sampleInput("dup")));
    const problem = expectProblem(duplicate.answer, 409, "DUPLICATE_REFERENCE");
    expect(problem.detail).toContain("RAP-dup");
    expect(duplicate.line).toMatchObject({ level: "warn", status: 409, outcome: "client_error" });

    const url = `/rapatriements/${record.id}`;
    const skipped = await invoke(api.update, {
      method: "PATCH",
      url,
      headers: JSON_HEADERS,
      body: JSON.stringify({ status: "received" }),
    });
    expectProblem(skipped, 409, "FORBIDDEN_TRANSITION");
    expect((await invoke(api.get, { method: "GET", url })).json).toMatchObject({
      status: "draft",
      version: 1,
    });
  });

  test("DELETE answers 204 with no body; the record is then 404", async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;

    const deleted = await invoke(api.remove, {
      method: "DELETE",
      url,
      headers: { "if-match": '"1"' },
    });
    expect(deleted.status).toBe(204);
    expect(deleted.body ?? "").toBe("");

    const gone = await invoke(api.get, { method: "GET", url });
    expectProblem(gone, 404, "NOT_FOUND");
  });

  test("DELETE with a stale If-Match answers 412 and keeps the record", async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;

    const refused = await invoke(api.remove, {
      method: "DELETE",
      url,
      headers: { "if-match": '"5"' },
    });
    expectProblem(refused, 412, "VERSION_MISMATCH");
    expect((await invoke(api.get, { method: "GET", url })).status).toBe(200);
  });

  test("a path id that matches nothing answers 404 problem+json", async () => {
    const api = await newApi();
    await created(api);

    const answer = await invoke(api.get, { method: "GET", url: "/rapatriements/nope" });

    const problem = expectProblem(answer, 404, "NOT_FOUND");
    expect(problem).not.toHaveProperty("errors");
  });
});

describe("request bodies", () => {
  test.each([
    ["application/json; charset=utf-8"],
    ["Application/JSON; Charset=UTF-8"],
    ['application/json; charset="utf-8"'],
    ["application/json; profile=rapatriement; charset=utf-8"],
    ["application/vnd.api+json"],
  ])("POST accepts Content-Type %s", async (contentType) => {
    const api = await newApi();
    const answer = await invoke(api.create, post(sampleInput(1), { "content-type": contentType }));
    expect(answer.status).toBe(201);
  });

  test("PATCH accepts application/merge-patch+json", async () => {
    const api = await newApi();
    const record = await created(api);

    const answer = await invoke(api.update, {
      method: "PATCH",
      url: `/rapatriements/${record.id}`,
      headers: { "content-type": "application/merge-patch+json" },
      body: JSON.stringify({ comment: "quai 4" }),
    });

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ comment: "quai 4", version: 2 });
  });

  test.each([["text/plain"], ["application/json; charset=latin1"], [""]])(
    "a body sent as %j answers 415 and creates nothing",
    async (contentType) => {
      const api = await newApi();
      const headers: Record<string, string> =
        contentType === "" ? {} : { "content-type": contentType };

      const { answer, line } = await invokeLogged(api, api.create, post(sampleInput(1), headers));

      expectProblem(answer, 415, "UNSUPPORTED_MEDIA_TYPE");
      expect(s3Calls(line).count).toBe(0);
      const list = await invoke(api.list, { method: "GET", url: "/rapatriements" });
      expect((list.json as { items: unknown[] }).items).toEqual([]);
    },
  );

  test.each([["xapplication/foo+json"], ["application/foo+jsonx"], ["application/json-seq"]])(
    "Content-Type %s is not JSON: 415, whose detail names what was sent",
    async (contentType) => {
      const api = await newApi();
      const answer = await invoke(
        api.create,
        post(sampleInput(1), { "content-type": contentType }),
      );
      const problem = expectProblem(answer, 415, "UNSUPPORTED_MEDIA_TYPE");
      expect(problem.detail).toBe(
        `The body must be JSON sent with "Content-Type: application/json" (got "${contentType}").`,
      );
    },
  );

  test("a body with no Content-Type at all: 415 says it got none", async () => {
    const api = await newApi();
    const answer = await invoke(api.create, post(sampleInput(1), {}));
    expect(expectProblem(answer, 415, "UNSUPPORTED_MEDIA_TYPE").detail).toContain('(got "")');
  });

  test("an empty body is no body: the create is refused for its missing fields, not its media type", async () => {
    const api = await newApi();
    const answer = await invoke(api.create, { method: "POST", url: "/rapatriements", body: "" });
    const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([{ path: "", message: "the body must be a JSON object" }]);
  });

  test("a base64-encoded body is decoded before it is parsed", async () => {
    const api = await newApi();
    const comment = "Palette abîmée, reçue à 8 h";
    const input = sampleInput(1, { comment });

    const answer = await invoke(api.create, {
      method: "POST",
      url: "/rapatriements",
      headers: JSON_HEADERS,
      body: Buffer.from(JSON.stringify(input), "utf8").toString("base64"),
      isBase64Encoded: true,
    });

    expect(answer.status).toBe(201);
    expect(answer.json).toMatchObject({ reference: "RAP-1", comment });
  });

  // The limit counts bytes, not characters: 2,000 "€" are 2,000 characters
  // but 6,000 bytes of UTF-8, so that body is over the limit by bytes while
  // 4,000 characters under it.
  test.each([
    ["ASCII", {}, 0],
    ["accented text", { comment: "€".repeat(2000) }, 4000],
  ])(
    "a body of %s of 256 KiB + 1 byte answers 413; exactly 256 KiB of valid JSON does not",
    async (_label, fields, extraBytes) => {
      const api = await newApi();
      const json = JSON.stringify(sampleInput(1, fields));
      expect(Buffer.byteLength(json) - json.length).toBe(extraBytes);
      // JSON allows trailing white space: the size is the only thing that differs.
      const exact = json + " ".repeat(MAX_BODY_BYTES - Buffer.byteLength(json));
      expect(MAX_BODY_BYTES).toBe(256 * 1024);
      expect(Buffer.byteLength(exact)).toBe(256 * 1024);

      const tooLarge = await invokeLogged(api, api.create, {
        method: "POST",
        url: "/rapatriements",
        headers: JSON_HEADERS,
        body: `${exact} `,
      });
      expect(expectProblem(tooLarge.answer, 413, "PAYLOAD_TOO_LARGE").detail).toBe(
        "The body is larger than 256 KiB.",
      );
      expect(s3Calls(tooLarge.line).count).toBe(0);

      const fits = await invoke(api.create, {
        method: "POST",
        url: "/rapatriements",
        headers: JSON_HEADERS,
        body: exact,
      });
      expect(fits.status).toBe(201);
      expect(fits.json).toMatchObject({ reference: "RAP-1", ...fields });
    },
  );

  test("the 256 KiB limit counts the decoded bytes of a base64 body", async () => {
    const api = await newApi();
    const json = JSON.stringify(sampleInput(1));
    const exact = json + " ".repeat(MAX_BODY_BYTES - Buffer.byteLength(json));

    const fits = await invoke(api.create, {
      method: "POST",
      url: "/rapatriements",
      headers: JSON_HEADERS,
      body: Buffer.from(exact).toString("base64"),
      isBase64Encoded: true,
    });
    expect(fits.status).toBe(201);

    const tooLarge = await invoke(api.create, {
      method: "POST",
      url: "/rapatriements",
      headers: JSON_HEADERS,
      body: Buffer.from(`${exact} `).toString("base64"),
      isBase64Encoded: true,
    });
    expectProblem(tooLarge, 413, "PAYLOAD_TOO_LARGE");
  });

  test("invalid JSON answers 400 whose errors say the body is not JSON", async () => {
    const api = await newApi();

    const { answer, line } = await invokeLogged(api, api.create, {
      method: "POST",
      url: "/rapatriements",
      headers: JSON_HEADERS,
      body: '{"reference": "RAP-1",',
    });

    const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(problem.errors).toEqual([
      { path: "", message: expect.stringMatching(/^the body is not valid JSON \(.+\)$/) },
    ]);
    expect(s3Calls(line).count).toBe(0);
  });

  test("POST with no body answers 400 with its errors listed", async () => {
    const api = await newApi();

    const { answer, line } = await invokeLogged(api, api.create, {
      method: "POST",
      url: "/rapatriements",
      headers: JSON_HEADERS,
    });

    const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
    expect(Array.isArray(problem.errors)).toBe(true);
    expect((problem.errors as unknown[]).length).toBeGreaterThan(0);
    expect(s3Calls(line).count).toBe(0);
  });

  test("every bad field is listed, unknown fields included", async () => {
    const api = await newApi();

    const answer = await invoke(
      api.create,
      post(sampleInput(1, { reference: "a b", destination: "LYON-01", colour: "red" })),
    );

    const problem = expectProblem(answer, 400, "VALIDATION_FAILED");
    const paths = (problem.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(["reference", "destination"]));
    expect(JSON.stringify(problem.errors)).toContain("colour");
  });
});

describe("errors not meant for the caller", () => {
  test("an unreadable object answers 500 STORAGE_UNREADABLE; the real message goes to the log", async () => {
    const api = await newApi();
    await putBytes(api.target, "garbage");

    const { answer, line } = await invokeLogged(api, api.list, {
      method: "GET",
      url: "/rapatriements",
    });

    const problem = expectProblem(answer, 500, "STORAGE_UNREADABLE");
    expect(problem).not.toHaveProperty("errors");
    expect(problem.detail).toContain(answer.requestId);
    expectNothingInternal(answer, "SQLite");
    expect(line).toMatchObject({
      level: "error",
      status: 500,
      outcome: "server_error",
      code: "STORAGE_UNREADABLE",
      error: { name: "StorageUnreadableError" },
    });
    expect((line.error as { message: string }).message).toContain(
      "l'objet n'est pas un fichier SQLite",
    );
  });

  test("a configuration error answers 500 CONFIGURATION_INVALID; its message is logged, not shown", async () => {
    const api = brokenApi(new ValueError("AWS_REGION est obligatoire"));

    const { answer, line } = await invokeLogged(api, api.list, {
      method: "GET",
      url: "/rapatriements",
    });

    expectProblem(answer, 500, "CONFIGURATION_INVALID");
    expectNothingInternal(answer, "AWS_REGION");
    // An error with no cause is logged with none, not an empty one.
    expect(line.error).toEqual({ name: "ValueError", message: "AWS_REGION est obligatoire" });
    expect(line).toMatchObject({
      level: "error",
      requestId: answer.requestId,
      status: 500,
      outcome: "server_error",
      code: "CONFIGURATION_INVALID",
    });
    expect(JSON.stringify(line)).toContain("AWS_REGION est obligatoire");
  });

  test("an unexpected error answers 500 INTERNAL_ERROR without its message; the log has it, and its causes", async () => {
    const api = brokenApi(new Error("boom", { cause: new Error("socket closed", { cause: 42 }) }));

    const { answer, line } = await invokeLogged(api, api.create, post(sampleInput(1)));

    expectProblem(answer, 500, "INTERNAL_ERROR");
    expectNothingInternal(answer, "boom");
    expect(line).toMatchObject({
      level: "error",
      outcome: "server_error",
      code: "INTERNAL_ERROR",
    });
    expect(line.error).toEqual({
      name: "Error",
      message: "boom",
      cause: { name: "Error", message: "socket closed", cause: { message: "42" } },
    });
  });
});

describe("busy storage", () => {
  test("PUTs that keep losing the race answer 503 STORAGE_BUSY with Retry-After; the log shows the retries", async () => {
    const faulty = faultyClient();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const api = await newApi({
      s3: faulty.client,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });

    const { answer, line } = await invokeLogged(api, api.create, post(sampleInput(1)));

    expectProblem(answer, 503, "STORAGE_BUSY");
    expect(answer.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect(line).toMatchObject({
      level: "error",
      status: 503,
      outcome: "server_error",
      code: "STORAGE_BUSY",
      retries: 2,
    });
    const puts = s3Calls(line).calls.filter((c) => c.startsWith("PutObject"));
    expect(puts).toHaveLength(3);
    for (const put of puts) expect(put).toMatch(/^PutObject 412 /);
  });
});

describe("an S3 that does not answer the GET started at init", () => {
  test("the first request and the next both answer 503 STORAGE_BUSY with Retry-After, not an internal error", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    // Forwards to the local server, except GetObject, which never answers.
    const real = localS3Client();
    const stuck = {
      send: (command: { constructor: { name: string } }, options?: unknown) =>
        command.constructor.name === "GetObjectCommand"
          ? new Promise(() => {})
          : (real.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options),
    } as unknown as S3Client;
    const api = await newApi({ s3: stuck, prefetch: prefetchObject(stuck, target) });

    for (const request of ["first", "next"]) {
      const { answer, line } = await invokeLogged(api, api.list, {
        method: "GET",
        url: "/rapatriements",
        timeoutMs: 1200,
      });
      expectProblem(answer, 503, "STORAGE_BUSY");
      expect(answer.headers["retry-after"], request).toMatch(/^[1-9]\d*$/);
      expect(line, request).toMatchObject({ status: 503, code: "STORAGE_BUSY" });
    }
  });
});

describe("a write whose outcome S3 left unknown", () => {
  test("is answered 503 STORAGE_OUTCOME_UNKNOWN, and its retry with the same key returns what was applied", async () => {
    const faulty = faultyClient();
    const api = await newApi({ s3: faulty.client, retry: { baseDelayMs: 1, maxDelayMs: 2 } });
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      faulty.mock.on(GetObjectCommand).rejects(lostResponse());
      throw lostResponse();
    });
    const keyed = post(sampleInput(1), { ...JSON_HEADERS, "idempotency-key": "erp-4711" });

    const unknown = await invoke(api.create, { ...keyed, timeoutMs: 1000 });
    expectProblem(unknown, 503, "STORAGE_OUTCOME_UNKNOWN");
    expect(unknown.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
    expect((unknown.json as { detail: string }).detail).toMatch(/same idempotency key/);

    // S3 answers again; the client retries as told.
    faulty.mock
      .on(GetObjectCommand)
      .callsFake((input) => faulty.real.send(new GetObjectCommand(input)));
    const retried = await invoke(api.create, keyed);
    expect(retried.status).toBe(201);
    const list = await invoke(api.list, { method: "GET", url: "/rapatriements?reference=RAP-1" });
    expect((list.json as { items: Rapatriement[] }).items).toEqual([retried.json]);
  });
});

describe("Idempotency-Key on PATCH and DELETE", () => {
  function keyed(method: string, id: string, key: string, body?: unknown, ifMatch?: string): Call {
    const headers: Record<string, string> = { ...JSON_HEADERS, "idempotency-key": key };
    if (ifMatch !== undefined) headers["if-match"] = ifMatch;
    return {
      method,
      url: `/rapatriements/${id}`,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
  }

  test("a PATCH retried with its key is applied once, even after a later change; another body is 422", async () => {
    const api = await newApi();
    const record = await created(api);
    const patch = keyed("PATCH", record.id, "patch-1", { status: "requested" }, '"1"');

    const first = await invoke(api.update, patch);
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBe('"2"');
    const again = await invoke(api.update, patch);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);

    await invoke(api.update, {
      method: "PATCH",
      url: `/rapatriements/${record.id}`,
      headers: JSON_HEADERS,
      body: JSON.stringify({ comment: "later" }),
    });
    // Without the key this would be a 412 (If-Match "1"); with it, the first answer stands
    // and the record is shown as it is now.
    const late = await invoke(api.update, patch);
    expect(late.status).toBe(200);
    expect(late.json).toMatchObject({ status: "requested", comment: "later", version: 3 });
    expect(late.headers.etag).toBe('"3"');

    const other = await invoke(
      api.update,
      keyed("PATCH", record.id, "patch-1", { status: "cancelled" }, '"1"'),
    );
    expectProblem(other, 422, "IDEMPOTENCY_KEY_REUSED");
    const now = await invoke(api.get, { method: "GET", url: `/rapatriements/${record.id}` });
    expect(now.json).toMatchObject({ status: "requested", version: 3 });
  });

  test("a DELETE retried with its key is 204 again, not 404; the key used for a PATCH is 422", async () => {
    const api = await newApi();
    const record = await created(api);

    const first = await invoke(api.remove, keyed("DELETE", record.id, "del-1"));
    const again = await invoke(api.remove, keyed("DELETE", record.id, "del-1"));
    const unkeyed = await invoke(api.remove, {
      method: "DELETE",
      url: `/rapatriements/${record.id}`,
    });
    const reused = await invoke(api.update, keyed("PATCH", record.id, "del-1", { comment: "x" }));

    expect(first.status).toBe(204);
    expect(again.status).toBe(204);
    expectProblem(unkeyed, 404, "NOT_FOUND");
    expectProblem(reused, 422, "IDEMPOTENCY_KEY_REUSED");
  });
});

describe("header names are matched whatever their case", () => {
  test("IDEMPOTENCY-KEY: the same key and body give the same answer and one record; another body 422", async () => {
    const api = await newApi();
    const body = JSON.stringify(sampleInput(1));
    const call = (key: string, payload: string): Call => ({
      method: "POST",
      url: "/rapatriements",
      body: payload,
      rawHeaders: { "Content-Type": "application/json", [key]: "commande-42" },
    });

    const first = await invoke(api.create, call("IDEMPOTENCY-KEY", body));
    const again = await invoke(api.create, call("Idempotency-Key", body));
    const other = await invoke(api.create, call("idempotency-KEY", JSON.stringify(sampleInput(2))));

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers.location).toBe(first.headers.location);
    expectProblem(other, 422, "IDEMPOTENCY_KEY_REUSED");
    const list = await invoke(api.list, { method: "GET", url: "/rapatriements" });
    expect((list.json as { items: unknown[] }).items).toHaveLength(1);
  });

  test("IF-MATCH and If-None-Match in other cases are honoured", async () => {
    const api = await newApi();
    const record = await created(api);
    const url = `/rapatriements/${record.id}`;

    const stale = await invoke(api.update, {
      method: "PATCH",
      url,
      body: JSON.stringify({ comment: "x" }),
      rawHeaders: { "CONTENT-TYPE": "application/json", "IF-MATCH": '"9"' },
    });
    expectProblem(stale, 412, "VERSION_MISMATCH");

    const malformed = await invoke(api.remove, {
      method: "DELETE",
      url,
      rawHeaders: { "If-match": "abc" },
    });
    expectProblem(malformed, 400, "VALIDATION_FAILED");

    const notModified = await invoke(api.get, {
      method: "GET",
      url,
      rawHeaders: { "IF-NONE-MATCH": '"1"' },
    });
    expect(notModified.status).toBe(304);

    const patched = await invoke(api.update, {
      method: "PATCH",
      url,
      body: JSON.stringify({ comment: "y" }),
      rawHeaders: { "Content-Type": "application/json", "If-Match": '"1"' },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
  });

  test("a Content-Type in capitals is read like any other", async () => {
    const api = await newApi();

    const refused = await invoke(api.create, {
      method: "POST",
      url: "/rapatriements",
      body: JSON.stringify(sampleInput(1)),
      rawHeaders: { "CONTENT-TYPE": "text/plain" },
    });
    expectProblem(refused, 415, "UNSUPPORTED_MEDIA_TYPE");

    const accepted = await invoke(api.create, {
      method: "POST",
      url: "/rapatriements",
      body: JSON.stringify(sampleInput(1)),
      rawHeaders: { "Content-Type": "application/json" },
    });
    expect(accepted.status).toBe(201);
  });
});
