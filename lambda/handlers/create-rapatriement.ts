/** Entry adapter: `POST /rapatriements`. */
import { callerOf } from "./caller.ts";
import type { HandlerDeps } from "./composition-root.ts";
import { httpHandler } from "./http-handler.ts";
import { type HttpEvent, header } from "./http-request.ts";
import { etagOf, json } from "./http-response.ts";

export function createRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("POST /rapatriements", deps, async (event, { service, storage }) => {
    const idempotencyKey = header(event, "idempotency-key");
    const actor = callerOf(event);
    const record = await service.create(
      event.jsonBody,
      // Stryker disable next-line ConditionalExpression: an idempotencyKey of undefined is no key, as an absent one
      idempotencyKey === undefined ? { actor } : { idempotencyKey, actor },
      storage,
    );
    return json(201, record, {
      location: locationOf(event, record.id),
      etag: etagOf(record),
    });
  });
}

/**
 * The new record's path, under the path the request was sent to: behind a
 * custom domain whose API mapping has a base path (or a named stage), the
 * client sent `/v1/rapatriements` and must be sent on to
 * `/v1/rapatriements/{id}`, which a path written from the route alone would
 * lose. Doubled slashes are collapsed, so the header can never read as
 * `//host/…`, a URL on another host.
 */
function locationOf(event: HttpEvent, id: string): string {
  const collection = (event.rawPath || "/rapatriements").replace(/\/{2,}/g, "/").replace(/\/$/, "");
  return `${collection}/${encodeURIComponent(id)}`;
}
