/**
 * Storage layer: the sql.js module, compiled once per container. The wasm file
 * is read from disk (next to the bundle in Lambda, from node_modules locally)
 * rather than fetched, so a cold start never touches the network.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import initSqlJs, { type SqlJsStatic } from "sql.js";

export type { Database, SqlJsStatic } from "sql.js";

let loading: Promise<SqlJsStatic> | undefined;

/**
 * Where the wasm binary is: `SQLJS_WASM_PATH` when set; else beside this
 * module, which is where the Lambda bundle ships it; else sql.js's own copy
 * in node_modules (tests, local runs).
 */
export function sqlJsWasmPath(env: Readonly<Record<string, string | undefined>> = process.env) {
  const configured = env.SQLJS_WASM_PATH;
  if (configured !== undefined && configured !== "") return configured;
  const beside = fileURLToPath(new URL("./sql-wasm.wasm", import.meta.url));
  if (existsSync(beside)) return beside;
  return createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm");
}

/**
 * The file is read at once rather than through the thread pool: the compile
 * then starts now, on V8's background threads, rather than when the event
 * loop next turns — which, in a Lambda init phase, is after the whole bundle
 * has evaluated (container-start.ts).
 */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  if (loading === undefined) {
    const attempt = (async () => {
      const file = readFileSync(wasmPath ?? sqlJsWasmPath());
      return initSqlJs({
        wasmBinary: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength),
      });
    })();
    loading = attempt;
    // A failure is not kept: the container's next invocation tries again.
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
  }
  return loading;
}
