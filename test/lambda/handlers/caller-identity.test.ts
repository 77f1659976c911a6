/**
 * Who did what, through the HTTP handlers with authorizer contexts shaped as
 * API Gateway sends them (IAM: `requestContext.authorizer.iam.userArn`; JWT:
 * `requestContext.authorizer.jwt.claims.sub`): `createdBy` and `updatedBy`
 * come from there and nowhere else. A body that tries to set them is refused
 * (400, nothing stored); a header that names someone is ignored.
 */
import { describe, expect, test } from "vitest";
import { callerOf } from "../../../lambda/handlers/caller.ts";
import {
  type EventParts,
  httpApiEvent,
  newHttpApi,
  type RouteKey,
} from "../../support/http-api-events.ts";
import { sampleInput } from "../../support/local-s3.ts";
import { openApiChecker } from "../../support/openapi.ts";

const conforms = openApiChecker();

const PLANNER = "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/alice";
const OTHER_PLANNER = "arn:aws:sts::123456789012:assumed-role/rapatriements-planners/bob";
const SUB = "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d";
const READ_ONLY_IDENTITY =
  "is read-only: the server takes it from the caller's authenticated identity";

type Api = Awaited<ReturnType<typeof newHttpApi>>;
type Caller = Pick<EventParts, "callerArn" | "jwt" | "headers">;

function post(api: Api, body: unknown, caller: Caller = {}) {
  return api.send({
    routeKey: "POST /rapatriements",
    rawPath: "/rapatriements",
    body: JSON.stringify(body),
    ...caller,
    headers: { "content-type": "application/json", ...caller.headers },
  });
}

function onRecord(api: Api, routeKey: RouteKey, id: string, body?: unknown, caller: Caller = {}) {
  return api.send({
    routeKey,
    rawPath: `/rapatriements/${id}`,
    pathParameters: { id },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...caller,
    headers: { "content-type": "application/json", ...caller.headers },
  });
}

describe("createdBy and updatedBy from the authorizer's context", () => {
  test("IAM: the caller's ARN creates, another's changes; both show in every answer and log line", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("iam-1"), { callerArn: PLANNER });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: PLANNER, updatedBy: PLANNER });
    expect(conforms(created.recorded)).toEqual([]);
    expect(api.lines.at(-1)).toMatchObject({ status: 201, caller: PLANNER });
    const { id } = created.json as { id: string };

    const cancelled = await onRecord(
      api,
      "PATCH /rapatriements/{id}",
      id,
      { status: "cancelled" },
      { callerArn: OTHER_PLANNER },
    );
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({
      status: "cancelled",
      version: 2,
      createdBy: PLANNER,
      updatedBy: OTHER_PLANNER,
    });
    expect(api.lines.at(-1)).toMatchObject({ status: 200, caller: OTHER_PLANNER });

    // Anyone reading later sees who cancelled it.
    const read = await onRecord(api, "GET /rapatriements/{id}", id);
    expect(read.json).toMatchObject({ createdBy: PLANNER, updatedBy: OTHER_PLANNER });
    expect(conforms(read.recorded)).toEqual([]);
    const listed = await api.send({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
    expect((listed.json as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ id, createdBy: PLANNER, updatedBy: OTHER_PLANNER }),
    ]);
    expect(conforms(listed.recorded)).toEqual([]);
  });

  test("JWT: the token's sub is the identity, whatever else the claims say", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("jwt-1"), {
      jwt: { sub: SUB, scopes: ["rapatriements:write"] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: SUB, updatedBy: SUB });
    expect(api.lines.at(-1)).toMatchObject({ caller: SUB });

    const { id } = created.json as { id: string };
    const changed = await onRecord(
      api,
      "PATCH /rapatriements/{id}",
      id,
      { comment: "quai 4" },
      { jwt: { sub: "planner-2", scopes: ["rapatriements:write"] } },
    );
    expect(changed.json).toMatchObject({ createdBy: SUB, updatedBy: "planner-2" });
  });

  test("a PATCH that changes nothing keeps updatedBy: nobody changed the record", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("same-1", { comment: "x" }), {
      callerArn: PLANNER,
    });
    const { id } = created.json as { id: string };
    const same = await onRecord(
      api,
      "PATCH /rapatriements/{id}",
      id,
      { comment: "x" },
      { callerArn: OTHER_PLANNER },
    );
    expect(same.json).toMatchObject({ version: 1, updatedBy: PLANNER });
  });

  test("a delete leaves no record; its log line names who deleted", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("del-1"), { callerArn: PLANNER });
    const { id } = created.json as { id: string };
    const deleted = await onRecord(api, "DELETE /rapatriements/{id}", id, undefined, {
      callerArn: OTHER_PLANNER,
    });
    expect(deleted.status).toBe(204);
    expect(api.lines.at(-1)).toMatchObject({
      route: "DELETE /rapatriements/{id}",
      status: 204,
      caller: OTHER_PLANNER,
    });
  });
});

describe("identity comes from the authorizer only", () => {
  test("a create whose body sets createdBy or updatedBy is refused with 400, naming both; nothing is stored", async () => {
    const api = await newHttpApi();
    const refused = await post(
      api,
      { ...sampleInput("forged-1"), createdBy: "the-boss", updatedBy: "the-boss" },
      { callerArn: PLANNER },
    );
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({
      code: "VALIDATION_FAILED",
      errors: [
        { path: "createdBy", message: READ_ONLY_IDENTITY },
        { path: "updatedBy", message: READ_ONLY_IDENTITY },
      ],
    });
    expect(conforms(refused.recorded)).toEqual([]);
    const listed = await api.send({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
    expect(listed.json).toEqual({ items: [], nextCursor: null });
  });

  test("a PATCH whose body sets updatedBy is refused with 400, and the record is unchanged", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("forged-2"), { callerArn: PLANNER });
    const { id } = created.json as { id: string };
    const refused = await onRecord(
      api,
      "PATCH /rapatriements/{id}",
      id,
      { status: "cancelled", updatedBy: "someone-else" },
      { callerArn: OTHER_PLANNER },
    );
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({
      errors: [{ path: "updatedBy", message: READ_ONLY_IDENTITY }],
    });
    const read = await onRecord(api, "GET /rapatriements/{id}", id);
    expect(read.json).toMatchObject({ status: "draft", version: 1, updatedBy: PLANNER });
  });

  test("the local API's identity header, sent to the deployed handlers, is ignored", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("hdr-1"), {
      callerArn: PLANNER,
      headers: { "x-local-identity": "the-boss" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: PLANNER, updatedBy: PLANNER });
    const { id } = created.json as { id: string };
    const changed = await onRecord(
      api,
      "PATCH /rapatriements/{id}",
      id,
      { comment: "x" },
      { jwt: { sub: SUB }, headers: { "x-local-identity": "the-boss" } },
    );
    expect(changed.json).toMatchObject({ updatedBy: SUB });
    expect(JSON.stringify(api.lines)).not.toContain("the-boss");
  });

  test("an event with no authorizer (never sent by the deployed API) records null, not a guess", async () => {
    const api = await newHttpApi();
    const event = httpApiEvent({
      routeKey: "POST /rapatriements",
      rawPath: "/rapatriements",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sampleInput("anon-1")),
    });
    delete (event.requestContext as { authorizer?: unknown }).authorizer;
    const created = await api.deliver(event);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ createdBy: null, updatedBy: null });
    expect(conforms(created.recorded)).toEqual([]);
  });

  test.each([
    [
      "a JWT whose sub is empty, with an IAM caller",
      { jwt: { claims: { sub: "" } }, iam: { userArn: PLANNER } },
      PLANNER,
    ],
    ["a JWT with no claims, with an IAM caller", { jwt: {}, iam: { userArn: PLANNER } }, PLANNER],
    ["a JWT whose sub is empty, alone", { jwt: { claims: { sub: "" } } }, null],
    ["an IAM context whose ARN is empty", { iam: { userArn: "" } }, null],
    ["an IAM context with no ARN", { iam: {} }, null],
  ])(
    "%s: an empty identity is no identity, the next one or null is taken",
    (_label, authorizer, expected) => {
      const event = httpApiEvent({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
      (event.requestContext as { authorizer?: unknown }).authorizer = authorizer;
      expect(callerOf(event)).toBe(expected);
    },
  );
});
