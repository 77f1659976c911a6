/**
 * Benchmarks: cold start. A fresh Node.js 24 process imports the deployed
 * bundle of the HTTP function (synthesized by the CDK app) and serves its
 * first request, a GET of one record; the baseline is a fresh process running a bundle that does the
 * raw GET alone with the same SDK.
 */
// @ts-nocheck

import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import { build } from "esbuild";
import { buildApp } from "../../infra/app.ts";
import { ESM_COMMONJS_BANNER } from "../../infra/rapatriements-function.ts";
import { HTTP_FUNCTION_MODULE } from "../../lambda/handlers/routes.ts";
import { PROJECT_ROOT } from "../local-s3/local-s3.ts";

export interface ColdStartBundles {
  handlerDir: string;
  rawDir: string;
}

const HANDLER_RUNNER = `
const started = performance.now();
const { handler } = await import("./index.mjs");
const result = await handler(JSON.parse(process.env.BENCH_EVENT), {
  awsRequestId: "cold", getRemainingTimeInMillis: () => 10000,
});
if (result.statusCode !== 200) { console.error(JSON.stringify(result)); process.exit(1); }
`;

const RAW_GET = `
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
const s3 = new S3Client({ region: process.env.AWS_REGION, endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
const [, bucket, key] = /^s3:\\/\\/([^/]+)\\/(.+)$/.exec(process.env.S3_RAPPATRIMENT_FILE_PATH) ?? [];
const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
await object.Body.transformToByteArray();
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
  const key = String(template.Resources[logicalId].Properties.Code.S3Key).replace(/\.zip$/, "");
  const handlerDir = mkdtempSync(join(tmpdir(), "bench-handler-"));
  cpSync(join(outdir, `asset.${key}`), handlerDir, { recursive: true });
  writeFileSync(join(handlerDir, "run.mjs"), HANDLER_RUNNER);

  const rawDir = mkdtempSync(join(tmpdir(), "bench-raw-"));
  writeFileSync(join(rawDir, "entry.mjs"), RAW_GET);
  await bundleScript(join(rawDir, "entry.mjs"), join(rawDir, "run.mjs"));
  return { handlerDir, rawDir };
}

/**
 * Bundles a bench script as the deployed functions are bundled: ESM for
 * Node 24, minified, with their banner. `mainFields` as the deployed bundling
 * sets them only where asked: the raw GET baseline keeps esbuild's default.
 */
export async function bundleScript(
  entry: string,
  outfile: string,
  options: { mainFields?: string[] } = {},
): Promise<void> {
  await build({
    ...options,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    minify: true,
    logLevel: "warning",
    nodePaths: [join(PROJECT_ROOT, "node_modules")],
    banner: { js: ESM_COMMONJS_BANNER },
  });
}

/** Wall time of a fresh process running `dir/run.mjs`, from spawn to exit. */
export async function coldRun(dir: string, env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const { code, stderr } = await freshProcess(dir, "run.mjs", env);
  if (code !== 0) throw new Error(`cold run in ${dir} failed: ${stderr.slice(-800)}`);
  return performance.now() - started;
}

/** Runs `dir/script` in a fresh Node.js process with only `env` (and PATH); its exit code and stderr. */
export async function freshProcess(
  dir: string,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(dir, script)], {
    cwd: dir,
    env: { PATH: dirname(process.execPath), ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stderr };
}
