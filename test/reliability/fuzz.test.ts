/**
 * Input fuzzing of the HTTP handlers with random and hostile JSON: deep
 * nesting, huge numbers, prototype-pollution keys, SQL text in every field,
 * odd content types, cursors, limits, ids and If-Match values. Never a 500;
 * never a change to stored data on a 4xx.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import type { HandlerDeps } from "../../lambda/handlers/composition-root.ts";
import { createRapatriementHandler } from "../../lambda/handlers/create-rapatriement.ts";
import { deleteRapatriementHandler } from "../../lambda/handlers/delete-rapatriement.ts";
import { getRapatriementHandler } from "../../lambda/handlers/get-rapatriement.ts";
import { listRapatriementsHandler } from "../../lambda/handlers/list-rapatriements.ts";
import { HTTP_ROUTES } from "../../lambda/handlers/routes.ts";
import { updateRapatriementHandler } from "../../lambda/handlers/update-rapatriement.ts";
import { lambdaContext, matchRoute, toApiGatewayEvent } from "../../tools/local-api/api-gateway.ts";
import { etagOf, newEngine, newTarget, sampleInput, type Target } from "../support/local-s3.ts";

const SQL = [
  "'; DROP TABLE rapatriements; --",
  '" OR 1=1 --',
  "x' UNION SELECT sql FROM sqlite_master --",
  "%'; DELETE FROM rapatriement_lines; --",
];
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

const hostileString = fc.oneof(
  fc.constantFrom(...SQL),
  fc.string({ maxLength: 80 }),
  fc.constantFrom("", " ", "\u0000", "\ud800", "RAP-1", "LYON-01", "2026-03-01T08:00:00Z"),
);
const hugeNumber = fc.constantFrom(1e308, -1e308, 5e-324, 2 ** 53 + 1, -0, 0, 1, 1.5);
const jsonLeaf = fc.oneof(hostileString, hugeNumber, fc.boolean(), fc.constant(null));

/** JSON with hostile keys, deep nesting, and leaves of every kind. */
const hostileJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonLeaf,
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(
    fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 })),
    tie("value"),
    {
      maxKeys: 5,
    },
  ),
})).value;

/** A create body close to valid, with one or more fields replaced by hostile values. */
const nearlyValid = fc
  .record({
    reference: fc.option(hostileString, { nil: undefined }),
    origin: fc.option(hostileString, { nil: undefined }),
    destination: fc.option(hostileString, { nil: undefined }),
    lines: fc.option(hostileJson, { nil: undefined }),
    extra: fc.option(fc.tuple(fc.constantFrom(...HOSTILE_KEYS), hostileJson), { nil: undefined }),
  })
  .map(({ extra, ...fields }) => {
    const body: Record<string, unknown> = { ...sampleInput("fuzz") };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) body[key] = value;
    if (extra !== undefined)
      Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true });
    return body;
  });

function deeplyNested(depth: number): string {
  return `${"[".repeat(depth)}1${"]".repeat(depth)}`;
}

const rawBody = fc.oneof(
  hostileJson.map((v) => JSON.stringify(v) ?? "null"),
  nearlyValid.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    deeplyNested(10_000),
    `{"a":${deeplyNested(5000)}}`,
    "{",
    "nul",
    '{"__proto__":{"polluted":1}}',
  ),
  fc.string({ maxLength: 200 }),
);
const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/merge-patch+json",
  "text/plain",
  "application/json; charset=latin1",
  "",
);
const ifMatch = fc.oneof(
  fc.constantFrom('"1"', '"2"', "*", 'W/"1"', "", '"0"', '"99999999999999999999"'),
  hostileString,
);

type Handler = (
  event: unknown,
  context: unknown,
) => Promise<{ statusCode?: number; body?: string }>;

let target: Target;
let id: string;
let handlers: Map<string, Handler>;

beforeAll(async () => {
  target = await newTarget("sqlite");
  const engine = await newEngine(target);
  id = (await engine.service.create(sampleInput("kept"))).id;
  const deps: HandlerDeps = {
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: () => {},
  };
  handlers = new Map<string, Handler>([
    ["create-rapatriement", createRapatriementHandler(deps) as Handler],
    ["list-rapatriements", listRapatriementsHandler(deps) as Handler],
    ["get-rapatriement", getRapatriementHandler(deps) as Handler],
    ["update-rapatriement", updateRapatriementHandler(deps) as Handler],
    ["delete-rapatriement", deleteRapatriementHandler(deps) as Handler],
  ]);
});

async function send(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const path = url.split("?")[0] ?? url;
  const match = matchRoute(HTTP_ROUTES, method, path);
  if (match === undefined) throw new Error(`no route ${method} ${path}`);
  const handler = handlers.get(match.route.module);
  if (handler === undefined) throw new Error(`no handler ${match.route.module}`);
  const event = toApiGatewayEvent(
    { method, url, headers, ...(body === undefined ? {} : { body }) },
    match.route,
    match.pathParameters,
  );
  return handler(event, lambdaContext("fuzz"));
}

/** Sends, then checks: never a 500; a 4xx leaves the stored object as it was. */
async function check(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const before = await etagOf(target);
  const answer = await send(method, url, body, headers);
  const status = answer.statusCode ?? 0;
  expect(status, `${method} ${url} ${body?.slice(0, 200)}`).toBeLessThan(500);
  if (status >= 400) expect(await etagOf(target), `${method} ${url} changed data`).toBe(before);
  return status;
}

const counts = { post: 0, patch: 0, list: 0, get: 0, delete: 0 };

describe("fuzzing the HTTP handlers", () => {
  test("POST with random and hostile bodies and content types", async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, contentType, async (body, type) => {
        counts.post += 1;
        await check("POST", "/rapatriements", body, {
          "content-type": type,
          "idempotency-key": "fuzz-key",
        });
      }),
      { numRuns: 300 },
    );
    expect(counts.post).toBe(300);
  });

  test("PATCH with random bodies and If-Match values", async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, ifMatch, async (body, match) => {
        counts.patch += 1;
        await check("PATCH", `/rapatriements/${id}`, body, {
          "content-type": "application/json",
          "if-match": match,
        });
      }),
      { numRuns: 200 },
    );
    expect(counts.patch).toBe(200);
  });

  test("list with random query strings", async () => {
    const param = fc.constantFrom(
      "status",
      "origin",
      "destination",
      "reference",
      "limit",
      "cursor",
      "__proto__",
      "x",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(param, hostileString), { maxLength: 4 }),
        async (pairs) => {
          counts.list += 1;
          const query = new URLSearchParams(pairs).toString();
          await check("GET", `/rapatriements${query === "" ? "" : `?${query}`}`);
        },
      ),
      { numRuns: 200 },
    );
    expect(counts.list).toBe(200);
  });

  test("get and delete with random ids and If-Match values", async () => {
    const encodable = (s: string) => {
      try {
        encodeURIComponent(s);
        return s !== "" && !s.includes("/");
      } catch {
        return false; // a lone surrogate cannot be sent in a URL at all
      }
    };
    const anyId = fc.oneof(hostileString.filter(encodable), fc.constant(id));
    await fc.assert(
      fc.asyncProperty(anyId, ifMatch, async (candidate, match) => {
        counts.get += 1;
        const url = `/rapatriements/${encodeURIComponent(candidate)}`;
        await check("GET", url, undefined, { "if-none-match": match });
        counts.delete += 1;
        // Only a stale or malformed If-Match may reach the kept record: it must stay.
        const guard = match === "*" || match === "" || match === '"1"' ? '"2"' : match;
        await check("DELETE", url, undefined, { "if-match": guard });
      }),
      { numRuns: 150 },
    );
    expect(counts.get).toBe(150);
  });
});
