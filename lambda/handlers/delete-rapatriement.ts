/** Entry adapter: `DELETE /rapatriements/{id}`. */
import { containerDefaults, type HandlerDeps } from "./dependencies.ts";
import { expectedVersion, httpHandler, pathId } from "./http-handler.ts";

export function deleteRapatriementHandler(deps: HandlerDeps) {
  return httpHandler("DELETE /rapatriements/{id}", deps, async (event, { service, storage }) => {
    const version = expectedVersion(event);
    await service.delete(
      pathId(event),
      version === undefined ? {} : { expectedVersion: version },
      storage,
    );
    return { statusCode: 204 };
  });
}

export const handler = deleteRapatriementHandler(containerDefaults());
