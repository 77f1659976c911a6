/**
 * Operators' CLI: one progress line, rewritten in place, for long imports and
 * exports — only when someone watches a terminal (`Io.progress` is set for a
 * TTY); logs and pipes get the summary lines alone.
 */
// @ts-nocheck

import type { Io } from "./context.ts";

/** At most this often: a terminal repainted per record would slow the import. */
const EVERY_MS = 100;

export interface Progress {
  /** Shows `line` if the last one is old enough, or always when `force`. */
  show(line: string, force?: boolean): void;
  /** Clears the line before the summary is printed. */
  end(): void;
}

export function progressOn(io: Io): Progress {
  const write = io.progress;
  if (write === undefined) return { show: () => {}, end: () => {} };
  let last = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    show(line, force = false) {
      const now = performance.now();
      if (!force && now - last < EVERY_MS) return;
      last = now;
      shown = true;
      write(line);
    },
    end() {
      if (shown) write("");
      shown = false;
    },
  };
}
