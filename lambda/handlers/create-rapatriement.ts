/** Entry adapter: `POST /rapatriements`. */
import { callerOf } from "./caller.ts";
import type { HandlerDeps } from "./dependencies.ts";
import { etagOf, header, httpHandler, json } from "./http-handler.ts";

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
      location: `/rapatriements/${encodeURIComponent(record.id)}`,
      etag: etagOf(record),
    });
  });
}
