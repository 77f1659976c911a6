/**
 * Storage layer: the one S3 object that holds the database, and the protocol
 * that keeps it safe under concurrency (see "Storage" in docs/architecture.md).
 *
 * Every operation is a transaction on the object: load (conditional GET, a 304
 * reuses the parsed database of this container: object-cache.ts), apply in a
 * SAVEPOINT, and for writes one conditional PUT. Operations submitted while
 * another is running are grouped into the next round (round.ts): one load,
 * each operation in its own savepoint, one PUT for all of them. A lost race
 * (412/409) reloads and re-applies the round; a commit id written with each
 * save tells whether a PUT whose response was lost did land, so nothing is
 * applied twice. Every S3 call fits the round's deadline (object-calls.ts).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { StorageBusyError, StorageOutcomeUnknownError } from "../errors.ts";
import type { GiveUpReason } from "../messages/keys.ts";
import { createBucket, type S3Call } from "./bucket-bootstrap.ts";
import { type ObjectEncryption, SSE_S3 } from "./encryption.ts";
import type { FileCodec } from "./file-codec.ts";
import { type DatabaseSchema, findCommit, sealSave } from "./migrations.ts";
import { type Loaded, ObjectCache } from "./object-cache.ts";
import { ObjectCalls } from "./object-calls.ts";
import type { Prefetch } from "./object-fetch.ts";
import { applyInSavepoint, type Outcome, type Pending, Round, RoundQueue } from "./round.ts";
import {
  explainS3Error,
  isAmbiguous,
  isWriteConflict,
  mayHaveLanded,
  type S3Target,
} from "./s3-errors.ts";
import type { Database, SqlJsStatic } from "./sql-js.ts";
import type { TransactionOptions } from "./transaction-options.ts";

export interface RetryPolicy {
  /** PUT attempts per round, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Time kept before the deadline to answer: no S3 call runs into it (each is
   * aborted there), and no attempt starts that would, going by how long the
   * last one took.
   */
  answerMs: number;
  /** How long a round may keep retrying when the caller gives no deadline. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 25,
  baseDelayMs: 10,
  maxDelayMs: 200,
  answerMs: 250,
  budgetMs: 20_000,
};

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
  /** The object's GET, started ahead of time (Lambda's init phase); used by the first load. */
  prefetch?: Prefetch;
  /** What every PUT asks S3 to encrypt with (the configuration's KMS key); default AES-256. */
  encryption?: ObjectEncryption;
}

/** A PUT whose answer never came: it may have landed, or may still land. */
interface Unsettled {
  commitId: string;
  /** The ETag its `If-Match` named (null: `If-None-Match: *`). */
  precondition: string | null;
}

export class DatabaseObject {
  private readonly deps: Required<Omit<DatabaseObjectDeps, "retry" | "prefetch">>;
  private readonly retry: RetryPolicy;
  private readonly calls: ObjectCalls;
  private readonly cache: ObjectCache;
  private readonly rounds = new RoundQueue((batch) => this.runRound(batch));

  constructor(deps: DatabaseObjectDeps) {
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.deps = {
      now: Date.now,
      encryption: SSE_S3,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      // 96 random bits: unique enough, and short, since the object keeps them a while.
      newCommitId: () =>
        Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("base64url"),
      ...deps,
    };
    this.calls = new ObjectCalls({
      s3: this.deps.s3,
      target: this.deps.target,
      contentType: this.deps.codec.contentType,
      encryption: this.deps.encryption,
      now: this.deps.now,
      answerMs: this.retry.answerMs,
    });
    this.cache = new ObjectCache({
      sql: this.deps.sql,
      schema: this.deps.schema,
      codec: this.deps.codec,
      target: this.deps.target,
      calls: this.calls,
      prefetch: deps.prefetch,
    });
  }

  /** Runs `fn` on the current data; never writes, and any change `fn` makes is rolled back. */
  read<T>(fn: (db: Database) => T, options: TransactionOptions = {}): Promise<T> {
    return this.rounds.submit("read", fn, options);
  }

  /** Runs `fn` in its own savepoint and saves the result with one conditional PUT. */
  write<T>(fn: (db: Database) => T, options: TransactionOptions = {}): Promise<T> {
    return this.rounds.submit("write", fn, options);
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
      // Stryker disable next-line ConditionalExpression: without a report, `options` and `rest` hold the same fields
      fns.map((fn, i) => this.write(fn, i === 0 && report !== undefined ? options : rest)),
    );
  }

  /** Forgets the cached copy (the next operation downloads the object). */
  invalidate(): void {
    this.cache.invalidate();
  }

  private async runRound(batch: Pending[]): Promise<void> {
    const round = new Round(
      Math.min(...batch.map((op) => op.options.deadline ?? this.deps.now() + this.retry.budgetMs)),
      Math.max(...batch.map((op) => op.options.notBefore ?? Number.POSITIVE_INFINITY)),
    );
    const settled = new Set<Pending>();
    const settle = (op: Pending, outcome: Outcome) => {
      if (settled.has(op)) return;
      settled.add(op);
      const report = op.options.report;
      if (report !== undefined) {
        report.s3Calls.push(...round.calls);
        report.cache ??= round.cache;
        // Stryker disable next-line ConditionalExpression: a read settles before the round's first PUT, while attempts is 0
        report.attempts += op.kind === "write" ? round.attempts : 0;
        report.roundSize = batch.length;
        report.warnings.push(...round.warnings);
      }
      op.settle(outcome);
    };
    try {
      const started = this.deps.now();
      const loaded = await this.cache.load(round);
      const writes: Pending[] = [];
      for (const op of batch) {
        if (op.kind === "read") settle(op, applyInSavepoint(loaded.db, op.fn, false));
        else writes.push(op);
      }
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a commit of no write changes nothing and sends nothing
      if (writes.length > 0) {
        const outcomes = await this.commit(writes, loaded, round, started);
        writes.forEach((op, i) => {
          // Stryker disable next-line ObjectLiteral,BooleanLiteral: commit returns one outcome per write; the fallback is for the type checker
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
    const commitBase = this.deps.newCommitId();
    const attempts = new Map<string, Outcome[]>();
    // PUTs whose answer was lost and that could still land: while one is
    // left, "nothing was applied" cannot be said.
    let unsettled: Unsettled[] = [];
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
        sealSave(db, this.deps.schema, { commitId, now: new Date(this.deps.now()) });
        const bytes = this.deps.codec.encode(db, this.deps.schema);
        if (loaded.bucketMissing) {
          const timed: S3Call = (command, call) => this.calls.timed(round, command, call);
          round.warnings.push(
            ...(await createBucket(this.deps.s3, this.deps.target, timed, this.deps.encryption)),
          );
        }
        try {
          const etag = await this.calls.put(bytes, loaded.etag, round);
          this.cache.saved(db, etag);
          saved = true;
          return outcomes;
        } catch (error) {
          failure = error;
        }
      } finally {
        // Unless saved, the copy in memory now differs from the object: never reuse it.
        if (!saved) this.invalidate();
      }
      // Not sent: no time was left for it.
      if (failure instanceof StorageBusyError)
        throw this.giveUp(unsettled, { why: "noTimeToSave" }, failure);
      if (!isWriteConflict(failure) && !isAmbiguous(failure)) {
        throw explainS3Error(failure, this.deps.target, "write") ?? failure;
      }
      if (mayHaveLanded(failure)) unsettled.push({ commitId, precondition: loaded.etag });
      const attemptMs = this.deps.now() - attemptStarted;
      // Reload at once: the fresh state tells whether a PUT whose response was
      // lost (or that the SDK retried into a 412) did land, and it is what the
      // next attempt builds on.
      loaded = await this.reload(round, attemptMs, unsettled, failure);
      const landed = landedOutcomes(loaded.db, attempts);
      if (landed !== undefined) return landed;
      // A lost PUT whose If-Match no longer names the object never landed and
      // never will: S3 refuses it. One whose precondition still holds may land.
      unsettled = unsettled.filter((u) => u.precondition === loaded.etag);
      // Then wait for a quiet moment: pause, and look again with a conditional
      // HEAD (no body). Unchanged means nobody wrote meanwhile, so a PUT right
      // now is likely to land; a change means another writer is busy, and
      // putting now would only collide with it, so pause again. Looking costs
      // no download; pauses are bounded by the deadline.
      let seen = loaded.etag;
      for (let waits = 0; ; waits++) {
        // The window grows with lost races and, slowly, with busy looks.
        const delay = this.backoff(attempt + Math.floor(waits / 4), attemptMs);
        if (attempt >= this.retry.maxAttempts || !this.fits(round, delay + attemptMs)) {
          throw this.giveUp(unsettled, { why: "keptChanging", attempts: attempt }, failure);
        }
        await this.deps.sleep(delay);
        const now = await this.calls.peek(seen, round).catch((error: unknown) => {
          throw error instanceof StorageBusyError
            ? this.giveUp(unsettled, { why: "noAnswerToLook" }, error)
            : error;
        });
        if (now === seen) break;
        seen = now;
      }
      attemptStarted = this.deps.now();
      const quiet = loaded;
      loaded = await this.reload(round, attemptMs, unsettled, failure);
      // Stryker disable next-line ConditionalExpression: the same copy was checked for a landed commit already; this only saves a query
      if (loaded !== quiet) {
        const late = landedOutcomes(loaded.db, attempts);
        if (late !== undefined) return late;
      }
    }
  }

  /** Whether `ms` more work, then the answer, still fit before the round's deadline. */
  private fits(round: Round, ms: number): boolean {
    return this.deps.now() + ms + this.retry.answerMs <= round.deadline;
  }

  /**
   * Loads the object after a failed PUT, trying again while S3 does not
   * answer and time allows: until it is read, whether an earlier PUT landed
   * is not known.
   */
  private async reload(
    round: Round,
    estimateMs: number,
    unsettled: readonly Unsettled[],
    cause: unknown,
  ): Promise<Loaded> {
    for (let tries = 1; ; tries++) {
      if (!this.fits(round, estimateMs)) {
        throw this.giveUp(unsettled, { why: "noTimeToReload" }, cause);
      }
      try {
        return await this.cache.load(round);
      } catch (error) {
        if (!(error instanceof StorageBusyError)) throw error;
        const delay = this.backoff(tries, 0);
        if (!this.fits(round, delay + estimateMs)) {
          throw this.giveUp(unsettled, { why: "noAnswerOnReload" }, error);
        }
        await this.deps.sleep(delay);
      }
    }
  }

  /** Busy when nothing can have been applied; outcome unknown while a lost PUT may land. */
  private giveUp(unsettled: readonly Unsettled[], why: GiveUpReason, cause: unknown): Error {
    const retryAfter = Math.max(1, Math.ceil(this.retry.maxDelayMs / 1000));
    if (unsettled.length > 0) {
      return new StorageOutcomeUnknownError(
        { key: "storageOutcomeUnknown", params: why },
        retryAfter,
        { cause },
      );
    }
    return new StorageBusyError({ key: "storageBusy", params: why }, retryAfter, { cause });
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
}

/** The outcomes of the attempt whose commit id the database holds, if one landed. */
function landedOutcomes(
  db: Database,
  attempts: ReadonlyMap<string, Outcome[]>,
): Outcome[] | undefined {
  const landed = findCommit(db, [...attempts.keys()]);
  // Stryker disable next-line ConditionalExpression: attempts.get(undefined) is undefined too
  return landed === undefined ? undefined : attempts.get(landed);
}

function totalChanges(db: Database): number {
  // Stryker disable next-line OptionalChaining: SQLite always answers total_changes() with one number
  const value = db.exec("SELECT total_changes()")[0]?.values[0]?.[0];
  // Stryker disable next-line ConditionalExpression: see above; the guard is for the type checker
  return typeof value === "number" ? value : 0;
}

// Stryker disable next-line BlockStatement: unreachable, see runRound's fallback
function lost(): Error {
  // Stryker disable next-line StringLiteral: unreachable, see runRound's fallback
  return new Error("internal: a write had no outcome");
}
