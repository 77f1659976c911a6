/** Entry adapter: `GET /rapatriements`. */
import type { HandlerDeps } from "./composition-root.ts";
import { httpHandler } from "./http-handler.ts";
import { json } from "./http-response.ts";

export function listRapatriementsHandler(deps: HandlerDeps) {
  return httpHandler("GET /rapatriements", deps, async (event, { service, storage }) =>
    json(200, await service.list(event.queryStringParameters ?? {}, storage)),
  );
}
