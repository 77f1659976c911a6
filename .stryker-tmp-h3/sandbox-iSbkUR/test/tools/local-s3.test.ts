/** `npm run s3:local` as a user runs it: its banner says that nothing is kept, and a signal stops it. */
// @ts-nocheck

import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

describe("npm run s3:local", () => {
  test("says that it keeps everything in memory, serves S3, and stops on SIGTERM to npm", async () => {
    const child = spawn("npm", ["run", "s3:local"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOCAL_S3_PORT: "0" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await expect
      .poll(() => output, { timeout: 60_000 })
      .toContain("it keeps everything in memory: its buckets and objects are gone when it stops");
    const endpoint = /AWS_ENDPOINT_URL_S3=(http:\/\/[\d.:]+)/.exec(output)?.[1] ?? "";
    expect((await fetch(endpoint)).status).toBe(200);

    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fetch(endpoint)).rejects.toThrow();
  });
});
