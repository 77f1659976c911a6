/**
 * Benchmarks: the `json` format at size. At N records (100,000 by default,
 * in --quick too): a warm update against its 304 GET + PUT of the same
 * bytes, a cold start against a fresh process doing the raw GET of the same
 * object, and for both formats the decode alone — its time and the peak
 * memory of a process that does nothing else (decode-process.ts) — to say
 * which size each format supports within a function's 1,024 MB and 10 s.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { StorageStrategy } from "../../lambda/config.ts";
import type { RapatriementService } from "../../lambda/rapatriements/service.ts";
import type { TransactionOptions } from "../../lambda/storage/transaction-options.ts";
import { timeIt } from "./stats.ts";

const run = promisify(execFile);

export interface DecodeFigures {
  format: StorageStrategy;
  records: number;
  objectMb: number;
  decodeMs: number;
  /** Peak resident memory of a process that loaded sql.js, read the bytes and decoded them. */
  peakRssMb: number;
}

/** Decodes `bytes` in a fresh process; the median time of `runs`, the largest peak memory. */
export async function decodeFigures(
  format: StorageStrategy,
  records: number,
  bytes: Uint8Array,
  runs: number,
): Promise<DecodeFigures> {
  const file = join(mkdtempSync(join(tmpdir(), "bench-decode-")), `object.${format}`);
  writeFileSync(file, bytes);
  const samples: { decodeMs: number; peakRssMb: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await run(
      process.execPath,
      [new URL("./decode-process.ts", import.meta.url).pathname, file, format],
      { maxBuffer: 1024 * 1024 },
    );
    samples.push(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}"));
  }
  const times = samples.map((s) => s.decodeMs).sort((a, b) => a - b);
  return {
    format,
    records,
    objectMb: Math.round(bytes.length / 1e4) / 100,
    decodeMs: Math.round(times[Math.floor((times.length - 1) / 2)] ?? Number.NaN),
    peakRssMb: Math.round(Math.max(...samples.map((s) => s.peakRssMb))),
  };
}

/** A warm update's timings: records seed-0, seed-5, … are drafts, so any of them can change. */
export function warmUpdates(
  service: RapatriementService<TransactionOptions>,
  size: number,
  iterations: number,
): Promise<number[]> {
  return timeIt(
    iterations,
    (i) =>
      service.update(`seed-${((Math.abs(i) * 104_729) % (size / 5)) * 5}`, {
        comment: `note ${i}`,
      }),
    1,
  );
}

export function describeDecode(figures: DecodeFigures): string {
  return `decode ${figures.format} @ ${figures.records}: ${figures.decodeMs} ms, peak ${figures.peakRssMb} MB (object ${figures.objectMb} MB)`;
}
