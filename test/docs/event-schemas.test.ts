/**
 * The change events' JSON Schemas (docs/events/) and the helper every test
 * that sees an event checks it with: events written by hand as a rule target
 * receives them pass, forged and malformed ones are refused with a readable
 * reason, and the record they carry is the one GET /rapatriements/{id}
 * answers — its shape is OpenAPI's Rapatriement, and real answers pass.
 */
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { apiOver } from "../support/api.ts";
import {
  EVENT_DETAIL_TYPES,
  EVENTS_DIR,
  EventSchemaError,
  loadEventSchemas,
  validateEvent,
} from "../support/event-schemas.ts";
import { newEngine, newTarget, sampleInput } from "../support/local-s3.ts";
import { loadOpenApi } from "../support/openapi.ts";

type Node = Record<string, unknown>;

const ID = "01JF3K5W9X8Y7Z6A5B4C3D2E1F";
const AUTHOR = "arn:aws:sts::123456789012:assumed-role/planners/alice";

function record(overrides: Node = {}): Node {
  return {
    id: ID,
    reference: "RAP-2026-0042",
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: "SKU-1", quantity: 12, unit: "carton" }],
    status: "draft",
    createdAt: "2026-12-07T08:00:00.000Z",
    updatedAt: "2026-12-07T08:00:00.000Z",
    version: 1,
    createdBy: AUTHOR,
    updatedBy: AUTHOR,
    ...overrides,
  };
}

/** An event as a rule's SQS target receives it: EventBridge's envelope around the detail. */
function envelope(detailType: string, detail: Node): Node {
  return {
    version: "0",
    id: "6f1c2b0e-3a4d-4e5f-8a9b-0c1d2e3f4a5b",
    "detail-type": detailType,
    source: "rapatriements",
    account: "123456789012",
    time: "2026-12-07T08:00:01Z",
    region: "eu-west-1",
    resources: [],
    detail,
  };
}

function recordEvent(
  detailType: string,
  rec: Node,
  options: { version?: number; changes?: Node } = {},
): Node {
  const version = options.version ?? (rec.version as number);
  return envelope(detailType, {
    eventId: `${String(rec.id)}:${version}`,
    id: rec.id,
    reference: rec.reference,
    version,
    record: rec,
    changes: options.changes ?? {},
    updatedBy: rec.updatedBy,
    time: rec.updatedAt,
    commit: "c-7d1e4b2a",
  });
}

const created = () => recordEvent("Rapatriement Created", record());
const statusChanged = () =>
  recordEvent(
    "Rapatriement Updated",
    record({ status: "requested", version: 2, updatedAt: "2026-12-07T09:00:00.000Z" }),
    { changes: { status: { from: "draft", to: "requested" } } },
  );
const deleted = () =>
  recordEvent("Rapatriement Deleted", record({ status: "cancelled", version: 3 }), { version: 4 });
const summary = (kind: "import" | "restore", extra: Node = {}) =>
  envelope(kind === "import" ? "Rapatriements Imported" : "Rapatriements Restored", {
    eventId: `${kind}:c-9a8b7c6d`,
    count: 120,
    created: 20,
    updated: 95,
    deleted: 5,
    updatedBy: AUTHOR,
    time: "2026-12-07T10:00:00.000Z",
    commit: "c-9a8b7c6d",
    ...extra,
  });

/** The reasons validateEvent gives for refusing `event`. */
function refusal(event: unknown): readonly string[] {
  try {
    validateEvent(event);
  } catch (error) {
    if (error instanceof EventSchemaError) return error.problems;
    throw error;
  }
  throw new Error("the event was accepted");
}

/** A copy of `event` with `change` applied to a deep copy. */
function forged(event: Node, change: (copy: Node & { detail: Node }) => void): Node {
  const copy = structuredClone(event) as Node & { detail: Node };
  change(copy);
  return copy;
}

describe("docs/events/: one schema per detail-type", () => {
  test("the five documented files, each fixing its detail-type and the source rapatriements", () => {
    expect(readdirSync(EVENTS_DIR).sort()).toEqual([
      "rapatriement-created.schema.json",
      "rapatriement-deleted.schema.json",
      "rapatriement-updated.schema.json",
      "rapatriements-imported.schema.json",
      "rapatriements-restored.schema.json",
    ]);
    expect([...EVENT_DETAIL_TYPES].sort()).toEqual([
      "Rapatriement Created",
      "Rapatriement Deleted",
      "Rapatriement Updated",
      "Rapatriements Imported",
      "Rapatriements Restored",
    ]);
    for (const schema of loadEventSchemas().values()) {
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect((schema.properties as Node).source).toEqual({ const: "rapatriements" });
    }
  });

  test("the record an event carries has OpenAPI's Rapatriement shape, field for field", () => {
    const openApi = loadOpenApi();
    const fromOpenApi = shapeOf(openApi, { $ref: "#/components/schemas/Rapatriement" });
    for (const [detailType, schema] of loadEventSchemas()) {
      const defs = schema.$defs as Node;
      if (defs.record === undefined) continue;
      expect(shapeOf(schema, { $ref: "#/$defs/record" }), detailType).toEqual(fromOpenApi);
    }
  });
});

describe("validateEvent: events written as a rule target receives them", () => {
  test.each([
    ["a create", created()],
    ["a status change", statusChanged()],
    [
      "an update that clears the comment and sets a date",
      recordEvent(
        "Rapatriement Updated",
        record({ version: 5, expectedAt: "2026-12-20T00:00:00.000Z" }),
        {
          changes: {
            comment: { from: "à confirmer", to: null },
            expectedAt: { from: null, to: "2026-12-20T00:00:00.000Z" },
          },
        },
      ),
    ],
    ["a delete (the record before it, the version after)", deleted()],
    ["an import's summary", summary("import")],
    [
      "a restore's summary",
      summary("restore", { fromVersion: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" }),
    ],
    [
      "a create made by a command, replayed from the archive",
      {
        ...recordEvent(
          "Rapatriement Created",
          record({ createdBy: "eventbridge:wms.lyon", updatedBy: "eventbridge:wms.lyon" }),
        ),
        "replay-name": "rebuild-wms",
      },
    ],
    [
      "an entry of GET /_local/events: id, source, detail-type, detail, time",
      (({ id, source, time, detail, "detail-type": type }) => ({
        id,
        source,
        "detail-type": type,
        detail,
        time,
      }))(created() as Node & { detail: Node }),
    ],
  ])("%s passes", (_label, event) => {
    expect(validateEvent(event)).toBe(event);
  });

  test("a record as GET /rapatriements/{id} answers it, before and after a status change, passes", async () => {
    const api = apiOver(await newEngine(await newTarget("sqlite")));
    const answer = await api("POST", "/rapatriements", {
      ...sampleInput("schema"),
      comment: "palettes",
      requestedAt: "2026-12-07T08:00:00.000Z",
    });
    expect(answer.status).toBe(201);
    const before = (await api("GET", `/rapatriements/${answer.json.id}`)).json as Node;
    const moved = await api(
      "PATCH",
      `/rapatriements/${answer.json.id}`,
      { status: "requested" },
      { "if-match": '"1"' },
    );
    expect(moved.status).toBe(200);
    const after = (await api("GET", `/rapatriements/${answer.json.id}`)).json as Node;

    expect(() => validateEvent(recordEvent("Rapatriement Created", before))).not.toThrow();
    expect(() =>
      validateEvent(
        recordEvent("Rapatriement Updated", after, {
          changes: { status: { from: "draft", to: "requested" } },
        }),
      ),
    ).not.toThrow();
    expect(() =>
      validateEvent(recordEvent("Rapatriement Deleted", after, { version: 3 })),
    ).not.toThrow();
  });
});

describe("validateEvent: forged and malformed events are refused, saying why", () => {
  test.each<[string, Node, string]>([
    [
      "no eventId",
      forged(created(), (e) => delete e.detail.eventId),
      '/detail: missing field "eventId"',
    ],
    [
      "an eventId that is not the record's id and version",
      forged(statusChanged(), (e) => {
        e.detail.eventId = `${ID}:1`;
      }),
      `/detail/eventId: must be "<id>:<version>" ("${ID}:2")`,
    ],
    [
      "a field the schema does not know, in the detail",
      forged(created(), (e) => {
        e.detail.priority = "high";
      }),
      '/detail: unexpected field "priority"',
    ],
    [
      "a field the API does not answer, in the record",
      forged(created(), (e) => {
        (e.detail.record as Node).internalNote = "x";
      }),
      '/detail/record: unexpected field "internalNote"',
    ],
    [
      "a field of no EventBridge envelope",
      forged(created(), (e) => {
        e.forwardedBy = "someone";
      }),
      '(event): unexpected field "forwardedBy"',
    ],
    [
      "another source than rapatriements",
      forged(created(), (e) => {
        e.source = "wms.lyon";
      }),
      '/source: must be "rapatriements"',
    ],
    [
      "a status the machine does not have",
      forged(statusChanged(), (e) => {
        ((e.detail.changes as Node).status as Node).to = "shipped";
        (e.detail.record as Node).status = "shipped";
      }),
      "/detail/changes/status/to: must be equal to one of the allowed values",
    ],
    [
      "an update with no changed field",
      forged(statusChanged(), (e) => {
        e.detail.changes = {};
      }),
      "/detail/changes: must NOT have fewer than 1 properties",
    ],
    [
      "a server field listed as a change",
      forged(statusChanged(), (e) => {
        (e.detail.changes as Node).updatedAt = { from: "a", to: "b" };
      }),
      '/detail/changes: unexpected field "updatedAt"',
    ],
    [
      "a change whose new value is not the record's",
      forged(statusChanged(), (e) => {
        ((e.detail.changes as Node).status as Node).to = "cancelled";
      }),
      "/detail/changes/status/to: must be the record's status",
    ],
    [
      "a delete whose version is not one past the record's",
      forged(deleted(), (e) => {
        e.detail.version = 3;
        e.detail.eventId = `${ID}:3`;
      }),
      "/detail/record/version: must be 2",
    ],
    [
      "a create at another version than 1",
      recordEvent("Rapatriement Created", record({ version: 2 })),
      "/detail/version: must be 1",
    ],
    [
      "a restore without the version it restored",
      summary("restore"),
      '/detail: missing field "fromVersion"',
    ],
    [
      "an import summary whose eventId is not import:<commit>",
      forged(summary("import"), (e) => {
        e.detail.eventId = "import:another";
      }),
      '/detail/eventId: must be "import:<commit>" ("import:c-9a8b7c6d")',
    ],
    [
      "a time that is not a date-time",
      forged(created(), (e) => {
        e.detail.time = "yesterday";
      }),
      '/detail/time: must match format "date-time"',
    ],
  ])("%s", (_label, event, reason) => {
    expect(refusal(event)).toContain(reason);
  });

  test("an event of a detail-type with no schema is refused, naming the known ones", () => {
    const event = forged(created(), (e) => {
      e["detail-type"] = "Rapatriement Shipped";
    });
    expect(refusal(event)).toEqual([
      'detail-type "Rapatriement Shipped" has no schema (one of: Rapatriement Created, Rapatriement Deleted, Rapatriement Updated, Rapatriements Imported, Rapatriements Restored)',
    ]);
  });

  test("a create's detail under the Updated detail-type is refused: the detail must match its type", () => {
    const event = forged(created(), (e) => {
      e["detail-type"] = "Rapatriement Updated";
    });
    expect(refusal(event)).toContain("/detail/changes: must NOT have fewer than 1 properties");
  });

  test("the error message lists every problem, one per line", () => {
    const event = forged(created(), (e) => {
      delete e.detail.eventId;
      e.detail.extra = 1;
    });
    expect(() => validateEvent(event)).toThrow(
      /^event does not match docs\/events\/:\n {2}\/detail: missing field "eventId"\n {2}\/detail: unexpected field "extra"$/,
    );
  });
});

/**
 * A schema reduced to what it accepts: references followed, a one-item allOf
 * unwrapped, annotations (description, readOnly, examples) dropped, so that
 * OpenAPI's and an event schema's record compare as shapes.
 */
function shapeOf(document: Node, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((s) => shapeOf(document, s));
  if (typeof schema !== "object" || schema === null) return schema;
  const node = schema as Node;
  if (typeof node.$ref === "string") {
    let target: unknown = document;
    for (const part of node.$ref.replace(/^#\//, "").split("/")) target = (target as Node)[part];
    return shapeOf(document, target);
  }
  if (
    Array.isArray(node.allOf) &&
    node.allOf.length === 1 &&
    Object.keys(node).every((k) => ["allOf", "description"].includes(k))
  ) {
    return shapeOf(document, node.allOf[0]);
  }
  const annotations = new Set(["description", "readOnly", "examples", "title"]);
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => !annotations.has(key))
      .map(([key, value]) => [
        key,
        key === "properties"
          ? Object.fromEntries(
              Object.entries(value as Node).map(([k, v]) => [k, shapeOf(document, v)]),
            )
          : shapeOf(document, value),
      ]),
  );
}
