/**
 * Storage layer: the one S3 client of a container, built from `Config`.
 * An endpoint (the local S3 server, any S3-compatible store) implies
 * path-style addressing, which such servers expect.
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import type { Config } from "../config.ts";

export function createS3Client(
  config: Pick<Config, "region" | "s3Endpoint" | "credentials">,
  overrides: S3ClientConfig = {},
): S3Client {
  const options: S3ClientConfig = { region: config.region };
  if (config.s3Endpoint !== undefined) {
    options.endpoint = config.s3Endpoint;
    options.forcePathStyle = true;
  }
  if (config.credentials !== undefined) options.credentials = config.credentials;
  return new S3Client({ ...options, ...overrides });
}
