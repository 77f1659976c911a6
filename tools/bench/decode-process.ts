/**
 * Benchmarks: one object's bytes decoded in a process of its own, so that its
 * peak memory is the decode's alone (as a Lambda container's would be).
 * `node decode-process.ts FILE sqlite|json` prints one JSON line:
 * `{ decodeMs, peakRssMb, baseRssMb }`.
 */
import { existsSync, readFileSync } from "node:fs";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";

const [file, format] = process.argv.slice(2);
if (file === undefined || (format !== "sqlite" && format !== "json")) {
  throw new Error("usage: decode-process.ts FILE sqlite|json");
}
const SQL = await loadSqlJs();
const bytes = new Uint8Array(readFileSync(file));
const baseRssMb = peakRssMb();
const started = performance.now();
const db = codecFor(format).decode(bytes, SQL, rapatriementsSchema);
const decodeMs = performance.now() - started;
db.close();
console.log(JSON.stringify({ decodeMs, peakRssMb: peakRssMb(), baseRssMb }));

/**
 * This process's peak resident memory. Linux's VmHWM belongs to this process
 * image alone; getrusage's maxRSS carries over the parent's peak (the bench,
 * hundreds of MB) across fork and exec.
 */
function peakRssMb(): number {
  const status = "/proc/self/status";
  const hwm = existsSync(status) ? /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, "utf8")) : null;
  return Number(hwm?.[1] ?? process.resourceUsage().maxRSS) / 1024;
}
