/** Test harness: one local S3 server for the whole run, stopped when the run ends. */
import type { TestProject } from "vitest/node";
import { startLocalS3 } from "../tools/local-s3/local-s3.ts";

declare module "vitest" {
  export interface ProvidedContext {
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const s3 = await startLocalS3({ log: (line) => console.log(line) });
  project.provide("s3Endpoint", s3.endpoint);
  return () => s3.stop();
}
