/**
 * Test support: checks real responses against docs/openapi.yaml — the status
 * is documented for the route, the content type is the documented one, the
 * body matches its schema and the documented headers match theirs.
 */
// @ts-nocheck

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

export interface RecordedResponse {
  method: string;
  /** The route's path pattern, e.g. /rapatriements/{id}. */
  route: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Node = Record<string, unknown>;

const DOCUMENT_ID = "openapi.json";

export function loadOpenApi(): Node {
  return parse(readFileSync(join(PROJECT_ROOT, "docs", "openapi.yaml"), "utf8")) as Node;
}

export function openApiChecker(document: Node = loadOpenApi()) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema(document, DOCUMENT_ID);

  const at = (pointer: string): Node => {
    let target: unknown = document;
    for (const part of pointer.replace(/^#\//, "").split("/")) {
      target = (target as Node)[
        decodeURIComponent(part).replaceAll("~1", "/").replaceAll("~0", "~")
      ];
    }
    return target as Node;
  };
  const segment = (name: string) =>
    encodeURIComponent(name.replaceAll("~", "~0").replaceAll("/", "~1"));
  /** Follows $ref; returns the node and its JSON pointer in the document. */
  const follow = (pointer: string): { node: Node; pointer: string } => {
    const node = at(pointer);
    return typeof node.$ref === "string" ? follow(node.$ref) : { node, pointer };
  };

  /** Problems found with one response; empty when it conforms. */
  return (response: RecordedResponse): string[] => {
    const where = `${response.method} ${response.route} → ${response.status}`;
    const operationPointer = `#/paths/${segment(response.route)}/${response.method.toLowerCase()}`;
    const paths = document.paths as Node;
    if (
      (paths[response.route] as Node | undefined)?.[response.method.toLowerCase()] === undefined
    ) {
      return [`${where}: the route is not documented`];
    }
    const statusPointer = `${operationPointer}/responses/${response.status}`;
    if ((at(`${operationPointer}/responses`) as Node)[String(response.status)] === undefined) {
      return [`${where}: the status is not documented`];
    }
    const { node: spec, pointer } = follow(statusPointer);
    const problems: string[] = [];

    const content = spec.content as Node | undefined;
    const contentType = response.headers["content-type"]?.split(";")[0]?.trim();
    if (content === undefined) {
      if (response.body !== "") problems.push(`${where}: a body where none is documented`);
    } else if (contentType === undefined || content[contentType] === undefined) {
      problems.push(
        `${where}: content type ${contentType} is not ${Object.keys(content).join(", ")}`,
      );
    } else {
      const validate = ajv.compile({
        $ref: `${DOCUMENT_ID}${pointer}/content/${segment(contentType)}/schema`,
      });
      if (!validate(JSON.parse(response.body))) {
        problems.push(`${where}: body ${ajv.errorsText(validate.errors)}`);
      }
    }
    for (const name of Object.keys((spec.headers as Node | undefined) ?? {})) {
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) {
        problems.push(`${where}: header ${name} missing`);
        continue;
      }
      const header = follow(`${pointer}/headers/${segment(name)}`);
      const schema = header.node.schema as Node;
      const validate = ajv.compile({ $ref: `${DOCUMENT_ID}${header.pointer}/schema` });
      if (!validate(schema.type === "integer" ? Number(value) : value)) {
        problems.push(`${where}: header ${name} ${ajv.errorsText(validate.errors)}`);
      }
    }
    return problems;
  };
}
