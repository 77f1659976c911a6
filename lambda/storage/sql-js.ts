/**
 * Storage layer: the sql.js module, compiled once per container. The wasm file
 * is read from disk (next to the bundle in Lambda, from node_modules locally)
 * rather than fetched, so a cold start never touches the network.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
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
 *
 * And every function is compiled then, not on its first call: by default V8
 * compiles a wasm function lazily, on the main thread, the first time it runs,
 * which put 25–40 ms of compiling into the first request's opening of the
 * file (measured alike at 10,000 and 100,000 records: it is code, not data),
 * after the object's bytes had arrived. Compiled ahead, on background threads,
 * it overlaps the bundle's evaluation and the download, and the first open
 * takes 5–8 ms. The flag is V8's own and affects only wasm compiled after it
 * is set; sql.js is the only wasm this code runs.
 */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  if (loading === undefined) {
    setFlagsFromString("--no-wasm-lazy-compilation");
    // A compile of the whole module on background threads does not keep
    // Node's event loop alive: a process with nothing else to wait for (a CLI
    // command, a script) would exit with the compile unfinished. This does.
    const keepAlive = setInterval(() => {}, 60_000);
    const attempt = (async () => {
      const file = readFileSync(wasmPath ?? sqlJsWasmPath());
      return initSqlJs({
        wasmBinary: file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength),
      });
    })().finally(() => clearInterval(keepAlive));
    loading = attempt;
    // A failure is not kept: the container's next invocation tries again.
    attempt.catch(() => {
      if (loading === attempt) loading = undefined;
    });
  }
  return loading;
}
