/**
 * Storage layer: the one S3 object that holds the database, and the protocol
 * that keeps it safe under concurrency (see "Storage" in DESIGN.md).
 *
 * Every operation is a transaction on the object: load (conditional GET, a 304
 * reuses the parsed database of this container), apply in a SAVEPOINT, and for
 * writes one conditional PUT. Operations submitted while another is running are
 * grouped into the next round: one load, each operation in its own savepoint,
 * one PUT for all of them. A lost race (412/409) reloads and re-applies the
 * round; a commit id written with each save tells whether a PUT whose response
 * was lost did land, so nothing is applied twice.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { StorageBusyError, StorageUnreadableError } from "../errors.ts";
import { createBucket, type S3Call } from "./bucket-bootstrap.ts";
import type { FileCodec } from "./codec.ts";
import {
  explainS3Error,
  httpStatusOf,
  isAmbiguous,
  isNoSuchBucket,
  isNoSuchKey,
  isNotModified,
  isWriteConflict,
  type S3Target,
} from "./s3-errors.ts";
import { createDatabase, type DatabaseSchema, findCommit, recordCommit } from "./schema.ts";
import type { Database, SqlJsStatic } from "./sql-js.ts";

export interface RetryPolicy {
  /** PUT attempts per round, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Time kept before a deadline for the attempt itself. */
  reserveMs: number;
  /** How long a round may keep retrying when the caller gives no deadline. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 25,
  baseDelayMs: 10,
  maxDelayMs: 200,
  reserveMs: 1500,
  budgetMs: 20_000,
};

export interface S3CallRecord {
  command: string;
  /** HTTP status, or undefined when no response arrived. */
  status: number | undefined;
  ms: number;
}

/** What one operation cost: filled in when the operation settles. */
export interface StorageReport {
  s3Calls: S3CallRecord[];
  /** "hit": served from the 304 path; "miss": object downloaded; "absent": no object yet. */
  cache: "hit" | "miss" | "absent" | undefined;
  /** PUT attempts (0 for a read or a write that changed nothing). */
  attempts: number;
  /** Operations that shared this round's load and PUT, this one included. */
  roundSize: number;
  warnings: string[];
}

export function emptyReport(): StorageReport {
  return { s3Calls: [], cache: undefined, attempts: 0, roundSize: 0, warnings: [] };
}

export interface TransactionOptions {
  /** Epoch milliseconds after which no new attempt starts (the Lambda's remaining time). */
  deadline?: number;
  report?: StorageReport;
}

export interface DatabaseObjectDeps {
  s3: S3Client;
  sql: SqlJsStatic;
  schema: DatabaseSchema;
  codec: FileCodec;
  target: S3Target;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  newCommitId?: () => string;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Pending {
  kind: "read" | "write";
  fn: (db: Database) => unknown;
  options: TransactionOptions;
  settle: (outcome: Outcome) => void;
}

interface Loaded {
  db: Database;
  /** ETag of the object this copy came from; null when there is no object yet. */
  etag: string | null;
  bucketMissing: boolean;
}

class Round {
  readonly calls: S3CallRecord[] = [];
  readonly warnings: string[] = [];
  cache: StorageReport["cache"];
  attempts = 0;
}

export class DatabaseObject {
  private readonly deps: Required<Omit<DatabaseObjectDeps, "retry">>;
  private readonly retry: RetryPolicy;
  private cached: Loaded | undefined;
  private queue: Pending[] = [];
  private draining = false;

  constructor(deps: DatabaseObjectDeps) {
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.deps = {
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      newCommitId: () => crypto.randomUUID(),
      ...deps,
    };
  }

  /** Runs `fn` on the current data; never writes, and any change `fn` makes is rolled back. */
  read<T>(fn: (db: Database) => T, options: TransactionOptions = {}): Promise<T> {
    return this.submit("read", fn, options);
  }

  /** Runs `fn` in its own savepoint and saves the result with one conditional PUT. */
  write<T>(fn: (db: Database) => T, options: TransactionOptions = {}): Promise<T> {
    return this.submit("write", fn, options);
  }

  /**
   * Applies every function in one round: one load, one savepoint each, one
   * PUT. A function that throws is reported alone; the others are saved.
   */
  writeBatch<T>(
    fns: readonly ((db: Database) => T)[],
    options: TransactionOptions = {},
  ): Promise<PromiseSettledResult<T>[]> {
    // They share one round, so the round's cost is reported once, with the first.
    const { report, ...rest } = options;
    return Promise.allSettled(
      fns.map((fn, i) => this.write(fn, i === 0 && report !== undefined ? options : rest)),
    );
  }

  /** Forgets the cached copy (the next operation downloads the object). */
  invalidate(): void {
    this.cached?.db.close();
    this.cached = undefined;
  }

  private submit<T>(
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
        await this.runRound(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runRound(batch: Pending[]): Promise<void> {
    const round = new Round();
    const settled = new Set<Pending>();
    const settle = (op: Pending, outcome: Outcome) => {
      if (settled.has(op)) return;
      settled.add(op);
      const report = op.options.report;
      if (report !== undefined) {
        report.s3Calls.push(...round.calls);
        report.cache ??= round.cache;
        report.attempts += op.kind === "write" ? round.attempts : 0;
        report.roundSize = batch.length;
        report.warnings.push(...round.warnings);
      }
      op.settle(outcome);
    };
    try {
      const started = this.deps.now();
      const loaded = await this.load(round);
      const writes: Pending[] = [];
      for (const op of batch) {
        if (op.kind === "read") settle(op, applyInSavepoint(loaded.db, op.fn, false));
        else writes.push(op);
      }
      if (writes.length > 0) {
        const outcomes = await this.commit(writes, loaded, round, started);
        writes.forEach((op, i) => {
          settle(op, outcomes[i] ?? { ok: false, error: lost() });
        });
      }
    } catch (error) {
      for (const op of batch) settle(op, { ok: false, error });
    }
  }

  /** Applies the writes and saves them; returns each write's outcome in the save that landed. */
  private async commit(
    writes: Pending[],
    first: Loaded,
    round: Round,
    started: number,
  ): Promise<Outcome[]> {
    const deadline = Math.min(
      ...writes.map((w) => w.options.deadline ?? this.deps.now() + this.retry.budgetMs),
    );
    const commitBase = this.deps.newCommitId();
    const attempts = new Map<string, Outcome[]>();
    let loaded = first;
    let attemptStarted = started;
    for (let attempt = 1; ; attempt++) {
      round.attempts = attempt;
      const { db } = loaded;
      const before = totalChanges(db);
      const outcomes = writes.map((op) => applyInSavepoint(db, op.fn, true));
      if (totalChanges(db) === before) return outcomes; // nothing changed: nothing to save

      const commitId = `${commitBase}.${attempt}`;
      attempts.set(commitId, outcomes);
      let failure: unknown;
      let saved = false;
      try {
        recordCommit(db, commitId, new Date(this.deps.now()));
        const bytes = this.deps.codec.encode(db, this.deps.schema);
        if (loaded.bucketMissing) {
          const timed: S3Call = (command, call) => this.timed(round, command, call);
          round.warnings.push(...(await createBucket(this.deps.s3, this.deps.target, timed)));
        }
        try {
          const etag = await this.put(bytes, loaded.etag, round);
          this.cached = { db, etag, bucketMissing: false };
          saved = true;
          return outcomes;
        } catch (error) {
          failure = error;
        }
      } finally {
        // Unless saved, the copy in memory now differs from the object: never reuse it.
        if (!saved) this.invalidate();
      }
      if (!isWriteConflict(failure) && !isAmbiguous(failure)) {
        throw explainS3Error(failure, this.deps.target, "écrire") ?? failure;
      }
      const attemptMs = this.deps.now() - attemptStarted;
      // Reload at once: the fresh state tells whether a PUT whose response was
      // lost (or that the SDK retried into a 412) did land, and it is what the
      // next attempt builds on.
      loaded = await this.load(round);
      const landed = landedOutcomes(loaded.db, attempts);
      if (landed !== undefined) return landed;
      // Then wait for a quiet moment: pause, and look again with a conditional
      // HEAD (no body). Unchanged means nobody wrote meanwhile, so a PUT right
      // now is likely to land; a change means another writer is busy, and
      // putting now would only collide with it, so pause again. Looking costs
      // no download; pauses are bounded by the deadline.
      let seen = loaded.etag;
      for (let waits = 0; ; waits++) {
        // The window grows with lost races and, slowly, with busy looks.
        const delay = this.backoff(attempt + Math.floor(waits / 4), attemptMs);
        if (
          attempt >= this.retry.maxAttempts ||
          this.deps.now() + delay + this.retry.reserveMs > deadline
        ) {
          throw new StorageBusyError(
            `the data object kept changing or S3 did not answer after ${attempt} attempts; try again`,
            Math.max(1, Math.ceil(this.retry.maxDelayMs / 1000)),
            { cause: failure },
          );
        }
        await this.deps.sleep(delay);
        const now = await this.peek(seen, round);
        if (now === seen) break;
        seen = now;
      }
      attemptStarted = this.deps.now();
      const quiet = loaded;
      loaded = await this.load(round);
      if (loaded !== quiet) {
        const late = landedOutcomes(loaded.db, attempts);
        if (late !== undefined) return late;
      }
    }
  }

  /** The object's current ETag (null when absent), by a conditional HEAD: no body is sent. */
  private async peek(etag: string | null, round: Round): Promise<string | null> {
    const { bucket, key } = this.deps.target;
    try {
      const head = await this.timed(round, "HeadObject", () =>
        this.deps.s3.send(
          new HeadObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(etag === null ? {} : { IfNoneMatch: etag }),
          }),
        ),
      );
      return head.ETag ?? null;
    } catch (error) {
      if (isNotModified(error)) return etag;
      if (isNoSuchKey(error) || httpStatusOf(error) === 404) return null;
      throw this.failure(error, "lire");
    }
  }

  /**
   * Full jitter over a window that doubles with each lost race. The window
   * starts at one attempt's own duration (load, apply, PUT), not a constant:
   * a loser then steps aside for about as long as a winner needs to commit,
   * instead of colliding again while the winner is still writing.
   */
  private backoff(attempt: number, attemptMs: number): number {
    const unit = Math.max(this.retry.baseDelayMs, attemptMs);
    const ceiling = Math.min(this.retry.maxDelayMs, unit * 2 ** (attempt - 1));
    return Math.round(this.deps.random() * ceiling);
  }

  private async load(round: Round): Promise<Loaded> {
    const cached = this.cached;
    const { bucket, key } = this.deps.target;
    let bytes: Uint8Array;
    let etag: string | null;
    try {
      const response = await this.timed(round, "GetObject", () =>
        this.deps.s3.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(cached?.etag ? { IfNoneMatch: cached.etag } : {}),
          }),
        ),
      );
      bytes = (await response.Body?.transformToByteArray()) ?? new Uint8Array();
      etag = response.ETag ?? null;
    } catch (error) {
      if (cached !== undefined && cached.etag !== null && isNotModified(error)) {
        round.cache ??= "hit";
        return cached;
      }
      if (isNoSuchKey(error) || isNoSuchBucket(error)) {
        const bucketMissing = isNoSuchBucket(error);
        round.cache ??= "absent";
        if (
          cached !== undefined &&
          cached.etag === null &&
          cached.bucketMissing === bucketMissing
        ) {
          return cached;
        }
        return this.replaceCache({
          db: createDatabase(this.deps.sql, this.deps.schema),
          etag: null,
          bucketMissing,
        });
      }
      throw this.failure(error, "lire");
    }
    round.cache ??= "miss";
    if (bytes.length === 0) {
      throw new StorageUnreadableError("l'objet est vide ; il n'a pas été modifié");
    }
    const db = this.deps.codec.decode(bytes, this.deps.sql, this.deps.schema);
    return this.replaceCache({ db, etag, bucketMissing: false });
  }

  private replaceCache(next: Loaded): Loaded {
    if (this.cached !== undefined && this.cached.db !== next.db) this.cached.db.close();
    this.cached = next;
    return next;
  }

  private async put(bytes: Uint8Array, etag: string | null, round: Round): Promise<string | null> {
    const { bucket, key } = this.deps.target;
    const response = await this.timed(round, "PutObject", () =>
      this.deps.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: this.deps.codec.contentType,
          ServerSideEncryption: "AES256",
          ...(etag === null ? { IfNoneMatch: "*" } : { IfMatch: etag }),
        }),
      ),
    );
    return response.ETag ?? null;
  }

  /** Makes an S3 call and records it (command, status, time) for the round's report. */
  private async timed<Output>(round: Round, command: string, call: () => Promise<Output>) {
    const started = performance.now();
    try {
      const output = await call();
      round.calls.push({
        command,
        status: (output as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        ms: performance.now() - started,
      });
      return output;
    } catch (error) {
      round.calls.push({ command, status: httpStatusOf(error), ms: performance.now() - started });
      throw error;
    }
  }

  /** The error to show for a failed read of the object. */
  private failure(error: unknown, action: string): unknown {
    const explained = explainS3Error(error, this.deps.target, action);
    if (explained !== undefined) return explained;
    if (isAmbiguous(error)) {
      return new StorageBusyError("S3 did not answer; try again", 1, { cause: error });
    }
    return error;
  }
}

function applyInSavepoint(db: Database, fn: (db: Database) => unknown, keep: boolean): Outcome {
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

/** The outcomes of the attempt whose commit id the database holds, if one landed. */
function landedOutcomes(
  db: Database,
  attempts: ReadonlyMap<string, Outcome[]>,
): Outcome[] | undefined {
  const landed = findCommit(db, [...attempts.keys()]);
  return landed === undefined ? undefined : attempts.get(landed);
}

function totalChanges(db: Database): number {
  const value = db.exec("SELECT total_changes()")[0]?.values[0]?.[0];
  return typeof value === "number" ? value : 0;
}

function lost(): Error {
  return new Error("internal: a write had no outcome");
}
