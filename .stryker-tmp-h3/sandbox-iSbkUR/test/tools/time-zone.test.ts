/**
 * Zone-less dates of old files (SQLite's CURRENT_TIMESTAMP form) read as wall
 * time in the operator's zone, including the two daylight-saving changes.
 */
// @ts-nocheck

import { describe, expect, test } from "vitest";
import { isTimeZone, readZonelessDate } from "../../tools/data/time-zone.ts";

describe("readZonelessDate", () => {
  test.each([
    ["2024-05-01 10:00:00", "Europe/Paris", "2024-05-01T08:00:00.000Z"], // summer time, UTC+2
    ["2024-01-15 10:00:00", "Europe/Paris", "2024-01-15T09:00:00.000Z"], // winter time, UTC+1
    ["2024-05-01 10:00:00", "UTC", "2024-05-01T10:00:00.000Z"],
    ["2024-05-01T10:00:00", "America/New_York", "2024-05-01T14:00:00.000Z"],
    ["2024-05-01 10:00:00.25", "UTC", "2024-05-01T10:00:00.250Z"],
    ["2024-05-01", "Europe/Paris", "2024-04-30T22:00:00.000Z"], // a day alone: midnight
    // 02:30 happens twice on 27 October in Paris: the first one (still summer time).
    ["2024-10-27 02:30:00", "Europe/Paris", "2024-10-27T00:30:00.000Z"],
    // 02:30 does not exist on 31 March in Paris: moved forward by the hour, to 03:30.
    ["2024-03-31 02:30:00", "Europe/Paris", "2024-03-31T01:30:00.000Z"],
  ])("%s in %s is %s", (text, zone, iso) => {
    expect(readZonelessDate(text, zone)).toBe(iso);
  });

  test.each([
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00+02:00",
    "2024-02-30 10:00:00",
    "2024-05-01 25:00:00",
    "1714550400",
    "hier",
  ])("%s is left to the validation", (text) => {
    expect(readZonelessDate(text, "Europe/Paris")).toBeUndefined();
  });

  test("zone names", () => {
    expect(isTimeZone("Europe/Paris")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Paris")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});
