/**
 * Which browser the browser tests get, and what a machine without one is
 * told: one line that says what to give, not a stack trace.
 */
import { describe, expect, test } from "vitest";
import { BrowserUnavailableError, findChromium } from "./browser.ts";

const NOWHERE = "/nonexistent/chromium";

async function refusal(machine: Parameters<typeof findChromium>[0]): Promise<Error> {
  const error = await findChromium(machine).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BrowserUnavailableError);
  return error as Error;
}

describe("the browser of the browser tests", () => {
  test("CHROMIUM_PATH wins, taken as it is", async () => {
    const chromium = await findChromium({
      env: { CHROMIUM_PATH: process.execPath },
      platform: "linux-x64",
      systemChromium: NOWHERE,
    });
    expect(chromium).toEqual({
      executablePath: process.execPath,
      env: {},
      source: "CHROMIUM_PATH",
    });
  });

  test("a CHROMIUM_PATH that names nothing is said in one line", async () => {
    const error = await refusal({
      env: { CHROMIUM_PATH: NOWHERE },
      platform: "linux-x64",
      systemChromium: process.execPath,
    });
    expect(error.stack).toBe(
      `BrowserUnavailableError: CHROMIUM_PATH=${NOWHERE}: no such file; name a Chromium or Chrome executable, or unset it to use the one from npm`,
    );
  });

  test("where the npm package has no build, the system's Chromium; without one, what to install, in one line", async () => {
    const elsewhere = { env: {}, platform: "darwin-arm64" };
    await expect(findChromium({ ...elsewhere, systemChromium: process.execPath })).resolves.toEqual(
      {
        executablePath: process.execPath,
        env: {},
        source: process.execPath,
      },
    );
    const error = await refusal({ ...elsewhere, systemChromium: NOWHERE });
    expect(error.stack?.split("\n")).toEqual([
      "BrowserUnavailableError: the browser test needs a Chromium: @sparticuz/chromium ships one for Linux x64 only, and this is darwin-arm64; install Chromium or Chrome and set CHROMIUM_PATH to its executable",
    ]);
  });
});
