/**
 * Storage layer: rounds. Operations submitted to one engine in the same tick,
 * or while its previous round runs, are queued into the next round, which
 * shares one load and one PUT (see "Rounds" in docs/architecture.md). Here:
 * the queue, what a round's operations share (the earliest deadline, the
 * latest `notBefore`, the S3 calls made for them), and how each operation
 * runs in its own savepoint.
 */
import type { Database } from "./sql-js.ts";
import type { S3CallRecord, StorageReport, TransactionOptions } from "./transaction-options.ts";

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface Pending {
  kind: "read" | "write";
  fn: (db: Database) => unknown;
  options: TransactionOptions;
  settle: (outcome: Outcome) => void;
}

export class Round {
  readonly calls: S3CallRecord[] = [];
  readonly warnings: string[] = [];
  cache: StorageReport["cache"];
  attempts = 0;
  /** Epoch ms by which the round must settle: the earliest deadline of its operations. */
  readonly deadline: number;
  /** The latest `notBefore` of the round's operations (+Infinity: one gave none). */
  readonly notBefore: number;

  constructor(deadline: number, notBefore: number) {
    this.deadline = deadline;
    this.notBefore = notBefore;
  }
}

/** Operations waiting for the next round, run one round at a time by `run`. */
export class RoundQueue {
  private readonly run: (batch: Pending[]) => Promise<void>;
  private queue: Pending[] = [];
  private draining = false;

  constructor(run: (batch: Pending[]) => Promise<void>) {
    this.run = run;
  }

  submit<T>(
    kind: Pending["kind"],
    fn: (db: Database) => T,
    options: TransactionOptions,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        kind,
        fn,
        options,
        settle: (outcome) => (outcome.ok ? resolve(outcome.value as T) : reject(outcome.error)),
      });
      // Deferred so that everything submitted in the same tick joins one round.
      if (!this.draining) {
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        await this.run(batch);
      }
    } finally {
      this.draining = false;
    }
  }
}

export function applyInSavepoint(
  db: Database,
  fn: (db: Database) => unknown,
  keep: boolean,
): Outcome {
  db.run("SAVEPOINT operation");
  try {
    const value = fn(db);
    if (!keep) db.run("ROLLBACK TO operation");
    db.run("RELEASE operation");
    return { ok: true, value };
  } catch (error) {
    db.run("ROLLBACK TO operation");
    db.run("RELEASE operation");
    return { ok: false, error };
  }
}
