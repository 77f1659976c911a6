/** Entry adapter: `DELETE /rapatriements/{id}`. */
import { containerDefaults, type HandlerDeps } from "./dependencies.ts";
import { httpHandler, pathId, writeOptions } from "./http-handler.ts";

export function deleteRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("DELETE /rapatriements/{id}", deps, async (event, { service, storage }) => {
    await service.delete(pathId(event), writeOptions(event), storage);
    return { statusCode: 204 };
  });
}

export const handler = deleteRapatriementHandler(containerDefaults());
