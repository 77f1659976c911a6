/**
 * Storage layer: the S3 calls a round makes on the data object — its GET,
 * the conditional HEAD that looks for a quiet moment, the conditional PUT —
 * each timed for the round's report and bounded by the round's deadline: a
 * call is aborted where it would run into the time kept to answer, and one
 * with no time left is not sent at all.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { StorageBusyError } from "../errors.ts";
import type { S3Action } from "../messages/keys.ts";
import type { ObjectEncryption } from "./encryption.ts";
import { monotonicMs } from "./monotonic-clock.ts";
import { type FetchedObject, getObject, writtenChecksum } from "./object-fetch.ts";
import type { Round } from "./round.ts";
import {
  deletedObjectError,
  explainS3Error,
  httpStatusOf,
  isAmbiguous,
  isNoSuchKey,
  isNotModified,
  type S3Target,
} from "./s3-errors.ts";

export interface ObjectCallsDeps {
  s3: S3Client;
  target: S3Target;
  /** Content-Type every PUT writes: the codec's. */
  contentType: string;
  /** What every PUT asks S3 to encrypt with. */
  encryption: ObjectEncryption;
  now: () => number;
  /** Time kept before the deadline to answer: no call runs into it. */
  answerMs: number;
}

export class ObjectCalls {
  private readonly deps: ObjectCallsDeps;

  constructor(deps: ObjectCallsDeps) {
    this.deps = deps;
  }

  /** GetObject, conditional on `etag` (the copy in memory) when there is one. */
  get(etag: string | undefined, round: Round): Promise<FetchedObject> {
    return this.timed(round, "GetObject", (abortSignal) =>
      getObject(this.deps.s3, this.deps.target, etag, abortSignal),
    );
  }

  /** The object's current ETag (null when absent), by a conditional HEAD: no body is sent. */
  async peek(etag: string | null, round: Round): Promise<string | null> {
    const { bucket, key } = this.deps.target;
    try {
      const head = await this.timed(round, "HeadObject", (abortSignal) =>
        this.deps.s3.send(
          new HeadObjectCommand({
            Bucket: bucket,
            Key: key,
            // Stryker disable next-line ConditionalExpression: the SDK sends no header for a null field
            ...(etag === null ? {} : { IfNoneMatch: etag }),
          }),
          { abortSignal },
        ),
      );
      return head.ETag ?? null;
    } catch (error) {
      if (isNotModified(error)) return etag;
      const deleted = deletedObjectError(error, this.deps.target);
      if (deleted !== undefined) throw deleted;
      if (isNoSuchKey(error) || httpStatusOf(error) === 404) return null;
      throw this.failure(error, "read");
    }
  }

  async put(bytes: Uint8Array, etag: string | null, round: Round): Promise<string | null> {
    const { bucket, key } = this.deps.target;
    const response = await this.timed(round, "PutObject", (abortSignal) =>
      this.deps.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: bytes,
          ContentType: this.deps.contentType,
          ...this.deps.encryption,
          ...writtenChecksum(bytes),
          ...(etag === null ? { IfNoneMatch: "*" } : { IfMatch: etag }),
        }),
        { abortSignal },
      ),
    );
    return response.ETag ?? null;
  }

  /**
   * Makes an S3 call and records it (command, status, time) for the round's
   * report. The call is aborted where it would run into the time kept to
   * answer: an aborted call is one with no answer (a PUT may have landed).
   */
  async timed<Output>(
    round: Round,
    command: string,
    call: (abortSignal: AbortSignal) => Promise<Output>,
  ) {
    const allowedMs = round.deadline - this.deps.answerMs - this.deps.now();
    if (allowedMs <= 0) {
      // Not sent at all, so certainly not applied.
      throw new StorageBusyError({ key: "noTimeToCall", params: { command } }, 1);
    }
    const started = monotonicMs();
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = deadlineReached(command, allowedMs);
        controller.abort(error);
        reject(error);
      }, allowedMs);
    });
    try {
      // Raced as well as aborted: the answer is due at the deadline even if a
      // request handler is slow to honour the abort.
      const output = await Promise.race([call(controller.signal), expired]);
      round.calls.push({
        command,
        // Stryker disable next-line OptionalChaining: every SDK output, and the prefetch's stand-in, has $metadata
        status: (output as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        ms: monotonicMs() - started,
      });
      return output;
    } catch (error) {
      round.calls.push({ command, status: httpStatusOf(error), ms: monotonicMs() - started });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The error to show for a failed read of the object. */
  failure(error: unknown, action: S3Action): unknown {
    if (error instanceof StorageBusyError) return error;
    const explained = explainS3Error(error, this.deps.target, action);
    if (explained !== undefined) return explained;
    if (isAmbiguous(error)) {
      return new StorageBusyError({ key: "noAnswer", params: {} }, 1, { cause: error });
    }
    return error;
  }
}

/** What a call cut at the deadline looks like: like a timeout, no HTTP status. */
function deadlineReached(command: string, allowedMs: number): Error {
  return Object.assign(
    new Error(`${command} did not answer within the ${Math.round(allowedMs)} ms left`),
    { name: "TimeoutError", $metadata: {} },
  );
}
