/**
 * Storage layer: the sql.js module, compiled once per container. The wasm file
 * is read from disk (next to the bundle in Lambda, from node_modules locally)
 * rather than fetched, so a cold start never touches the network.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import initSqlJs, { type SqlJsStatic } from "sql.js";

export type { Database, SqlJsStatic } from "sql.js";

let loading: Promise<SqlJsStatic> | undefined;

/** Where the wasm binary is: `SQLJS_WASM_PATH` when set (the bundle), else sql.js's own. */
export function sqlJsWasmPath(env: Readonly<Record<string, string | undefined>> = process.env) {
  const configured = env.SQLJS_WASM_PATH;
  if (configured !== undefined && configured !== "") return configured;
  return createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm");
}

export function loadSqlJs(wasmPath: string = sqlJsWasmPath()): Promise<SqlJsStatic> {
  loading ??= readFile(wasmPath).then((file) =>
    initSqlJs({
      wasmBinary: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength),
    }),
  );
  return loading;
}
