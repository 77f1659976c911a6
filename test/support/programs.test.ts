/** A program a test needs and the machine lacks: one line saying what to install, no stack. */
import { describe, expect, test } from "vitest";
import { ProgramMissingError, requireProgram } from "./programs.ts";

describe("a program of the machine that a test runs", () => {
  test("present: nothing is said", () => {
    expect(() => requireProgram("bash", "the walk-through is a bash script")).not.toThrow();
  });

  test("missing: what to install and why, in one line", () => {
    const error = (() => {
      try {
        requireProgram("rapatriements-no-such-program", "a test runs it as the README writes it");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ProgramMissingError);
    expect((error as Error).stack).toBe(
      "ProgramMissingError: rapatriements-no-such-program is not installed: a test runs it as the README writes it; install it (the README's prerequisites for npm test)",
    );
  });
});
