/** Entry adapter: `GET /rapatriements/{id}`. */
import type { HandlerDeps } from "./composition-root.ts";
import { httpHandler } from "./http-handler.ts";
import { header, pathId } from "./http-request.ts";
import { etagOf, json } from "./http-response.ts";

export function getRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("GET /rapatriements/{id}", deps, async (event, { service, storage }) => {
    const record = await service.get(pathId(event), storage);
    const etag = etagOf(record);
    if (noneMatch(header(event, "if-none-match"), etag))
      return { statusCode: 304, headers: { etag } };
    return json(200, record, { etag });
  });
}

/** RFC 9110's If-None-Match: weak comparison, a list of ETags, or `*`. */
function noneMatch(value: string | undefined, etag: string): boolean {
  if (value === undefined) return false;
  // Stryker disable Regex: our ETags are a number in quotes, so "W/" can only come first
  return value
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === etag);
  // Stryker restore Regex
}
