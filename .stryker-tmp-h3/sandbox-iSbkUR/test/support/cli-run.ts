/**
 * Test support: the operators' CLI as an operator runs it — `main(argv, env,
 * io)` in-process, with an explicit environment and a fresh working directory
 * (no `.env` unless a test writes one) — and `doctor`'s report read back line
 * by line: level, check, detail, and the fix printed under it.
 */
// @ts-nocheck

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, vi } from "vitest";
import { LEVEL_LABELS } from "../../tools/cli/check.ts";
import type { CliEnvironment, Io } from "../../tools/cli/context.ts";
import { main } from "../../tools/cli/rapatriements.ts";
import { localEndpoint, REGION } from "./local-s3.ts";

const scratchDirs: string[] = [];

export function freshDir(prefix = "rapatriements-cli-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/**
 * The CLI hands credentials found in the environment to the AWS SDK's default
 * chain, which reads the real process environment; in a real run both are the
 * same object, so each test also puts the keys it uses into process.env.
 * Registers that, and the removal of every folder `freshDir` made.
 */
export function actAsOperator(): void {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    vi.stubEnv("AWS_SESSION_TOKEN", undefined);
    vi.stubEnv("AWS_PROFILE", undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  afterAll(() => {
    for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
}

export type Variables = Record<string, string | undefined>;

/** The environment of an operator whose data is s3://bucket/key on the local server. */
export function operatorEnv(
  bucket: string,
  key: string,
  overrides: Variables = {},
  cwd = freshDir(),
): CliEnvironment {
  const variables: Variables = {
    AWS_ENDPOINT_URL_S3: localEndpoint(),
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: REGION,
    S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${key}`,
    ...overrides,
  };
  const processEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (value !== undefined) processEnv[name] = value;
  }
  return { processEnv, cwd };
}

export interface Outcome {
  code: number;
  out: string;
  err: string;
  outLines: string[];
}

export async function cli(
  argv: string[],
  env: CliEnvironment,
  confirm?: (question: string) => Promise<boolean>,
): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (line) => {
      out.push(...line.split("\n"));
    },
    err: (line) => {
      err.push(...line.split("\n"));
    },
  };
  if (confirm !== undefined) io.confirm = confirm;
  const code = await main(argv, env, io);
  return { code, out: out.join("\n"), err: err.join("\n"), outLines: out };
}

export type Level = keyof typeof LEVEL_LABELS;

export interface CheckLine {
  level: Level;
  /** level === "ok" */
  ok: boolean;
  name: string;
  detail: string;
  fix?: string;
}

const LABELS = Object.entries(LEVEL_LABELS) as [Level, string][];

/** The doctor's report: one line per check (label, name, detail), then its fix on the next line. */
export function checksOf(lines: string[]): CheckLine[] {
  const checks: CheckLine[] = [];
  for (const line of lines) {
    const labelled = LABELS.find(([, label]) => line.startsWith(`${label.padEnd(10)} `));
    if (labelled !== undefined) {
      const [level] = labelled;
      const rest = line.slice(11);
      checks.push({
        level,
        ok: level === "ok",
        name: rest.slice(0, 24).trimEnd(),
        detail: rest.slice(25),
      });
      continue;
    }
    const fix = /^\s+→ (.*)$/u.exec(line);
    const last = checks.at(-1);
    if (fix !== null && last !== undefined) last.fix = fix[1];
  }
  return checks;
}

export function checkNamed(checks: CheckLine[], name: string): CheckLine {
  const check = checks.find((c) => c.name === name);
  if (check === undefined) throw new Error(`no check "${name}" in ${JSON.stringify(checks)}`);
  return check;
}
