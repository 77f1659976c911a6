/**
 * Benchmarks: the cold-container model (cold-containers.ts) with the costs of
 * this run. At 10,000 records it measures what a warm container pays for a
 * 304 read, for a full download after another container's write, and for a
 * write's PUT; the cold start comes from the bench's own "cold start" result
 * at 10,000 records. Then it runs the model for both layouts and prints, per
 * 1,000 requests, the cold starts, the full downloads, and the latency they
 * add to the mean request.
 */
import type { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { emptyReport, type TransactionOptions } from "../../lambda/storage/transaction-options.ts";
import {
  coldContainerModel,
  DEFAULT_COSTS,
  idleLabel,
  LAYOUTS,
  type ModelRow,
  type RequestCosts,
} from "./cold-containers.ts";
import { percentile, timeIt } from "./stats.ts";

const RECORDS = 10_000;

type Service = RapatriementService<TransactionOptions>;

export interface ColdContainersInput {
  /** The bench's results so far: the cold start at 10,000 records is taken from them. */
  results: readonly { scenario: string; records: number; p50Ms: number }[];
  quick: boolean;
  /** Creates a bucket holding an object of `records` seeded records. */
  seedObject(bucket: string, records: number): Promise<unknown>;
  /** A new container's engine over the bucket: its own client and cache. */
  engine(bucket: string): { service: Service };
}

export interface ColdContainersResult {
  records: number;
  costs: RequestCosts;
  /** Where each cost came from. */
  costSources: Record<keyof RequestCosts, string>;
  requestsPerCell: number;
  rows: ModelRow[];
}

/** Measures the costs at 10,000 records, then runs the model with them. */
export async function coldContainersBench(
  input: ColdContainersInput,
): Promise<ColdContainersResult> {
  const iterations = input.quick ? 8 : 30;
  const bucket = `bench-cold-containers-${Date.now().toString(36)}`;
  await input.seedObject(bucket, RECORDS);
  const writer = input.engine(bucket).service;
  const reader = input.engine(bucket).service;
  await writer.get("seed-0");
  await reader.get("seed-0");
  let edits = 0;
  // Each edit a new comment: an update that changes nothing writes nothing.
  const edit = () => {
    edits += 1;
    return writer.update(`seed-${(edits % (RECORDS / 5)) * 5}`, { comment: `model ${edits}` });
  };

  const warm = await timeIt(iterations, () => readExpecting(reader, "hit"));
  const write = await timeIt(iterations, edit);
  const stale: number[] = [];
  for (let i = 0; i < iterations; i++) {
    await edit();
    const started = performance.now();
    await readExpecting(reader, "miss");
    stale.push(performance.now() - started);
  }
  const warmMs = percentile(warm, 50);
  const cold = input.results.find((r) => r.scenario === "cold start" && r.records === RECORDS);
  const costs: RequestCosts = {
    warmMs: round(warmMs),
    staleMs: round(percentile(stale, 50)),
    coldMs: cold?.p50Ms ?? DEFAULT_COSTS.coldMs,
    putMs: round(Math.max(0, percentile(write, 50) - warmMs)),
  };
  const requestsPerCell = 20_000;
  return {
    records: RECORDS,
    costs,
    costSources: {
      warmMs: "measured: warm get, 304",
      staleMs: "measured: warm get after another container's write",
      coldMs:
        cold === undefined ? "default: the issue's 10,000-record figure" : "measured: cold start",
      putMs: "measured: warm update minus warm get",
    },
    requestsPerCell,
    rows: coldContainerModel({ costs, requests: requestsPerCell }),
  };
}

/** A read, checking it took the path it is timed for (304 "hit" or full download "miss"). */
async function readExpecting(service: Service, cache: "hit" | "miss") {
  const report = emptyReport();
  await service.get("seed-1", { report });
  if (report.cache !== cache) throw new Error(`expected a cache ${cache}, got ${report.cache}`);
}

/** The model's table, as the bench prints it. */
export function describeColdContainers(result: ColdContainersResult): string[] {
  const { costs } = result;
  const lines = [
    `cold containers @ ${result.records} records, per 1,000 requests (model, ${result.requestsPerCell} requests per cell; costs: warm ${costs.warmMs} ms, full download ${costs.staleMs} ms, cold start ${costs.coldMs} ms, PUT ${costs.putMs} ms)`,
  ];
  const header = [
    "traffic",
    "idle lifetime",
    "reuse",
    ...LAYOUTS.flatMap((layout) => [`${layout}: cold`, "full GETs", "+ms/request", "containers"]),
  ];
  const rows = result.rows.map((row) => [
    row.traffic,
    idleLabel(row.idleMinutes),
    row.reuse,
    ...LAYOUTS.flatMap((layout) => {
      const p = row.perThousand[layout];
      return [
        String(p.coldStarts),
        String(p.fullDownloads),
        String(p.addedMsPerRequest),
        String(p.peakContainers),
      ];
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  lines.push(line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line));
  lines.push(
    "cold: cold starts; full GETs: cold starts + warm containers downloading a copy made stale by another container's write; +ms/request: mean latency they add; containers: most alive at once; reuse: which idle container Lambda picks (most recent, or any)",
  );
  return lines;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
