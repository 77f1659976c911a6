/**
 * Test support: every change event a test sees is checked against its JSON
 * Schema in docs/events/ (chosen by its `detail-type`), with ajv; a mismatch
 * throws with ajv's errors.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const DIR = join(import.meta.dirname, "../../docs/events");

const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);

/** Each schema's validator, by the `detail-type` it describes. */
const validators = new Map<string, ValidateFunction>(
  readdirSync(DIR)
    .filter((file) => file.endsWith(".schema.json"))
    .map((file) => {
      const schema = JSON.parse(readFileSync(join(DIR, file), "utf8")) as {
        properties: { "detail-type": { const: string } };
      };
      return [schema.properties["detail-type"].const, ajv.compile(schema)];
    }),
);

/** Checks `envelope` (as a rule's target receives it) against its schema; throws naming each error. */
export function validateEvent(envelope: unknown): void {
  const type = (envelope as { "detail-type"?: unknown } | null)?.["detail-type"];
  const validate = typeof type === "string" ? validators.get(type) : undefined;
  if (validate === undefined)
    throw new Error(`no schema in docs/events for detail-type ${String(type)}`);
  if (!validate(envelope)) {
    throw new Error(
      `${String(type)} does not match its schema: ${ajv.errorsText(validate.errors)}`,
    );
  }
}
