/** Test harness: one local S3 server for the whole run, stopped when the run ends. */
import type { TestProject } from "vitest/node";
import { LocalS3SetupError, startLocalS3 } from "../tools/local-s3/local-s3.ts";

declare module "vitest" {
  export interface ProvidedContext {
    s3Endpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const s3 = await startLocalS3({
    log: (line) => console.log(line),
    // Under `npm run mutate` the tests run in copies of the project, which
    // have no virtualenv of their own: stryker.config.mjs names the project's.
    ...(process.env.LOCAL_S3_VENV === undefined ? {} : { venv: process.env.LOCAL_S3_VENV }),
  }).catch((error: unknown) => {
    // A machine without what the README asks for (Python 3 and its venv
    // module): one line that says what to install, and no test report that
    // would read as the tests' own failure.
    if (!(error instanceof LocalS3SetupError)) throw error;
    console.error(`\nnpm test: ${error.message}`);
    process.exit(1);
  });
  project.provide("s3Endpoint", s3.endpoint);
  return () => s3.stop();
}
