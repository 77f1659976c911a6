/**
 * Benchmarks: cold start. A fresh Node.js 24 process imports the deployed
 * bundle of the HTTP function (synthesized by the CDK app) and serves its
 * first request, a GET of one record; the baseline is a fresh process running
 * a bundle that does the raw GET alone with the same SDK, bundled the same
 * way. Each is timed from the spawn to its result (the response; the GET's
 * bytes), which is what a caller waits for: the process's exit comes later
 * (V8 finishes compiling sql.js's wasm in the background and waits for it at
 * exit) and a Lambda container does not exit after a request, so the time to
 * exit is reported beside it, not as the cold start.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import { build } from "esbuild";
import { buildApp } from "../../infra/app.ts";
import {
  BUILTIN_ALIASES,
  BUNDLE_MAIN_FIELDS,
  ESM_COMMONJS_BANNER,
} from "../../infra/rapatriements-function.ts";
import { HTTP_FUNCTION_MODULE } from "../../lambda/handlers/routes.ts";
import { PROJECT_ROOT } from "../local-s3/local-s3.ts";

export interface ColdStartBundles {
  handlerDir: string;
  rawDir: string;
  /**
   * The function's NODE_OPTIONS as the stack sets it: the cold processes run
   * with it, as Lambda runs the function (--enable-source-maps: in Node 24
   * the map is read only when a stack trace is formatted, not at import).
   */
  nodeOptions: string | undefined;
}

/** The line a runner writes on stderr once it has its result. */
const ANSWERED = "bench: answered";

const HANDLER_RUNNER = `
const started = performance.now();
const { handler } = await import("./index.mjs");
const result = await handler(JSON.parse(process.env.BENCH_EVENT), {
  awsRequestId: "cold", getRemainingTimeInMillis: () => 10000,
});
if (result.statusCode !== 200) { console.error(JSON.stringify(result)); process.exit(1); }
process.stderr.write("${ANSWERED}\\n");
`;

const RAW_GET = `
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
const s3 = new S3Client({ region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
const [, bucket, key] = /^s3:\\/\\/([^/]+)\\/(.+)$/.exec(process.env.S3_RAPPATRIMENT_FILE_PATH) ?? [];
const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
await object.Body.transformToByteArray();
process.stderr.write("${ANSWERED}\\n");
`;

/** Synthesizes the stack for the HTTP function's bundle and bundles the raw GET alike. */
export async function prepareColdStart(): Promise<ColdStartBundles> {
  const outdir = mkdtempSync(join(tmpdir(), "bench-cdk-"));
  const { app, stack } = buildApp(new App({ outdir }));
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template;
  const fn = stack.functions.find((f) => f.module === HTTP_FUNCTION_MODULE);
  if (fn === undefined) throw new Error(`no ${HTTP_FUNCTION_MODULE} function in the stack`);
  const logicalId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
  const properties = template.Resources[logicalId].Properties;
  const key = String(properties.Code.S3Key).replace(/\.zip$/, "");
  const nodeOptions: string | undefined = properties.Environment?.Variables?.NODE_OPTIONS;
  const handlerDir = mkdtempSync(join(tmpdir(), "bench-handler-"));
  cpSync(join(outdir, `asset.${key}`), handlerDir, { recursive: true });
  writeFileSync(join(handlerDir, "run.mjs"), HANDLER_RUNNER);

  const rawDir = mkdtempSync(join(tmpdir(), "bench-raw-"));
  writeFileSync(join(rawDir, "entry.mjs"), RAW_GET);
  await bundleScript(join(rawDir, "entry.mjs"), join(rawDir, "run.mjs"));
  return { handlerDir, rawDir, nodeOptions };
}

/**
 * Bundles a bench script as the deployed functions are bundled: ESM for
 * Node 24, minified, the SDK's ES modules first, with their banner and their
 * built-in aliases — the raw GET baseline too, so that it loads the SDK as
 * fast as the product does (the fastest way measured; README, Performance).
 */
export async function bundleScript(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    logLevel: "warning",
    mainFields: BUNDLE_MAIN_FIELDS,
    nodePaths: [join(PROJECT_ROOT, "node_modules")],
    banner: { js: ESM_COMMONJS_BANNER },
    alias: Object.fromEntries(
      Object.entries(BUILTIN_ALIASES).map(([from, to]) => [from, join(PROJECT_ROOT, to)]),
    ),
  });
}

/** A fresh process running `dir/run.mjs`: milliseconds from spawn to its result, and to its exit. */
export async function coldRun(
  dir: string,
  env: Record<string, string>,
): Promise<{ answered: number; exited: number }> {
  const { code, stderr, answered, exited } = await freshProcess(dir, "run.mjs", env);
  if (code !== 0 || answered === undefined)
    throw new Error(`cold run in ${dir} failed: ${stderr.slice(-800)}`);
  return { answered, exited };
}

/**
 * Runs `dir/script` in a fresh Node.js process with only `env` (and PATH):
 * its exit code and stderr, the milliseconds from spawn to exit, and to the
 * moment it wrote that it had its result (if it did).
 */
export async function freshProcess(
  dir: string,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; exited: number; answered?: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(dir, script)], {
    cwd: dir,
    env: { PATH: dirname(process.execPath), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let answered: number | undefined;
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    if (answered === undefined && stderr.includes(ANSWERED)) answered = performance.now() - started;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const exited = performance.now() - started;
  return { code, stderr, exited, ...(answered === undefined ? {} : { answered }) };
}
