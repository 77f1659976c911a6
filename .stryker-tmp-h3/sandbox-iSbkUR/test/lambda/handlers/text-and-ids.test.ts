/**
 * What a string may hold and how long it may be, as a caller meets it: a lone
 * UTF-16 surrogate or a body that is not UTF-8 is refused with 400 and stores
 * nothing; lengths count characters, as docs/openapi.yaml's maxLength does;
 * a path id out of bounds gets the documented 400 with a message that says
 * what an id is.
 */
// @ts-nocheck

import { describe, expect, test } from "vitest";
import { LONE_SURROGATE } from "../../../lambda/rapatriements/validation.ts";
import { httpApiEvent, newHttpApi, type Sent } from "../../support/http-api-events.ts";
import { openApiChecker } from "../../support/openapi.ts";

const conforms = openApiChecker();
const JSON_TYPE = { "content-type": "application/json" };

/** A valid create body, its strings replaced by those given. */
function body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reference: "RAP-TEXT-1",
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "PAL-EUR", quantity: 1 }],
    ...overrides,
  };
}

function errorsOf(sent: Sent): { path: string; message: string }[] {
  expect(sent.status).toBe(400);
  expect(conforms(sent.recorded)).toEqual([]);
  return (sent.json as { errors: { path: string; message: string }[] }).errors;
}

async function listed(api: Awaited<ReturnType<typeof newHttpApi>>): Promise<unknown[]> {
  const sent = await api.send({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
  return (sent.json as { items: unknown[] }).items;
}

const post = (text: string) => ({
  routeKey: "POST /rapatriements" as const,
  rawPath: "/rapatriements",
  headers: JSON_TYPE,
  body: text,
});

describe("lone UTF-16 surrogates", () => {
  test("in a sku, a unit or a comment: 400 naming each field, nothing stored", async () => {
    const api = await newHttpApi();
    // JSON escapes are how a lone surrogate travels in a body; JSON.stringify writes them so.
    const sent = await api.send(
      post(
        JSON.stringify(
          body({
            lines: [{ sku: "A\ud800", quantity: 1, unit: "\udfffkg" }],
            comment: "fin \ud83d",
          }),
        ),
      ),
    );
    expect(errorsOf(sent)).toEqual([
      { path: "lines[0].sku", message: LONE_SURROGATE },
      { path: "lines[0].unit", message: LONE_SURROGATE },
      { path: "comment", message: LONE_SURROGATE },
    ]);
    expect(await listed(api)).toEqual([]);
  });

  test("origin and destination that would both be stored as U+FFFD are refused, not collapsed", async () => {
    const api = await newHttpApi();
    const sent = await api.send(
      post(JSON.stringify(body({ origin: "SITE-\ud800", destination: "SITE-\udc00" }))),
    );
    expect(errorsOf(sent).map((e) => e.path)).toEqual(["origin", "destination"]);
    expect(await listed(api)).toEqual([]);
  });

  test("a PATCH and a list filter with one are refused the same way", async () => {
    const api = await newHttpApi();
    const created = await api.send(post(JSON.stringify(body())));
    const id = (created.json as { id: string }).id;
    const patched = await api.send({
      routeKey: "PATCH /rapatriements/{id}",
      rawPath: `/rapatriements/${id}`,
      pathParameters: { id },
      headers: JSON_TYPE,
      body: JSON.stringify({ destination: "X\udbff" }),
    });
    expect(errorsOf(patched)).toEqual([{ path: "destination", message: LONE_SURROGATE }]);
    const filtered = await api.send({
      routeKey: "GET /rapatriements",
      rawPath: "/rapatriements",
      rawQueryString: `origin=${encodeURIComponent("LYON")}`,
    });
    expect(filtered.status).toBe(200);
    // API Gateway hands over decoded query values; a lone surrogate can reach the handler so.
    const event = {
      routeKey: "GET /rapatriements" as const,
      rawPath: "/rapatriements",
      rawQueryString: "origin=x",
    };
    const raw = httpApiEvent(event);
    raw.queryStringParameters = { origin: "LYON\ud800" };
    expect(errorsOf(await api.deliver(raw))).toEqual([{ path: "origin", message: LONE_SURROGATE }]);
    const [record] = (await listed(api)) as { destination: string; version: number }[];
    expect(record).toMatchObject({ destination: "PARIS-02", version: 1 });
  });
});

describe("invalid UTF-8", () => {
  test("a base64 body that is not UTF-8 answers 400 and stores nothing", async () => {
    const api = await newHttpApi();
    const valid = Buffer.from(JSON.stringify(body({ comment: "XX" })), "utf8");
    // 0xC3 0x28: a two-byte sequence whose second byte is not a continuation.
    const bad = Buffer.from(valid.toString("latin1").replace("XX", "\u00c3("), "latin1");
    const sent = await api.send({
      ...post(""),
      body: bad.toString("base64"),
      isBase64Encoded: true,
    });
    expect(errorsOf(sent)).toEqual([{ path: "", message: "the body is not valid UTF-8" }]);
    expect(await listed(api)).toEqual([]);

    const good = await api.send({
      ...post(""),
      body: Buffer.from(JSON.stringify(body({ comment: "déjà reçu" }))).toString("base64"),
      isBase64Encoded: true,
    });
    expect(good.status).toBe(201);
    expect((good.json as { comment: string }).comment).toBe("déjà reçu");
  });
});

describe("lengths count characters", () => {
  test("64 emoji make a valid sku (128 UTF-16 units), answered and stored as sent; 65 do not", async () => {
    const api = await newHttpApi();
    const sku = "📦".repeat(64);
    const created = await api.send(post(JSON.stringify(body({ lines: [{ sku, quantity: 2 }] }))));
    expect(created.status).toBe(201);
    expect(conforms(created.recorded)).toEqual([]);
    const id = (created.json as { id: string }).id;
    const fetched = await api.send({
      routeKey: "GET /rapatriements/{id}",
      rawPath: `/rapatriements/${id}`,
      pathParameters: { id },
    });
    expect((fetched.json as { lines: { sku: string }[] }).lines[0]?.sku).toBe(sku);
    expect(conforms(fetched.recorded)).toEqual([]);

    const tooLong = await api.send(
      post(JSON.stringify(body({ reference: "RAP-2", lines: [{ sku: `${sku}📦`, quantity: 2 }] }))),
    );
    expect(errorsOf(tooLong)).toEqual([
      { path: "lines[0].sku", message: "must be at most 64 characters" },
    ]);
  });
});

describe("GET /rapatriements/{id}", () => {
  const get = (id: string, rawPath = `/rapatriements/${encodeURIComponent(id)}`) => ({
    routeKey: "GET /rapatriements/{id}" as const,
    rawPath,
    pathParameters: { id },
  });

  test("129 characters: the documented 400 that says what an id is", async () => {
    const api = await newHttpApi();
    const sent = await api.send(get("a".repeat(129)));
    expect(errorsOf(sent)).toEqual([
      { path: "id", message: "must be 1 to 128 characters, an id as this API returned it" },
    ]);
  });

  test("128 characters, even of emoji (256 UTF-16 units), are a well-formed id: 404 when absent", async () => {
    const api = await newHttpApi();
    for (const id of ["a".repeat(128), "é".repeat(128), "🚚".repeat(128)]) {
      const sent = await api.send(get(id));
      expect(sent.status, id).toBe(404);
      expect(conforms(sent.recorded)).toEqual([]);
    }
  });

  test("an id with a lone surrogate: 400", async () => {
    const api = await newHttpApi();
    expect(errorsOf(await api.send(get("abc\ud800", "/rapatriements/abc%ED%A0%80")))).toEqual([
      { path: "id", message: LONE_SURROGATE },
    ]);
  });
});
