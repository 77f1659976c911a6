/**
 * Entry adapters: what the functions' clients of AWS services other than S3
 * (SQS for the commands, EventBridge for the change events) share: the
 * region, the same bounds on a stuck request as the S3 client's, an endpoint
 * for a local server, and the keys a `.env` gave.
 */
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Config } from "../config.ts";
import { S3_TIMEOUTS } from "../storage/s3-client.ts";

export function serviceClientOptions(
  config: Pick<Config, "region" | "credentials">,
  endpoint: string | undefined,
) {
  return {
    region: config.region,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: S3_TIMEOUTS.connectionMs,
      requestTimeout: S3_TIMEOUTS.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: S3_TIMEOUTS.socketIdleMs,
    }),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
  };
}
