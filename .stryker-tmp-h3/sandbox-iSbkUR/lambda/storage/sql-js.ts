/**
 * Storage layer: the sql.js module, compiled once per container. The wasm file
 * is read from disk (next to the bundle in Lambda, from node_modules locally)
 * rather than fetched, so a cold start never touches the network.
 */
// @ts-nocheck

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
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

export function loadSqlJs(wasmPath: string = sqlJsWasmPath()): Promise<SqlJsStatic> {
  if (loading === undefined) {
    const attempt = readFile(wasmPath).then((file) =>
      initSqlJs({
        wasmBinary: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength),
      }),
    );
    loading = attempt;
    // A failure is not kept: the container's next invocation tries again.
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
  }
  return loading;
}
