/**
 * Test support: checks a change event, as an EventBridge rule target receives
 * it, against its JSON Schema in docs/events/ (chosen by its detail-type),
 * then what a schema cannot say: the event's id is the record's id and
 * version, the record is the one the detail names, at the detail's version.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

export const EVENTS_DIR = join(PROJECT_ROOT, "docs", "events");

type Node = Record<string, unknown>;

/** The schemas of docs/events/, by the detail-type each one fixes. */
export function loadEventSchemas(): Map<string, Node> {
  const schemas = new Map<string, Node>();
  for (const file of readdirSync(EVENTS_DIR).filter((f) => f.endsWith(".schema.json"))) {
    const schema = JSON.parse(readFileSync(join(EVENTS_DIR, file), "utf8")) as Node;
    const detailType = ((schema.properties as Node)["detail-type"] as Node).const;
    if (typeof detailType !== "string") throw new Error(`${file}: no detail-type const`);
    schemas.set(detailType, schema);
  }
  return schemas;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
const validators = new Map(
  [...loadEventSchemas()].map(([detailType, schema]) => [detailType, ajv.compile(schema)]),
);

/** The detail-types that have a schema. */
export const EVENT_DETAIL_TYPES: readonly string[] = [...validators.keys()];

/** An event that does not match its schema: every problem, one per line. */
export class EventSchemaError extends Error {
  override readonly name = "EventSchemaError";
  readonly problems: readonly string[];
  readonly event: unknown;
  constructor(problems: readonly string[], event: unknown) {
    super(`event does not match docs/events/:\n  ${problems.join("\n  ")}`);
    this.problems = problems;
    this.event = event;
  }
}

/**
 * Throws an EventSchemaError naming every problem of `envelope` (the whole
 * event a rule target receives, or an entry of GET /_local/events); returns
 * it, typed loosely, when it is valid.
 */
export function validateEvent(envelope: unknown): Node {
  if (typeof envelope !== "object" || envelope === null || Array.isArray(envelope)) {
    throw new EventSchemaError(["the event is not a JSON object"], envelope);
  }
  const event = envelope as Node;
  const detailType = event["detail-type"];
  const validate = typeof detailType === "string" ? validators.get(detailType) : undefined;
  if (validate === undefined) {
    throw new EventSchemaError(
      [
        `detail-type ${JSON.stringify(detailType)} has no schema (one of: ${EVENT_DETAIL_TYPES.join(", ")})`,
      ],
      envelope,
    );
  }
  if (!validate(event)) {
    throw new EventSchemaError((validate.errors ?? []).map(readable), envelope);
  }
  const problems = consistency(detailType as string, event.detail as Node);
  if (problems.length > 0) throw new EventSchemaError(problems, envelope);
  return event;
}

function readable(error: ErrorObject): string {
  const where = error.instancePath === "" ? "(event)" : error.instancePath;
  const params = error.params as Node;
  if (error.keyword === "additionalProperties") {
    return `${where}: unexpected field ${JSON.stringify(params.additionalProperty)}`;
  }
  if (error.keyword === "required") {
    return `${where}: missing field ${JSON.stringify(params.missingProperty)}`;
  }
  if (error.keyword === "const") {
    return `${where}: must be ${JSON.stringify(params.allowedValue)}`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}

/** What ties the detail's fields together, beyond each field's own shape. */
function consistency(detailType: string, detail: Node): string[] {
  const problems: string[] = [];
  if (detail.record === undefined) {
    const kind = detailType === "Rapatriements Imported" ? "import" : "restore";
    if (detail.eventId !== `${kind}:${String(detail.commit)}`) {
      problems.push(
        `/detail/eventId: must be "${kind}:<commit>" ("${kind}:${String(detail.commit)}")`,
      );
    }
    return problems;
  }
  const record = detail.record as Node;
  const expectedId = `${String(detail.id)}:${String(detail.version)}`;
  if (detail.eventId !== expectedId) {
    problems.push(`/detail/eventId: must be "<id>:<version>" ("${expectedId}")`);
  }
  if (record.id !== detail.id) problems.push("/detail/record/id: must be /detail/id");
  if (record.reference !== detail.reference) {
    problems.push("/detail/record/reference: must be /detail/reference");
  }
  // A delete's record is the one before it: its version is one below the event's.
  const recordVersion =
    detailType === "Rapatriement Deleted" ? Number(detail.version) - 1 : detail.version;
  if (record.version !== recordVersion) {
    problems.push(`/detail/record/version: must be ${String(recordVersion)}`);
  }
  if (detailType === "Rapatriement Updated") {
    for (const [field, change] of Object.entries(detail.changes as Record<string, Node>)) {
      if (JSON.stringify(record[field] ?? null) !== JSON.stringify(change.to)) {
        problems.push(`/detail/changes/${field}/to: must be the record's ${field}`);
      }
    }
  }
  return problems;
}
