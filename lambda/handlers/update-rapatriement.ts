/** Entry adapter: `PATCH /rapatriements/{id}`. */
import type { HandlerDeps } from "./composition-root.ts";
import { httpHandler } from "./http-handler.ts";
import { pathId, writeOptions } from "./http-request.ts";
import { etagOf, json } from "./http-response.ts";

export function updateRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("PATCH /rapatriements/{id}", deps, async (event, { service, storage }) => {
    const record = await service.update(
      pathId(event),
      event.jsonBody,
      writeOptions(event),
      storage,
    );
    return json(200, record, { etag: etagOf(record) });
  });
}
