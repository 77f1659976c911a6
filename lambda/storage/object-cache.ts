/**
 * Storage layer: this container's copy of the data object, and how a round
 * loads it — from the GET started ahead of time when that copy is recent
 * enough, else by a GET conditional on the copy's ETag, whose 304 reuses the
 * parsed database. An absent object is an empty database at the current
 * schema; a deleted one, or one that cannot be read, is refused.
 */
import { StorageUnreadableError } from "../errors.ts";
import type { FileCodec } from "./file-codec.ts";
import { createDatabase, type DatabaseSchema } from "./migrations.ts";
import type { ObjectCalls } from "./object-calls.ts";
import type { FetchedObject, Prefetch } from "./object-fetch.ts";
import type { Round } from "./round.ts";
import {
  deletedObjectError,
  httpStatusOf,
  isNoSuchBucket,
  isNoSuchKey,
  isNotModified,
  type S3Target,
} from "./s3-errors.ts";
import type { Database, SqlJsStatic } from "./sql-js.ts";

export interface Loaded {
  db: Database;
  /** ETag of the object this copy came from; null when there is no object yet. */
  etag: string | null;
  bucketMissing: boolean;
}

export interface ObjectCacheDeps {
  sql: SqlJsStatic;
  schema: DatabaseSchema;
  codec: FileCodec;
  target: S3Target;
  calls: ObjectCalls;
  /** The object's GET, started ahead of time (Lambda's init phase); used by the first load. */
  prefetch?: Prefetch | undefined;
}

export class ObjectCache {
  private readonly deps: ObjectCacheDeps;
  /** Taken by the first load, once. */
  private prefetch: Prefetch | undefined;
  private cached: Loaded | undefined;

  constructor(deps: ObjectCacheDeps) {
    this.deps = deps;
    this.prefetch = deps.prefetch;
  }

  /** Forgets the copy (the next load downloads the object). */
  invalidate(): void {
    this.cached?.db.close();
    this.cached = undefined;
  }

  /** A save of `db` landed as `etag`: the copy in memory is the object now. */
  saved(db: Database, etag: string | null): void {
    this.cached = { db, etag, bucketMissing: false };
  }

  async load(round: Round): Promise<Loaded> {
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
      got = await this.deps.calls.get(cached?.etag ?? undefined, round);
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
      throw this.deps.calls.failure(error, "read");
    }
    round.cache ??= "miss";
    return this.decoded(got);
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
    const outcome = await this.deps.calls
      .timed(round, "GetObject", async () => {
        const settled = await prefetch.outcome;
        // A failed one is reported with the status it got (none when S3 did not answer).
        return settled.ok
          ? settled.object
          : { $metadata: { httpStatusCode: httpStatusOf(settled.error) } };
      })
      .catch((error: unknown) => {
        throw this.deps.calls.failure(error, "read");
      });
    if (!("body" in outcome)) return undefined;
    round.cache ??= "miss";
    const loaded = this.decoded(outcome);
    return prefetch.startedAt >= round.notBefore ? loaded : undefined;
  }

  private decoded(got: FetchedObject): Loaded {
    if (got.body.length === 0) {
      throw new StorageUnreadableError({
        key: "storageUnreadable",
        params: { problem: "empty" },
      });
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
