/** Entry adapter: `DELETE /rapatriements/{id}`. */
import type { HandlerDeps } from "./composition-root.ts";
import { httpHandler } from "./http-handler.ts";
import { pathId, writeOptions } from "./http-request.ts";

export function deleteRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("DELETE /rapatriements/{id}", deps, async (event, { service, storage }) => {
    await service.delete(pathId(event), writeOptions(event), storage);
    return { statusCode: 204 };
  });
}
