/**
 * sql.js is compiled whole, ahead of its first call (see sql-js.ts): a
 * process whose only pending work is that compile — a CLI command, a script —
 * still waits for it and answers, rather than exiting mid-compile.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../../tools/local-s3/local-s3.ts";

const SQL_JS = pathToFileURL(`${PROJECT_ROOT}/lambda/storage/sql-js.ts`).href;

describe("loading sql.js", () => {
  test("a process with nothing else to wait for finishes loading it and runs a query", () => {
    const script = `
      const { loadSqlJs } = await import(${JSON.stringify(SQL_JS)});
      const SQL = await loadSqlJs();
      const db = new SQL.Database();
      process.stdout.write(String(db.exec("SELECT 6 * 7")[0].values[0][0]));
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 30_000,
    });

    expect(run.stderr).not.toMatch(/unsettled top-level await/);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("42");
  });

  test("a load that failed is not kept: the next one tries again", async () => {
    const { loadSqlJs } = await import("../../../lambda/storage/sql-js.ts");
    await expect(loadSqlJs("/nonexistent/sql-wasm.wasm")).rejects.toMatchObject({ code: "ENOENT" });
    const SQL = await loadSqlJs();
    expect(new SQL.Database().exec("SELECT 2")[0]?.values).toEqual([[2]]);
  });

  test("SQLJS_WASM_PATH names the wasm file; set empty, it is as if unset", async () => {
    const { sqlJsWasmPath } = await import("../../../lambda/storage/sql-js.ts");
    expect(sqlJsWasmPath({ SQLJS_WASM_PATH: "/opt/sql-wasm.wasm" })).toBe("/opt/sql-wasm.wasm");
    const fallback = sqlJsWasmPath({});
    expect(fallback).toMatch(/sql-wasm\.wasm$/);
    expect(existsSync(fallback)).toBe(true);
    expect(sqlJsWasmPath({ SQLJS_WASM_PATH: "" })).toBe(fallback);
  });

  test("two loads in one process share one compiled module", async () => {
    const { loadSqlJs } = await import("../../../lambda/storage/sql-js.ts");
    const [a, b] = await Promise.all([loadSqlJs(), loadSqlJs()]);
    expect(a).toBe(b);
    expect(new a.Database().exec("SELECT 1")[0]?.values).toEqual([[1]]);
  });
});
