/**
 * docs/openapi.yaml against the server, for what a request carries: a value
 * valid per the reference's patterns (If-Match on PATCH and DELETE, the
 * list's cursor) is taken by the HTTP function — never a 400 — and every
 * cursor the server can give is valid per the reference. A client generated
 * from the reference, or a contract fuzzer, then sends nothing the server
 * refuses.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encodeCursor } from "../../../lambda/rapatriements/cursor.ts";
import { createOne, newHttpApi, type Sent } from "../../support/http-api-events.ts";
import { loadOpenApi, openApiChecker } from "../../support/openapi.ts";

type Node = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

const document = loadOpenApi() as Node;
const conforms = openApiChecker();
const components = document.components as Node[string];
const patternOf = (schema: Record<string, unknown> | undefined): RegExp => {
  const pattern = schema?.pattern;
  if (typeof pattern !== "string") throw new Error("docs/openapi.yaml: no pattern");
  return new RegExp(pattern, "u");
};
const IF_MATCH = patternOf(components.parameters?.IfMatch?.schema as Record<string, unknown>);
const CURSOR = patternOf(components.schemas?.Cursor);
const RUNS = 60;

function idOf(sent: Sent): string {
  return (sent.json as { id: string }).id;
}

describe("what docs/openapi.yaml allows in a request, the server takes", () => {
  test("PATCH and DELETE take every If-Match the reference allows: 200, 204 or 412, never 400", async () => {
    const api = await newHttpApi();
    const id = idOf(await createOne(api, "RAP-IF-MATCH"));
    const path = `/rapatriements/${id}`;
    let others = 0;
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(IF_MATCH), async (ifMatch) => {
        const patched = await api.send({
          routeKey: "PATCH /rapatriements/{id}",
          rawPath: path,
          pathParameters: { id },
          headers: { "content-type": "application/json", "if-match": ifMatch },
          body: JSON.stringify({ comment: "checked" }),
        });
        expect([200, 412]).toContain(patched.status);
        expect(conforms(patched.recorded)).toEqual([]);
        // Another record each time, so that a matching If-Match deletes one that is there.
        const other = idOf(await createOne(api, `RAP-DELETE-${++others}`));
        const deleted = await api.send({
          routeKey: "DELETE /rapatriements/{id}",
          rawPath: `/rapatriements/${other}`,
          pathParameters: { id: other },
          headers: { "if-match": ifMatch },
        });
        expect([204, 412]).toContain(deleted.status);
        expect(conforms(deleted.recorded)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  test("the list takes every cursor the reference allows: 200, never 400", async () => {
    const api = await newHttpApi();
    await createOne(api, "RAP-CURSOR");
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(CURSOR), async (cursor) => {
        const listed = await api.send({
          routeKey: "GET /rapatriements",
          rawPath: "/rapatriements",
          rawQueryString: `cursor=${encodeURIComponent(cursor)}`,
        });
        expect(listed.status).toBe(200);
        expect(conforms(listed.recorded)).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });

  test("every cursor the server gives is one the reference allows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8_999_999_999_999_999 }), (position) => {
        expect(encodeCursor(position)).toMatch(CURSOR);
      }),
      { numRuns: 2_000 },
    );
    for (let position = 1; position <= 1_000; position++) {
      expect(encodeCursor(position)).toMatch(CURSOR);
    }
  });

  test("what a contract fuzzer found the server refuses, the reference refuses too", async () => {
    expect("0").not.toMatch(IF_MATCH);
    expect("r1.0").not.toMatch(CURSOR);
    const api = await newHttpApi();
    const id = idOf(await createOne(api, "RAP-REFUSED"));
    const path = `/rapatriements/${id}`;
    const patched = await api.send({
      routeKey: "PATCH /rapatriements/{id}",
      rawPath: path,
      pathParameters: { id },
      headers: { "content-type": "application/json", "if-match": "0" },
      body: JSON.stringify({ comment: "refused" }),
    });
    const deleted = await api.send({
      routeKey: "DELETE /rapatriements/{id}",
      rawPath: path,
      pathParameters: { id },
      headers: { "if-match": "0" },
    });
    const listed = await api.send({
      routeKey: "GET /rapatriements",
      rawPath: "/rapatriements",
      rawQueryString: "cursor=r1.0",
    });
    expect([patched.status, deleted.status, listed.status]).toEqual([400, 400, 400]);
  });
});
