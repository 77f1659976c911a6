/** Entry adapter: `DELETE /rapatriements/{id}`. */
import type { HandlerDeps } from "./dependencies.ts";
import { httpHandler, pathId, writeOptions } from "./http-handler.ts";

export function deleteRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("DELETE /rapatriements/{id}", deps, async (event, { service, storage }) => {
    await service.delete(pathId(event), writeOptions(event), storage);
    return { statusCode: 204 };
  });
}
