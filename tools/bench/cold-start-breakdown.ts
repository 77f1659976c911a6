/**
 * Benchmarks: where a cold start's time goes. Two kinds of fresh Node.js 24
 * process, beside the cold-start scenario of bench.ts:
 *
 * - the deployed HTTP function's bundle, timed in its three phases as Lambda runs them:
 *   the process starting (boot), the bundle imported (Lambda's init phase,
 *   with whatever it starts in the background), the first invocation;
 * - a profile bundle built from the same storage modules, doing each step of
 *   a first request one after the other, alone, so that each is timed on its
 *   own: the import, sql.js's wasm compile, the S3 GET with its download,
 *   opening the bytes, `PRAGMA quick_check`, the first query.
 *
 * The profile is what each step costs; the phases are what the product pays
 * once steps overlap (the wasm compile and the download run together, and a
 * file this engine wrote skips the quick_check: see database-object.ts).
 */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../local-s3/local-s3.ts";
import { bundleScript, freshProcess } from "./cold-start.ts";
import { percentile } from "./stats.ts";

/** The deployed handler, timed phase by phase; prints one JSON line. */
const PHASE_RUNNER = `
const boot = performance.now();
const { handler } = await import("./index.mjs");
const imported = performance.now();
const result = await handler(JSON.parse(process.env.BENCH_EVENT), {
  awsRequestId: "cold", getRemainingTimeInMillis: () => 10000,
});
const answered = performance.now();
if (result.statusCode !== 200) { console.error(JSON.stringify(result)); process.exit(1); }
process.stderr.write(JSON.stringify({ boot, init: imported - boot, invoke: answered - imported }) + "\\n");
`;

/** The same steps, one at a time, with the product's own modules. */
const PROFILE_ENTRY = `
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { loadConfig } from "${PROJECT_ROOT}/lambda/config.ts";
import { findById } from "${PROJECT_ROOT}/lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "${PROJECT_ROOT}/lambda/rapatriements/tables.ts";
import { codecFor } from "${PROJECT_ROOT}/lambda/storage/codec-for-strategy.ts";
import { createS3Client } from "${PROJECT_ROOT}/lambda/storage/s3-client.ts";
import { loadSqlJs } from "${PROJECT_ROOT}/lambda/storage/sql-js.ts";

export async function profile() {
  const times = {};
  let t = performance.now();
  const step = (name) => { const now = performance.now(); times[name] = now - t; t = now; };
  const config = loadConfig(process.env);
  const s3 = createS3Client(config);
  const SQL = await loadSqlJs();
  step("wasm");
  const object = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key, ChecksumMode: "ENABLED" }));
  const bytes = await object.Body.transformToByteArray();
  step("get");
  // json: the whole decode (parse and insert); sqlite: the file opened, then checked.
  const db = config.strategy === "json"
    ? codecFor("json").decode(bytes, SQL, rapatriementsSchema)
    : new SQL.Database(bytes);
  step("open");
  if (config.strategy !== "json") {
    const check = db.exec("PRAGMA quick_check")[0]?.values[0]?.[0];
    if (check !== "ok") throw new Error("quick_check: " + check);
    step("quickCheck");
  }
  if (findById(db, "seed-1") === undefined) throw new Error("seed-1 not found");
  step("firstQuery");
  return times;
}
`;

const PROFILE_RUNNER = `
const boot = performance.now();
const { profile } = await import("./profile.mjs");
const imported = performance.now();
const times = await profile();
process.stderr.write(JSON.stringify({ boot, import: imported - boot, ...times }) + "\\n");
`;

export interface BreakdownBundles {
  /** The deployed HTTP function's bundle, with the phase runner beside it. */
  handlerDir: string;
  profileDir: string;
}

/** Adds the phase runner to the synthesized HTTP function's bundle and builds the profile bundle. */
export async function prepareBreakdown(handlerDir: string): Promise<BreakdownBundles> {
  writeFileSync(join(handlerDir, "phases.mjs"), PHASE_RUNNER);
  const profileDir = mkdtempSync(join(tmpdir(), "bench-profile-"));
  writeFileSync(join(profileDir, "entry.mjs"), PROFILE_ENTRY);
  writeFileSync(join(profileDir, "run.mjs"), PROFILE_RUNNER);
  await bundleScript(join(profileDir, "entry.mjs"), join(profileDir, "profile.mjs"));
  copyFileSync(
    join(PROJECT_ROOT, "node_modules", "sql.js", "dist", "sql-wasm.wasm"),
    join(profileDir, "sql-wasm.wasm"),
  );
  return { handlerDir, profileDir };
}

/** Runs `dir/script` in a fresh process; returns the JSON line it printed on stderr. */
async function runFresh(
  dir: string,
  script: string,
  env: Record<string, string>,
): Promise<Record<string, number>> {
  const { code, stderr } = await freshProcess(dir, script, env);
  const last = stderr.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{")) {
    throw new Error(`${script} in ${dir} failed: ${stderr.slice(-800)}`);
  }
  return JSON.parse(last) as Record<string, number>;
}

export interface ColdBreakdown {
  /** Median milliseconds of each phase of the deployed bundle: boot, init, invoke. */
  phases: Record<string, number>;
  /** Median milliseconds of each step done alone: boot, import, wasm, get, open, quickCheck, firstQuery. */
  steps: Record<string, number>;
}

/** `runs` fresh processes of each kind, alternated; the median of every phase and step. */
export async function coldBreakdown(
  bundles: BreakdownBundles,
  env: Record<string, string>,
  runs: number,
): Promise<ColdBreakdown> {
  const phases: Record<string, number>[] = [];
  const steps: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    phases.push(await runFresh(bundles.handlerDir, "phases.mjs", env));
    steps.push(await runFresh(bundles.profileDir, "run.mjs", env));
  }
  return { phases: medians(phases), steps: medians(steps) };
}

function medians(samples: Record<string, number>[]): Record<string, number> {
  const names = Object.keys(samples[0] ?? {});
  return Object.fromEntries(
    names.map((name) => [
      name,
      Math.round(
        percentile(
          samples.map((s) => s[name] ?? Number.NaN),
          50,
        ) * 10,
      ) / 10,
    ]),
  );
}

export interface LabelledBreakdown extends ColdBreakdown {
  records: number;
  format: string;
}

const PHASES = ["boot", "init", "invoke"];
const STEPS = ["import", "wasm", "get", "open", "quickCheck", "firstQuery"];

export function describeBreakdown(b: LabelledBreakdown | undefined): string {
  if (b === undefined) return "";
  const list = (names: string[], from: Record<string, number>) =>
    names.map((n) => `${n} ${from[n] ?? "-"}`).join(", ");
  return `cold phases ${list(PHASES, b.phases)}; steps alone ${list(STEPS, b.steps)}`;
}

/** One row per size: the phases of the deployed bundle, then each step alone. */
export function breakdownTable(breakdowns: readonly LabelledBreakdown[]): string[] {
  const header = ["records", "format", ...PHASES, "| alone:", "boot", ...STEPS];
  const rows = breakdowns.map((b) => [
    String(b.records),
    b.format,
    ...PHASES.map((n) => String(b.phases[n] ?? "-")),
    "|",
    String(b.steps.boot ?? "-"),
    ...STEPS.map((n) => String(b.steps[n] ?? "-")),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  return [header, ...rows].map((cells) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  "));
}
