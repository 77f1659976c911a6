/**
 * Benchmarks: which containers are cold. A deterministic, seeded simulation of
 * Lambda's containers under the HTTP API's traffic, for two layouts of the
 * same five handler modules: five functions (one per route, each with its own
 * pool of containers and its own cached copy of the data object) and one
 * function that routes every HTTP request to them.
 *
 * Per request it counts what the caller waits for beyond a warm 304: a cold
 * start (a new container: init, then a full download of the object), or a
 * full download by a warm container whose cached copy is stale because a
 * write went through another container. A conditional GET answered 304 is not
 * a full download.
 *
 * What the model assumes (each one a parameter):
 * - Lambda reclaims a container after it has been idle for a while. AWS does
 *   not document how long; published measurements range from a fixed 10
 *   minutes to 25–60 minutes. Each idle period draws its limit uniformly from
 *   `idleMinutes` [min, max].
 * - One request in flight per container; a request that finds no idle, live
 *   container of its function starts a new one (no reserved concurrency).
 * - Among idle containers Lambda reuses the most recently used one (the
 *   others then age out), which is what lets a quiet function scale down;
 *   `reuse: "any"` picks one at random instead, to show what that changes.
 * - A write commits at once and leaves its own container up to date; every
 *   other container holds a stale copy until it downloads the object again.
 *   Conflicts between writers are not modelled (the contention bench is).
 */
// @ts-nocheck


/** One kind of request in the mix: an API Gateway route key and its share of traffic. */
export interface RouteShare {
  route: string;
  share: number;
  write: boolean;
}

/**
 * The mix of the five routes: mostly reads (a list screen, a record opened
 * from it), about a third writes (creating and moving rapatriements through
 * their statuses), few deletes.
 */
export const DEFAULT_MIX: readonly RouteShare[] = [
  { route: "GET /rapatriements", share: 0.35, write: false },
  { route: "GET /rapatriements/{id}", share: 0.35, write: false },
  { route: "POST /rapatriements", share: 0.12, write: true },
  { route: "PATCH /rapatriements/{id}", share: 0.15, write: true },
  { route: "DELETE /rapatriements/{id}", share: 0.03, write: true },
];

export interface TrafficLevel {
  name: string;
  /** Steady requests per minute (a Poisson process). */
  perMinute: number;
  /** On top of it: bursts of `requests` spread over `seconds`, on average every `everyMinutes`. */
  burst?: { everyMinutes: number; requests: number; seconds: number };
}

/** From a few requests an hour to a steady few per second, and a quiet API with bursts. */
export const TRAFFIC_LEVELS: readonly TrafficLevel[] = [
  { name: "6/h", perMinute: 0.1 },
  { name: "1/min", perMinute: 1 },
  { name: "5/min", perMinute: 5 },
  { name: "60/min", perMinute: 60 },
  { name: "300/min", perMinute: 300 },
  {
    name: "2/min + bursts",
    perMinute: 2,
    burst: { everyMinutes: 30, requests: 40, seconds: 20 },
  },
];

/** Idle lifetimes to show the sensitivity to: [min, max] minutes. */
export const IDLE_LIFETIMES: readonly (readonly [number, number])[] = [
  [5, 5],
  [5, 15],
  [25, 60],
];

/** What a request costs in a container, in milliseconds (measured by the bench, or given). */
export interface RequestCosts {
  /** A warm request whose conditional GET is answered 304. */
  warmMs: number;
  /** A warm container's full download (GET, decode, check) of a changed object. */
  staleMs: number;
  /** A new container: init and the first request, full download included. */
  coldMs: number;
  /** What a write adds: export and PUT. */
  putMs: number;
}

/** The figures at 10,000 records on the development machine, for when none are measured. */
export const DEFAULT_COSTS: RequestCosts = { warmMs: 5, staleMs: 170, coldMs: 304, putMs: 30 };

export type Layout = "five functions" | "one function";
export const LAYOUTS: readonly Layout[] = ["five functions", "one function"];

export interface Arrival {
  /** Milliseconds since the trace began. */
  at: number;
  /** Index into the mix. */
  kind: number;
}

export interface LayoutCounts {
  requests: number;
  coldStarts: number;
  /** Full downloads by warm containers whose copy was stale. */
  staleDownloads: number;
  /** Warm requests answered from the cache after a 304. */
  notModified: number;
  /** Cold starts + stale downloads: every full GET of the object. */
  fullDownloads: number;
  /** Containers alive at most at once, all functions together. */
  peakContainers: number;
  /** Milliseconds callers waited beyond a warm request, all requests together. */
  addedMs: number;
}

/** A small, fast, seeded generator (mulberry32): the same seed gives the same trace. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function exponential(random: () => number, mean: number): number {
  return -Math.log(1 - random()) * mean;
}

function pick(random: () => number, mix: readonly RouteShare[]): number {
  const total = mix.reduce((sum, r) => sum + r.share, 0);
  let x = random() * total;
  for (let i = 0; i < mix.length; i++) {
    x -= mix[i]?.share ?? 0;
    if (x < 0) return i;
  }
  return mix.length - 1;
}

/** `count` arrivals of the traffic level, in time order. */
export function trafficTrace(
  level: TrafficLevel,
  count: number,
  seed: number,
  mix: readonly RouteShare[] = DEFAULT_MIX,
): Arrival[] {
  const random = seededRandom(seed);
  const arrivals: Arrival[] = [];
  const steadyMean = 60_000 / level.perMinute;
  for (let at = exponential(random, steadyMean); arrivals.length < count; ) {
    arrivals.push({ at, kind: pick(random, mix) });
    at += exponential(random, steadyMean);
  }
  const { burst } = level;
  if (burst !== undefined) {
    // Bursts over the same span as the steady traffic, then keep the first `count`.
    const span = arrivals.at(-1)?.at ?? 0;
    for (let start = exponential(random, burst.everyMinutes * 60_000); start < span; ) {
      for (let i = 0; i < burst.requests; i++) {
        arrivals.push({ at: start + random() * burst.seconds * 1000, kind: pick(random, mix) });
      }
      start += exponential(random, burst.everyMinutes * 60_000);
    }
    arrivals.sort((a, b) => a.at - b.at);
    arrivals.length = Math.min(arrivals.length, count);
  }
  return arrivals;
}

interface Container {
  /** When its current request ends; it is idle from then on. */
  freeAt: number;
  /** How long Lambda lets it stay idle this time. */
  idleLimit: number;
  /** The object's version its cached copy holds. */
  version: number;
}

export interface SimulationOptions {
  layout: Layout;
  idleMinutes: readonly [number, number];
  costs?: RequestCosts;
  mix?: readonly RouteShare[];
  /** Seeds the idle lifetimes Lambda draws (the trace has its own seed). */
  seed?: number;
  /** Which idle container serves a request: the most recently used (default), or any. */
  reuse?: Reuse;
}

export type Reuse = "most recent" | "any";

/** Runs the trace through the layout's containers and counts what the callers met. */
export function simulate(trace: readonly Arrival[], options: SimulationOptions): LayoutCounts {
  const costs = options.costs ?? DEFAULT_COSTS;
  const mix = options.mix ?? DEFAULT_MIX;
  const random = seededRandom(options.seed ?? 1);
  const [minIdle, maxIdle] = options.idleMinutes.map((m) => m * 60_000) as [number, number];
  const idleLimit = () => minIdle + random() * (maxIdle - minIdle);
  // Its own generator, so that the idle lifetimes drawn stay the same whichever reuse.
  const choose = seededRandom((options.seed ?? 1) + 1);
  const pools = new Map<string, Container[]>();
  const counts: LayoutCounts = {
    requests: 0,
    coldStarts: 0,
    staleDownloads: 0,
    notModified: 0,
    fullDownloads: 0,
    peakContainers: 0,
    addedMs: 0,
  };
  let version = 0;

  for (const arrival of trace) {
    const kind = mix[arrival.kind];
    if (kind === undefined) throw new Error(`no route ${arrival.kind} in the mix`);
    const fn = options.layout === "five functions" ? kind.route : "http";
    // Lambda has reclaimed every container idle for longer than its limit, in every function.
    let alive = 0;
    for (const [name, pool] of pools) {
      const kept = pool.filter((c) => c.freeAt > arrival.at || arrival.at - c.freeAt < c.idleLimit);
      pools.set(name, kept);
      alive += kept.length;
    }
    const live = pools.get(fn) ?? [];
    pools.set(fn, live);

    const idle = live.filter((c) => c.freeAt <= arrival.at);
    let container: Container | undefined;
    if (options.reuse === "any") {
      container = idle[Math.floor(choose() * idle.length)];
    } else {
      for (const c of idle)
        if (container === undefined || c.freeAt > container.freeAt) container = c;
    }
    let duration: number;
    counts.requests += 1;
    if (container === undefined) {
      container = { freeAt: 0, idleLimit: 0, version };
      live.push(container);
      counts.peakContainers = Math.max(counts.peakContainers, alive + 1);
      counts.coldStarts += 1;
      counts.fullDownloads += 1;
      duration = costs.coldMs;
      counts.addedMs += costs.coldMs - costs.warmMs;
    } else if (container.version !== version) {
      counts.staleDownloads += 1;
      counts.fullDownloads += 1;
      duration = costs.staleMs;
      counts.addedMs += costs.staleMs - costs.warmMs;
    } else {
      counts.notModified += 1;
      duration = costs.warmMs;
    }
    if (kind.write) {
      version += 1;
      duration += costs.putMs;
    }
    container.version = version;
    container.freeAt = arrival.at + duration;
    container.idleLimit = idleLimit();
  }
  return counts;
}

export interface ModelRow {
  traffic: string;
  idleMinutes: readonly [number, number];
  reuse: Reuse;
  /** Per 1,000 requests, by layout. */
  perThousand: Record<Layout, PerThousand>;
}

export interface PerThousand {
  coldStarts: number;
  staleDownloads: number;
  fullDownloads: number;
  /** Mean milliseconds added to a request by cold starts and stale downloads. */
  addedMsPerRequest: number;
  peakContainers: number;
}

export interface ModelOptions {
  requests?: number;
  seed?: number;
  costs?: RequestCosts;
  levels?: readonly TrafficLevel[];
  idleLifetimes?: readonly (readonly [number, number])[];
}

/**
 * Every traffic level under every idle lifetime, both layouts on the same
 * trace; then, under the central idle lifetime, the same with `reuse: "any"`.
 */
export function coldContainerModel(options: ModelOptions = {}): ModelRow[] {
  const requests = options.requests ?? 20_000;
  const seed = options.seed ?? 13;
  const levels = options.levels ?? TRAFFIC_LEVELS;
  const lifetimes = options.idleLifetimes ?? IDLE_LIFETIMES;
  const central = lifetimes[Math.floor(lifetimes.length / 2)];
  const cells: [TrafficLevel, readonly [number, number], Reuse][] = [
    ...levels.flatMap((level) =>
      lifetimes.map((idle) => [level, idle, "most recent"] as [TrafficLevel, typeof idle, Reuse]),
    ),
    ...(central === undefined
      ? []
      : levels.map((level) => [level, central, "any"] as [TrafficLevel, typeof central, Reuse])),
  ];
  const traces = new Map(levels.map((level) => [level, trafficTrace(level, requests, seed)]));
  return cells.map(([level, idleMinutes, reuse]) => {
    const trace = traces.get(level) ?? [];
    const perThousand = Object.fromEntries(
      LAYOUTS.map((layout) => {
        const counts = simulate(trace, {
          layout,
          idleMinutes,
          seed,
          reuse,
          ...(options.costs === undefined ? {} : { costs: options.costs }),
        });
        return [layout, perThousandOf(counts)];
      }),
    ) as Record<Layout, PerThousand>;
    return { traffic: level.name, idleMinutes, reuse, perThousand };
  });
}

function perThousandOf(counts: LayoutCounts): PerThousand {
  const scale = 1000 / counts.requests;
  const one = (value: number) => Math.round(value * scale * 10) / 10;
  return {
    coldStarts: one(counts.coldStarts),
    staleDownloads: one(counts.staleDownloads),
    fullDownloads: one(counts.fullDownloads),
    addedMsPerRequest: Math.round((counts.addedMs / counts.requests) * 10) / 10,
    peakContainers: counts.peakContainers,
  };
}

/** The idle lifetime as people say it: "10 min" or "5–15 min". */
export function idleLabel([min, max]: readonly [number, number]): string {
  return min === max ? `${min} min` : `${min}–${max} min`;
}
