/**
 * Local tools: what `npm start` prints in its terminal for each thing that
 * happens — one short line, the local time first, then a few columns — in
 * place of the JSON line production logs (`npm start -- --json-logs` prints
 * that one, as CloudWatch receives it). For an HTTP request: method, path,
 * status, the time the client waited, and what the storage did, read from
 * the function's own log line.
 */

/** A line of the terminal: `07:38:47  ` then the columns, two spaces apart. */
export function terminalLine(columns: readonly string[], at: Date = new Date()): string {
  return [at.toTimeString().slice(0, 8), ...columns.filter((c) => c !== "")].join("  ");
}

/** What the local API answered, measured where the client is. */
export interface Answered {
  method: string;
  path: string;
  status: number;
  ms: number;
}

/** The function's JSON log line, or undefined for any other text. */
export function parseLogLine(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `POST /rapatriements  201  12 ms  loaded, saved · 2 S3 calls 9 ms`. Without
 * the function's line (the API reference, a route API Gateway does not have,
 * a function stopped by its timeout), the first four columns alone.
 */
export function requestLine(
  answer: Answered,
  logged: Record<string, unknown> | undefined,
  at?: Date,
): string {
  return terminalLine(
    [
      `${answer.method} ${answer.path}`,
      String(answer.status),
      `${Math.round(answer.ms)} ms`,
      logged === undefined ? "" : storageOutcome(logged),
    ],
    at,
  );
}

/**
 * What the storage did, from the function's line: the copy it read (`cache
 * hit`: unchanged, nothing downloaded; `loaded`; `no data yet`), whether it
 * saved and after how many retries, its S3 calls, and the error's code; for a
 * server error, the error itself.
 */
export function storageOutcome(logged: Record<string, unknown>): string {
  const parts: string[] = [];
  const s3 = logged.s3 as { calls?: unknown; count?: unknown; ms?: unknown } | undefined;
  const calls = Array.isArray(s3?.calls) ? s3.calls.map(String) : [];
  const done: string[] = [];
  const cache = logged.cache;
  if (cache === "hit") done.push("cache hit");
  else if (cache === "miss") done.push("loaded");
  else if (cache === "absent") done.push("no data yet");
  if (calls.some((c) => /^PutObject 2\d\d /.test(c))) done.push("saved");
  const retries = Number(logged.retries ?? 0);
  if (retries > 0) done.push(`${retries} ${retries === 1 ? "retry" : "retries"}`);
  if (done.length > 0) parts.push(done.join(", "));
  const count = Number(s3?.count ?? calls.length);
  if (count > 0) {
    parts.push(
      `${count} S3 ${count === 1 ? "call" : "calls"} ${Math.round(Number(s3?.ms ?? 0))} ms`,
    );
  }
  const warnings = Array.isArray(logged.warnings) ? logged.warnings.length : 0;
  if (warnings > 0) parts.push(`${warnings} ${warnings === 1 ? "warning" : "warnings"}`);
  if (typeof logged.code === "string") parts.push(logged.code);
  const error = logged.error as { name?: unknown; message?: unknown } | undefined;
  if (logged.level === "error" && error !== undefined) {
    const said = `${String(error.name ?? "Error")}: ${String(error.message ?? "")}`;
    parts.push(said.length > 120 ? `${said.slice(0, 119)}…` : said);
  }
  return parts.join(" · ");
}
