/**
 * The one HTTP function: every route of routes.ts reaches its own module,
 * all of them share the container's one cached database, and a route the
 * function does not serve is answered with a clear problem+json 404, logged,
 * without touching the data. It answers only the events of its own API
 * (HTTP_API_ID): any other event — a direct invocation — is refused.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { HttpEvent } from "../../../lambda/handlers/http-request.ts";
import type { HttpResult } from "../../../lambda/handlers/http-response.ts";
import {
  httpRouter,
  httpRouterHandler,
  ROUTE_MODULES,
  type RouteHandler,
} from "../../../lambda/handlers/http-router.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import { HTTP_ROUTES, routeKey } from "../../../lambda/handlers/routes.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import { PROJECT_ROOT } from "../../../tools/local-s3/local-s3.ts";
import {
  createOne,
  GATEWAY_API_ID,
  httpApiEvent,
  newHttpApi,
} from "../../support/http-api-events.ts";

/** Handlers that answer with their module's name, so a test sees which one ran. */
function namingHandlers(): Map<string, RouteHandler> {
  return new Map(
    HTTP_ROUTES.map((route) => [
      route.module,
      async (): Promise<HttpResult> => ({ statusCode: 299, body: route.module }),
    ]),
  );
}

describe("the HTTP router", () => {
  test("routes.ts's modules are the router's, each the factory its own file in lambda/handlers/ exports", async () => {
    expect(Object.keys(ROUTE_MODULES).sort()).toEqual(HTTP_ROUTES.map((r) => r.module).sort());
    for (const [module, factory] of Object.entries(ROUTE_MODULES)) {
      const file = join(PROJECT_ROOT, "lambda", "handlers", `${module}.ts`);
      expect(existsSync(file), file).toBe(true);
      const exported = Object.values(await import(file));
      expect(exported, module).toContain(factory);
    }
  });

  test("every route in routes.ts reaches its module, the event handed over unchanged", async () => {
    const seen: unknown[] = [];
    const handlers = new Map(
      [...namingHandlers()].map(([module, answer]) => [
        module,
        (async (event, context) => {
          seen.push(event);
          return answer(event, context);
        }) satisfies RouteHandler,
      ]),
    );
    const router = httpRouter(handlers, () => {});
    for (const route of HTTP_ROUTES) {
      const event = httpApiEvent({
        routeKey: routeKey(route),
        rawPath: route.path.replace("{id}", "r-1"),
        pathParameters: route.path.includes("{id}") ? { id: "r-1" } : {},
      });
      const result = await router(event, lambdaContext("router-test"));
      expect(result, routeKey(route)).toEqual({ statusCode: 299, body: route.module });
      expect(seen.at(-1)).toBe(event);
    }
    expect(seen).toHaveLength(HTTP_ROUTES.length);
  });

  test("a route without a module is refused when the router is built, naming it", () => {
    const handlers = namingHandlers();
    handlers.delete("update-rapatriement");
    expect(() => httpRouter(handlers, () => {})).toThrow(
      "no handler module update-rapatriement for PATCH /rapatriements/{id}",
    );
  });

  test("a route it does not serve: problem+json 404 ROUTE_NOT_FOUND naming the route, one error log line, no storage", async () => {
    const lines: LogLine[] = [];
    let storageAsked = 0;
    const router = httpRouterHandler(
      {
        dependencies: async () => {
          storageAsked += 1;
          throw new Error("the data must not be loaded for an unknown route");
        },
        log: (line) => lines.push(line),
      },
      GATEWAY_API_ID,
    );
    for (const routeKeyOf of ["PUT /rapatriements/{id}", "$default"]) {
      lines.length = 0;
      const event = httpApiEvent({ routeKey: routeKeyOf, rawPath: "/rapatriements/r-1" });
      const result = await router(event, lambdaContext("unknown-route"));
      expect(result.statusCode).toBe(404);
      expect(result.headers?.["content-type"]).toBe("application/problem+json");
      const body = JSON.parse(result.body ?? "");
      expect(body).toMatchObject({
        status: 404,
        code: "ROUTE_NOT_FOUND",
        title: "Not found",
        requestId: "unknown-route",
      });
      expect(body.detail).toContain(JSON.stringify(routeKeyOf));
      expect(body.detail).toContain(
        `the routes are: ${HTTP_ROUTES.map((route) => routeKey(route)).join(", ")}.`,
      );
      expect(lines).toEqual([
        expect.objectContaining({
          level: "error",
          requestId: "unknown-route",
          route: routeKeyOf,
          path: "/rapatriements/r-1",
          status: 404,
          outcome: "client_error",
          code: "ROUTE_NOT_FOUND",
        }),
      ]);
    }
    expect(storageAsked).toBe(0);
  });

  test("an event without a routeKey (a direct invocation) gets the same 404", async () => {
    const router = httpRouter(namingHandlers(), () => {});
    const event = { ...httpApiEvent({ routeKey: "GET /rapatriements", rawPath: "/" }) };
    Reflect.deleteProperty(event, "routeKey");
    const result = await router(event, lambdaContext("no-route"));
    expect(result.statusCode).toBe(404);
    expect(JSON.parse(result.body ?? "").detail).toContain("No route null");
  });

  test("the five routes share the container's one cached database: after a create, every read is a 304", async () => {
    const api = await newHttpApi();
    const created = await createOne(api, "ROUTER-1");
    expect(created.status).toBe(201);
    const id = (created.json as { id: string }).id;
    const read = await api.send({
      routeKey: "GET /rapatriements/{id}",
      rawPath: `/rapatriements/${id}`,
      pathParameters: { id },
    });
    const listed = await api.send({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
    expect(read.status).toBe(200);
    expect(listed.status).toBe(200);
    expect(api.lines.map((line) => [line.route, line.cache])).toEqual([
      ["POST /rapatriements", "absent"],
      ["GET /rapatriements/{id}", "hit"],
      ["GET /rapatriements", "hit"],
    ]);
  });
});

describe("the HTTP function answers only its own API", () => {
  /** A router whose storage counts being asked for, and fails: a refusal must not ask. */
  function untouchable(apiId: string | undefined) {
    const lines: LogLine[] = [];
    const asked = { storage: 0 };
    const router = httpRouterHandler(
      {
        dependencies: async () => {
          asked.storage += 1;
          throw new Error("a refused event must not load the data");
        },
        log: (line) => lines.push(line),
      },
      apiId,
    );
    return { router, lines, asked };
  }

  test("an event of another API is refused 403 API_ID_MISMATCH, and the record it aimed at is unchanged", async () => {
    const api = await newHttpApi();
    const created = await createOne(api, "OWN-API-1");
    const record = created.json as { id: string; version: number };
    const before = api.lines.length;

    // Copied from another API, or written by hand for a direct invocation.
    const refused = await api.deliver(
      httpApiEvent({
        apiId: "zz99yy88xx",
        routeKey: "DELETE /rapatriements/{id}",
        rawPath: `/rapatriements/${record.id}`,
        pathParameters: { id: record.id },
        callerArn: "arn:aws:iam::123456789012:user/someone-else",
      }),
    );

    expect(refused.status).toBe(403);
    expect(refused.result.headers?.["content-type"]).toBe("application/problem+json");
    expect(refused.json).toMatchObject({
      status: 403,
      title: "Forbidden",
      code: "API_ID_MISMATCH",
      type: "urn:rapatriements:problem:api-id-mismatch",
    });
    const detail = (refused.json as { detail: string }).detail;
    expect(detail).toContain('names the API "zz99yy88xx"');
    expect(detail).toContain("ApiUrl");
    expect(detail).not.toContain(GATEWAY_API_ID);
    expect(api.lines.slice(before)).toEqual([
      expect.objectContaining({
        level: "error",
        status: 403,
        outcome: "client_error",
        code: "API_ID_MISMATCH",
        route: "DELETE /rapatriements/{id}",
        apiId: "zz99yy88xx",
        claimedCaller: "arn:aws:iam::123456789012:user/someone-else",
      }),
    ]);
    const after = await api.send({
      routeKey: "GET /rapatriements/{id}",
      rawPath: `/rapatriements/${record.id}`,
      pathParameters: { id: record.id },
    });
    expect(after.status).toBe(200);
    expect(after.json).toEqual(record);
  });

  test("an event naming no API — a command sent to the HTTP function by mistake, no requestContext, any payload at all — is refused, nothing loaded", async () => {
    const { router, lines, asked } = untouchable(GATEWAY_API_ID);
    const command = { action: "delete", id: "r-1", expectedVersion: 1 };
    const noApiId = httpApiEvent({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
    Reflect.deleteProperty(noApiId.requestContext, "apiId");
    const anything = [{}, null, [command], { requestContext: null }, { requestContext: "x" }];
    for (const event of [command, noApiId, ...anything]) {
      // A direct invocation's event may be anything at all.
      const result = await router(event as unknown as HttpEvent, lambdaContext("direct"));
      expect(result.statusCode).toBe(403);
      const body = JSON.parse(result.body ?? "");
      expect(body).toMatchObject({ code: "API_ID_MISMATCH", requestId: "direct" });
      expect(body.detail).toContain("names no API");
    }
    expect(lines).toHaveLength(7);
    for (const line of lines) {
      expect(line).toMatchObject({ code: "API_ID_MISMATCH", apiId: null });
    }
    expect(asked.storage).toBe(0);
  });

  test("the check comes before routing: another API's event for a route this function does not serve is a 403, not a 404 listing the routes", async () => {
    const { router, asked } = untouchable(GATEWAY_API_ID);
    const event = httpApiEvent({
      apiId: "zz99yy88xx",
      routeKey: "PUT /rapatriements/{id}",
      rawPath: "/rapatriements/r-1",
    });
    const result = await router(event, lambdaContext("order"));
    expect(result.statusCode).toBe(403);
    expect(result.body).not.toContain("the routes are");
    expect(asked.storage).toBe(0);
  });

  test("without HTTP_API_ID every event is refused as a configuration error (500, the variable named in the log only)", async () => {
    const { router, lines, asked } = untouchable(undefined);
    const event = httpApiEvent({ routeKey: "GET /rapatriements", rawPath: "/rapatriements" });
    const result = await router(event, lambdaContext("unset"));
    expect(result.statusCode).toBe(500);
    const body = JSON.parse(result.body ?? "");
    expect(body).toMatchObject({ code: "CONFIGURATION_INVALID", status: 500 });
    expect(body.detail).not.toContain("HTTP_API_ID");
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        status: 500,
        outcome: "server_error",
        code: "CONFIGURATION_INVALID",
        error: expect.objectContaining({ message: "HTTP_API_ID est obligatoire" }),
      }),
    ]);
    expect(asked.storage).toBe(0);
  });
});
