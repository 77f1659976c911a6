/**
 * Storage layer: the one S3 object that holds the database, and the protocol
 * that keeps it safe under concurrency (see "Storage" in docs/architecture.md).
 *
 * Every operation is a transaction on the object: load (conditional GET, a 304
 * reuses the parsed database of this container), apply in a SAVEPOINT, and for
 * writes one conditional PUT. Operations submitted while another is running are
 * grouped into the next round: one load, each operation in its own savepoint,
 * one PUT for all of them. A lost race (412/409) reloads and re-applies the
 * round; a commit id written with each save tells whether a PUT whose response
 * was lost did land, so nothing is applied twice.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { StorageBusyError, StorageOutcomeUnknownError, StorageUnreadableError } from "../errors.ts";
import { createBucket, type S3Call } from "./bucket-bootstrap.ts";
import { type ObjectEncryption, SSE_S3 } from "./encryption.ts";
import type { FileCodec } from "./file-codec.ts";
import { createDatabase, type DatabaseSchema, findCommit, recordCommit } from "./migrations.ts";
import { ObjectCalls } from "./object-calls.ts";
import type { FetchedObject, Prefetch } from "./object-fetch.ts";
import { applyInSavepoint, type Outcome, type Pending, Round, RoundQueue } from "./round.ts";
import {
  deletedObjectError,
  explainS3Error,
  httpStatusOf,
  isAmbiguous,
  isNoSuchBucket,
  isNoSuchKey,
  isNotModified,
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

interface Loaded {
  db: Database;
  /** ETag of the object this copy came from; null when there is no object yet. */
  etag: string | null;
  bucketMissing: boolean;
}

/** A PUT whose answer never came: it may have landed, or may still land. */
interface Unsettled {
  commitId: string;
  /** The ETag its `If-Match` named (null: `If-None-Match: *`). */
  precondition: string | null;
}

export class DatabaseObject {
  private readonly deps: Required<Omit<DatabaseObjectDeps, "retry" | "prefetch">>;
  /** Taken by the first load, once. */
  private prefetch: Prefetch | undefined;
  private readonly retry: RetryPolicy;
  private readonly calls: ObjectCalls;
  private cached: Loaded | undefined;
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
    this.prefetch = deps.prefetch;
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
    this.cached?.db.close();
    this.cached = undefined;
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
      const loaded = await this.load(round);
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
        const now = new Date(this.deps.now());
        this.deps.schema.housekeeping?.(db, now);
        recordCommit(db, commitId, now);
        const bytes = this.deps.codec.encode(db, this.deps.schema);
        if (loaded.bucketMissing) {
          const timed: S3Call = (command, call) => this.calls.timed(round, command, call);
          round.warnings.push(
            ...(await createBucket(this.deps.s3, this.deps.target, timed, this.deps.encryption)),
          );
        }
        try {
          const etag = await this.calls.put(bytes, loaded.etag, round);
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
      // Not sent: no time was left for it.
      if (failure instanceof StorageBusyError)
        throw this.giveUp(unsettled, "no time was left to save", failure);
      if (!isWriteConflict(failure) && !isAmbiguous(failure)) {
        throw explainS3Error(failure, this.deps.target, "écrire") ?? failure;
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
          throw this.giveUp(
            unsettled,
            `the data object kept changing or S3 did not answer after ${attempt} attempts`,
            failure,
          );
        }
        await this.deps.sleep(delay);
        const now = await this.calls.peek(seen, round).catch((error: unknown) => {
          throw error instanceof StorageBusyError
            ? this.giveUp(unsettled, "S3 did not answer a look at the data object", error)
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
        throw this.giveUp(unsettled, "no time was left to read the data object again", cause);
      }
      try {
        return await this.load(round);
      } catch (error) {
        if (!(error instanceof StorageBusyError)) throw error;
        const delay = this.backoff(tries, 0);
        if (!this.fits(round, delay + estimateMs)) {
          throw this.giveUp(
            unsettled,
            "S3 did not answer when the data object was read again",
            error,
          );
        }
        await this.deps.sleep(delay);
      }
    }
  }

  /** Busy when nothing can have been applied; outcome unknown while a lost PUT may land. */
  private giveUp(unsettled: readonly Unsettled[], why: string, cause: unknown): Error {
    const retryAfter = Math.max(1, Math.ceil(this.retry.maxDelayMs / 1000));
    if (unsettled.length > 0) {
      return new StorageOutcomeUnknownError(
        `${why}; the write may have been applied: retry only with the same idempotency key`,
        retryAfter,
        { cause },
      );
    }
    return new StorageBusyError(`${why}; nothing was applied: try again`, retryAfter, { cause });
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

  /**
   * The object fetched ahead of time, decoded and cached, when it arrived:
   * returned as is when every operation of the round was sent before that
   * fetch started, else left in the cache for the conditional GET to confirm
   * (a 304). A prefetch that failed is forgotten: the normal load tries
   * again. One still on its way at the deadline is S3 not answering: busy,
   * as for any other GET.
   */
  private async loadPrefetched(round: Round, prefetch: Prefetch): Promise<Loaded | undefined> {
    const outcome = await this.calls
      .timed(round, "GetObject", async () => {
        const settled = await prefetch.outcome;
        // A failed one is reported with the status it got (none when S3 did not answer).
        return settled.ok
          ? settled.object
          : { $metadata: { httpStatusCode: httpStatusOf(settled.error) } };
      })
      .catch((error: unknown) => {
        throw this.calls.failure(error, "lire");
      });
    if (!("body" in outcome)) return undefined;
    round.cache ??= "miss";
    const loaded = this.decoded(outcome);
    return prefetch.startedAt >= round.notBefore ? loaded : undefined;
  }

  private async load(round: Round): Promise<Loaded> {
    const prefetch = this.prefetch;
    this.prefetch = undefined;
    // Stryker disable next-line ConditionalExpression: the prefetch is there only for the first load, when nothing is cached
    if (prefetch !== undefined && this.cached === undefined) {
      const loaded = await this.loadPrefetched(round, prefetch);
      if (loaded !== undefined) return loaded;
    }
    const cached = this.cached;
    let got: FetchedObject;
    try {
      got = await this.calls.get(cached?.etag ?? undefined, round);
    } catch (error) {
      if (cached !== undefined && cached.etag !== null && isNotModified(error)) {
        round.cache ??= "hit";
        return cached;
      }
      // Deleted, not absent: never an empty database (a save would hide the
      // records behind it). The copy in memory is of an object that is no
      // longer current: forget it, so a restored one is downloaded.
      const deleted = deletedObjectError(error, this.deps.target);
      if (deleted !== undefined) {
        this.invalidate();
        throw deleted;
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
      throw this.calls.failure(error, "lire");
    }
    round.cache ??= "miss";
    return this.decoded(got);
  }

  private decoded(got: FetchedObject): Loaded {
    if (got.body.length === 0) {
      throw new StorageUnreadableError("l'objet est vide ; il n'a pas été modifié");
    }
    const db = this.deps.codec.decode(got.body, this.deps.sql, this.deps.schema, {
      verified: got.verified,
    });
    return this.replaceCache({ db, etag: got.etag, bucketMissing: false });
  }

  private replaceCache(next: Loaded): Loaded {
    if (this.cached !== undefined && this.cached.db !== next.db) this.cached.db.close();
    this.cached = next;
    return next;
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
