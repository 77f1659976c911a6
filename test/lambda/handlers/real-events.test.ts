/**
 * Events in the shapes real event sources deliver (test/fixtures/http-api-v2):
 * `"body": null` as serverless-offline sends it, null path and query maps,
 * IAM and JWT authorizer blocks, base64 bodies, a stray body on a route that
 * takes none, a custom domain's base path in `rawPath`. Each gets the answer
 * its route promises, documented in docs/openapi.yaml, and never a 500.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../../tools/local-s3/local-s3.ts";
import { createOne, newHttpApi } from "../../support/http-api-events.ts";
import { openApiChecker } from "../../support/openapi.ts";

const FIXTURES = join(PROJECT_ROOT, "test", "fixtures", "http-api-v2");
const conforms = openApiChecker();

/** What each fixture must be answered. */
const EXPECTED: Record<string, number> = {
  "offline-list-body-null.json": 200,
  "offline-get-body-null.json": 200,
  "offline-post-body-null.json": 400,
  "offline-delete-body-null.json": 204,
  "gateway-get-stray-text-body.json": 200,
  "gateway-list-query-jwt.json": 200,
  "gateway-post-base64.json": 201,
  "gateway-patch-empty-body.json": 400,
  "gateway-delete-stray-form-body.json": 204,
};

const ERP = "arn:aws:sts::123456789012:assumed-role/erp-sync/erp-sync";
const OPS = "arn:aws:iam::123456789012:user/ops";

/** Who each fixture's authorizer says the caller is (null: the event has no authorizer). */
const CALLER: Record<string, string | null> = {
  "offline-list-body-null.json": "offline-user",
  "offline-get-body-null.json": null,
  "offline-post-body-null.json": null,
  "offline-delete-body-null.json": null,
  "gateway-get-stray-text-body.json": ERP,
  "gateway-list-query-jwt.json": "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d",
  "gateway-post-base64.json": ERP,
  "gateway-patch-empty-body.json": OPS,
  "gateway-delete-stray-form-body.json": OPS,
};

function fixture(name: string, id: string): APIGatewayProxyEventV2 {
  const text = readFileSync(join(FIXTURES, name), "utf8").replaceAll("RECORD_ID", id);
  return JSON.parse(text) as APIGatewayProxyEventV2;
}

/**
 * The HTTP function as deployed for the API a fixture comes from (its
 * `apiId`; serverless-offline's is `offlineContext_apiId`, so a team running
 * the function there sets HTTP_API_ID to it).
 */
function apiFor(name: string) {
  return newHttpApi({ apiId: fixture(name, "").requestContext.apiId });
}

describe("real-shaped HTTP API v2 events", () => {
  test("every fixture has its expected answer and caller here", () => {
    const files = readdirSync(FIXTURES).filter((file) => file.endsWith(".json"));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(files.sort()).toEqual(Object.keys(CALLER).sort());
  });

  test.each(Object.entries(EXPECTED))(
    "%s answers %i, as documented, with one log line",
    async (name, status) => {
      const api = await apiFor(name);
      const created = await createOne(api);
      const id = (created.json as { id: string }).id;
      const before = api.lines.length;

      const sent = await api.deliver(fixture(name, id));

      expect(sent.status, JSON.stringify(sent.json)).toBe(status);
      expect(conforms(sent.recorded)).toEqual([]);
      expect(api.lines).toHaveLength(before + 1);
      expect(api.lines.at(-1)).toMatchObject({ status, caller: CALLER[name] });
      if (status === 201) {
        expect(sent.json).toMatchObject({ createdBy: CALLER[name], updatedBy: CALLER[name] });
      }
    },
  );

  test("a body on a route that takes none changes nothing: the record is still there, unchanged", async () => {
    const api = await apiFor("gateway-get-stray-text-body.json");
    const created = await createOne(api);
    const record = created.json as { id: string };
    const fetched = await api.deliver(fixture("gateway-get-stray-text-body.json", record.id));
    expect(fetched.json).toEqual(record);
  });
});

describe("behind a custom domain whose API mapping has a base path (v1)", () => {
  const body = JSON.stringify({
    reference: "RAP-V1",
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "PAL-EUR", quantity: 1 }],
  });

  test("a create sent to /v1/rapatriements answers Location /v1/rapatriements/{id}, which reads the record back", async () => {
    const api = await newHttpApi();
    // API Gateway matches the route without the base path; rawPath keeps it.
    const created = await api.send({
      routeKey: "POST /rapatriements",
      rawPath: "/v1/rapatriements",
      headers: { "content-type": "application/json", host: "api.example.org" },
      body,
    });
    expect(created.status).toBe(201);
    const record = created.json as { id: string };
    const location = created.result.headers?.location;
    expect(location).toBe(`/v1/rapatriements/${encodeURIComponent(record.id)}`);
    expect(conforms(created.recorded)).toEqual([]);

    const fetched = await api.send({
      routeKey: "GET /rapatriements/{id}",
      rawPath: String(location),
      pathParameters: { id: record.id },
    });
    expect(fetched.status).toBe(200);
    expect(fetched.json).toEqual(record);
  });

  test("a path with doubled slashes never gives a Location that reads as another host (//host/…)", async () => {
    const api = await newHttpApi();
    const created = await api.send({
      routeKey: "POST /rapatriements",
      rawPath: "//evil.example//rapatriements/",
      headers: { "content-type": "application/json" },
      body,
    });
    const record = created.json as { id: string };
    expect(created.result.headers?.location).toBe(`/evil.example/rapatriements/${record.id}`);
  });
});
