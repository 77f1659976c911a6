/**
 * Test support: the CLI hands credentials found in its environment to the AWS
 * SDK's default chain, which reads the real process environment; in a real
 * run both are the same object, so each CLI test puts the local server's keys
 * into process.env too, and no profile or session token of the machine.
 */
import { afterEach, beforeEach, vi } from "vitest";

/** Registers the stubs around every test of the calling file. */
export function useLocalCredentials(): void {
  beforeEach(() => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    vi.stubEnv("AWS_SESSION_TOKEN", undefined);
    vi.stubEnv("AWS_PROFILE", undefined);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });
}
