/**
 * `npm run synth` and the CDK CLI as a user runs them, in a child process:
 * what the terminal shows for a good synth and for a refused context value,
 * and that the project keeps the CLI's telemetry off.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

interface Run {
  code: number;
  output: string;
}

/** A command in the project folder, with what it printed on both streams. */
function run(command: string, args: string[]): Promise<Run> {
  // Without the variable that would switch telemetry off whatever cdk.json says.
  const { CDK_DISABLE_CLI_TELEMETRY: _, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(command, args, { cwd: PROJECT_ROOT, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const outdir = () => mkdtempSync(join(tmpdir(), "rapatriements-synth-"));

describe("npm run synth, as typed", { timeout: 180_000 }, () => {
  test("synthesizes the stack with no notice of unconfigured feature flags", async () => {
    const out = outdir();
    const synth = await run("npm", ["run", "synth", "--", "--output", out]);
    expect(synth.output).not.toContain("feature flag");
    expect(synth.output).not.toMatch(/error/i);
    expect(synth.code).toBe(0);
    expect(existsSync(join(out, "RapatriementsStack.template.json"))).toBe(true);
  });

  test.each([
    ["throttleRateLimit=abc", 'context throttleRateLimit must be a positive number (got "abc")'],
    [
      "audit=yes",
      `context audit must be true (a CloudTrail trail of the data object's reads and writes and of the functions' invocations) or false, the default (got "yes")`,
    ],
  ])(
    "a refused context value (-c %s): its message, no Node stack, a failed exit",
    async (value, message) => {
      const out = outdir();
      const synth = await run("npm", ["run", "synth", "--", "-c", value, "--output", out]);
      expect(synth.code).not.toBe(0);
      expect(synth.output.split("\n")).toContain(message);
      expect(synth.output).not.toMatch(/^\s+at /m);
      expect(synth.output).not.toMatch(/\.ts:\d+/); // no source location either
      expect(existsSync(join(out, "RapatriementsStack.template.json"))).toBe(false);
    },
  );
});

test("the CDK CLI's telemetry is off in this project (cdk.json)", async () => {
  const status = await run("npx", ["cdk", "cli-telemetry", "--status"]);
  expect(status.code).toBe(0);
  expect(status.output).toContain("CLI Telemetry is disabled.");
}, 60_000);
