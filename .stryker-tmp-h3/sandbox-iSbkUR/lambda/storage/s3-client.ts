/**
 * Storage layer: the one S3 client of a container, built from `Config`.
 * An endpoint (the local S3 server, any S3-compatible store) implies
 * path-style addressing, which such servers expect.
 */
// @ts-nocheck

import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { Config } from "../config.ts";

/** How long one S3 request may wait at each stage, in milliseconds. */
export interface S3Timeouts {
  /** To open the TCP (and TLS) connection. */
  connectionMs: number;
  /** From sending the request to the response's headers: a PUT's whole upload included. */
  requestMs: number;
  /** A socket with no traffic at all, e.g. a GET's body that stopped arriving. */
  socketIdleMs: number;
}

/**
 * The SDK waits forever by default: a stalled socket would hang until Lambda
 * kills the function (10 s for a route, 30 s for commands), with no answer
 * and no log line. In the bucket's region a connection takes milliseconds and
 * the largest planned object (about 30 MB at 100,000 records) uploads in well
 * under a second, so these bounds only cut what is stuck; a timed-out request
 * is retried by the SDK like any network error, and the storage's own
 * deadline still ends the whole operation in time to answer.
 */
export const S3_TIMEOUTS: Readonly<S3Timeouts> = {
  connectionMs: 3_000,
  requestMs: 5_000,
  socketIdleMs: 5_000,
};

export function createS3Client(
  config: Pick<Config, "region" | "s3Endpoint" | "credentials">,
  overrides: S3ClientConfig = {},
  timeouts: Readonly<S3Timeouts> = S3_TIMEOUTS,
): S3Client {
  const options: S3ClientConfig = {
    region: config.region,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeouts.connectionMs,
      requestTimeout: timeouts.requestMs,
      // Without it the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.socketIdleMs,
    }),
  };
  if (config.s3Endpoint !== undefined) {
    options.endpoint = config.s3Endpoint;
    options.forcePathStyle = true;
  }
  if (config.credentials !== undefined) options.credentials = config.credentials;
  return new S3Client({ ...options, ...overrides });
}
