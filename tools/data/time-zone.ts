/**
 * Local tools: dates written without a zone — SQLite's CURRENT_TIMESTAMP form
 * `2024-05-01 10:00:00`, or `2024-05-01T10:00:00`, or a bare `2024-05-01`
 * (midnight) — read as wall-clock time in an IANA zone and turned into the
 * ISO 8601 UTC form the API stores.
 */

const ZONELESS = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** True for a zone the runtime knows (`Europe/Paris`, `UTC`…). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall clock at this instant: year, month, day, hour, minute, second. */
export function wallClock(instant: number, timeZone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    parts[part.type] = Number(part.value);
  }
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at this instant, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const parts = wallClock(instant, timeZone);
  const wall = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The ISO UTC form of a zone-less date read in `timeZone`, or undefined when
 * the text is not a zone-less date (left to the validation, which names it).
 * In the autumn hour that happens twice, the first one is taken; a time in
 * the spring gap is moved forward by the gap, as clocks do.
 */
export function readZonelessDate(text: string, timeZone: string): string | undefined {
  const match = ZONELESS.exec(text);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((v) => Number(v ?? 0));
  const millis = Number((match[7] ?? "0").padEnd(3, "0").slice(0, 3));
  const wall = Date.UTC(year ?? 0, (month ?? 1) - 1, day ?? 1, hour, minute, second, millis);
  const back = new Date(wall);
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() + 1 !== month ||
    back.getUTCDate() !== day ||
    (hour ?? 0) > 23
  ) {
    return undefined; // 2024-02-30: not a date; the validation says so
  }
  const before = offsetAt(wall - 86_400_000, timeZone);
  const after = offsetAt(wall + 86_400_000, timeZone);
  // The earlier offset first: the first of two identical autumn hours.
  for (const offset of before > after ? [before, after] : [after, before]) {
    if (offsetAt(wall - offset, timeZone) === offset) return new Date(wall - offset).toISOString();
  }
  return new Date(wall - Math.min(before, after)).toISOString();
}
