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
  SQL_WASM_FILE,
} from "../../infra/rapatriements-function.ts";
import { HTTP_FUNCTION_MODULE } from "../../lambda/handlers/routes.ts";
import { PROJECT_ROOT } from "../local-s3/local-s3.ts";

export interface ColdStartBundles {
  handlerDir: string;
  rawDir: string;
  /** The raw GET plus sql.js's own work for the same answer (SQLJS_FLOOR). */
  floorDir: string;
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

/**
 * The floor of this design's cold start: the raw GET, plus what sql.js alone
 * needs to answer it — its wasm compiled (ahead, on V8's background threads,
 * as lambda/storage/sql-js.ts does it) while the GET is on the wire, the bytes
 * opened, the record and its lines read. No handler, validation, domain,
 * log line or metrics: what the product adds is its cold start minus this.
 */
const SQLJS_FLOOR = `
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import initSqlJs from "sql.js";
setFlagsFromString("--no-wasm-lazy-compilation");
const s3 = new S3Client({ region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
const [, bucket, key] = /^s3:\\/\\/([^/]+)\\/(.+)$/.exec(process.env.S3_RAPPATRIMENT_FILE_PATH) ?? [];
const id = JSON.parse(process.env.BENCH_EVENT).pathParameters.id;
const download = s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
// An eager compile does not keep the event loop alive (sql-js.ts): this does.
const keepAlive = setInterval(() => {}, 60_000);
const wasm = readFileSync(new URL("./${SQL_WASM_FILE}", import.meta.url));
const compiled = initSqlJs({ wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) });
const bytes = await (await download).Body.transformToByteArray();
const SQL = await compiled;
clearInterval(keepAlive);
const db = new SQL.Database(bytes);
const record = db.exec("SELECT * FROM rapatriements WHERE id = ?", [id]);
const lines = db.exec("SELECT * FROM rapatriement_lines WHERE rapatriement_id = ? ORDER BY position", [id]);
if (record.length === 0 || lines.length === 0) throw new Error("record " + id + " not found");
JSON.stringify({ record, lines });
process.stderr.write("${ANSWERED}\\n");
`;

/** Synthesizes the stack for the HTTP function's bundle and bundles the raw GET and the floor alike. */
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

  const rawDir = await bundledRunner("raw", RAW_GET);
  const floorDir = await bundledRunner("floor", SQLJS_FLOOR);
  cpSync(join(handlerDir, SQL_WASM_FILE), join(floorDir, SQL_WASM_FILE));
  return { handlerDir, rawDir, floorDir, nodeOptions };
}

/** A new folder holding `source` bundled as `run.mjs`, as coldRun runs it. */
async function bundledRunner(name: string, source: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${name}-`));
  writeFileSync(join(dir, "entry.mjs"), source);
  await bundleScript(join(dir, "entry.mjs"), join(dir, "run.mjs"));
  return dir;
}

/**
 * Bundles a bench script as the deployed functions are bundled: ESM for
 * Node 24, minified, the SDK's ES modules first, with their banner and their
 * built-in aliases — the raw GET baseline too, so that it loads the SDK as
 * fast as the product does (the fastest way measured; docs/performance.md, "Cold start").
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

/** One cold process: milliseconds from its spawn to its result, and to its exit. */
export interface ColdRun {
  answered: number;
  exited: number;
}

/** A fresh process running `dir/run.mjs`, timed. */
export async function coldRun(dir: string, env: Record<string, string>): Promise<ColdRun> {
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
