/**
 * Test support: a program of the machine that a test runs as the docs write
 * it (curl). Where it is missing, the test says so in one line — what to
 * install and why — instead of a spawn ENOENT under a stack.
 */
import { spawnSync } from "node:child_process";

export class ProgramMissingError extends Error {
  override name = "ProgramMissingError";
  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }
}

/** Throws a one-line ProgramMissingError when `program` is not on the PATH. */
export function requireProgram(program: string, why: string): void {
  const probe = spawnSync(program, ["--version"], { stdio: "ignore" });
  if ((probe.error as { code?: string } | undefined)?.code === "ENOENT") {
    throw new ProgramMissingError(
      `${program} is not installed: ${why}; install it (the README's prerequisites for npm test)`,
    );
  }
}
