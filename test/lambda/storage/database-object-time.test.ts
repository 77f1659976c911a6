/**
 * The storage engine's use of time, on a scripted clock: how long it pauses
 * after a lost race or an unanswered re-read, when it gives up and with which
 * truth (busy: nothing applied; outcome unknown: a PUT may have landed), and
 * that no S3 call runs past the deadline. The engine's clock, pauses and
 * jitter are passed in; S3 is the real local server, with faults injected at
 * the client where the server cannot produce them.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { StorageBusyError, StorageOutcomeUnknownError } from "../../../lambda/errors.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { monotonicMs } from "../../../lambda/storage/monotonic-clock.ts";
import { prefetchObject } from "../../../lambda/storage/object-fetch.ts";
import { emptyReport } from "../../../lambda/storage/transaction-options.ts";
import {
  type FaultyClient,
  faultyClient,
  lostResponse,
  onNextPut,
  s3Error,
} from "../../support/faults.ts";
import {
  callsOf,
  etagOf,
  localS3Client,
  newEngine,
  newTarget,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

const T0 = Date.parse("2026-03-01T08:00:00.000Z");

/**
 * A clock that moves only when told to, or by the engine's own pauses (each
 * recorded); jitter always takes the whole window, so pauses are exact.
 */
function scriptedTime() {
  const time = {
    ms: T0,
    sleeps: [] as number[],
    /** Runs during each pause, after the clock has moved by it. */
    duringSleep: async (): Promise<void> => {},
    deps: {} as Pick<Required<DatabaseObjectDeps>, "now" | "sleep" | "random">,
  };
  time.deps = {
    now: () => time.ms,
    sleep: async (ms) => {
      time.sleeps.push(ms);
      time.ms += ms;
      await time.duringSleep();
    },
    random: () => 1,
  };
  return time;
}

/** A target holding one record, and the ETag of that object. */
async function seeded(): Promise<{ target: Target; etag: string | undefined }> {
  const target = await newTarget("sqlite");
  await (await newEngine(target)).service.create(sampleInput(0));
  return { target, etag: await etagOf(target) };
}

/** An engine on a scripted clock, over a seeded target, whose every GET takes `ms`. */
async function slowLoads(ms: number) {
  const { target, etag } = await seeded();
  const time = scriptedTime();
  const faulty = faultyClient();
  faulty.mock.on(GetObjectCommand).callsFake(async (input) => {
    const got = await faulty.real.send(new GetObjectCommand(input));
    time.ms += ms;
    return got;
  });
  const { service } = await newEngine(target, { s3: faulty.client, ...time.deps });
  return { target, etag, faulty, service };
}

/** Makes the next PUT reach S3 and land, then lose its answer after `ms` of the scripted clock. */
function landThenLose(faulty: FaultyClient, time: { ms: number }, ms: number) {
  onNextPut(faulty, async (input) => {
    await faulty.real.send(new PutObjectCommand(input));
    time.ms += ms;
    throw lostResponse();
  });
}

describe("giving up: when, and with which truth", () => {
  test("a PUT lost so late that no re-read fits is answered outcome unknown at once, without a GET", async () => {
    const { target } = await seeded();
    const time = scriptedTime();
    const faulty = faultyClient();
    landThenLose(faulty, time, 5000);
    const { service } = await newEngine(target, {
      s3: faulty.client,
      ...time.deps,
      retry: { maxDelayMs: 2500 },
    });
    const report = emptyReport();

    // The PUT took 5 s: a re-read as long would end past the deadline.
    const failure = service.create(sampleInput(1), {}, { deadline: T0 + 10_000, report });

    await expect(failure).rejects.toBeInstanceOf(StorageOutcomeUnknownError);
    await expect(failure).rejects.toMatchObject({
      message:
        "no time was left to read the data object again; the write may have been applied: retry only with the same idempotency key",
      // Retry-After: the longest pause, in whole seconds.
      retryAfterSeconds: 3,
      cause: { name: "TimeoutError", message: "socket hang up" },
    });
    expect(callsOf(report)).toEqual(["GetObject 200", "PutObject undefined"]);
  });

  test("re-reads S3 does not answer are tried again after pauses that double, while they fit", async () => {
    const { target } = await seeded();
    const time = scriptedTime();
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await faulty.real.send(new PutObjectCommand(input));
      time.ms += 3000;
      // From now on every read goes unanswered, after a second.
      faulty.mock.on(GetObjectCommand).callsFake(async () => {
        time.ms += 1000;
        throw lostResponse();
      });
      throw lostResponse();
    });
    const { service } = await newEngine(target, {
      s3: faulty.client,
      ...time.deps,
      retry: { baseDelayMs: 100, maxDelayMs: 2500 },
    });
    const report = emptyReport();

    // The attempt took 3 s and each re-read 1 s; 250 ms are kept to answer.
    // Re-reads at 3 s, 4.1 s, 5.3 s and 6.7 s; the last pause that fits ends
    // exactly where a 3 s attempt and the answer would meet the deadline.
    const failure = service.create(sampleInput(1), {}, { deadline: T0 + 9950, report });

    await expect(failure).rejects.toBeInstanceOf(StorageOutcomeUnknownError);
    await expect(failure).rejects.toMatchObject({
      message:
        "S3 did not answer when the data object was read again; the write may have been applied: retry only with the same idempotency key",
      cause: { name: "StorageBusyError", message: "S3 did not answer; try again" },
    });
    expect(time.sleeps).toEqual([100, 200, 400]);
    expect(callsOf(report)).toEqual([
      "GetObject 200",
      "PutObject undefined",
      "GetObject undefined",
      "GetObject undefined",
      "GetObject undefined",
      "GetObject undefined",
    ]);
  });

  test("a re-read refused with 403 is answered at once with the access error, not retried", async () => {
    const { target } = await seeded();
    const time = scriptedTime();
    const faulty = faultyClient();
    onNextPut(faulty, async () => {
      faulty.mock.on(GetObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
      throw lostResponse();
    });
    const { service } = await newEngine(target, { s3: faulty.client, ...time.deps });
    const report = emptyReport();

    await expect(service.create(sampleInput(1), {}, { report })).rejects.toMatchObject({
      status: 500,
      code: "STORAGE_ACCESS_DENIED",
    });
    expect(time.sleeps).toEqual([]);
    expect(callsOf(report)).toEqual(["GetObject 200", "PutObject undefined", "GetObject 403"]);
  });

  test("a lost PUT whose If-Match no longer names the object never lands: busy, nothing applied", async () => {
    const { target } = await seeded();
    const other = await newEngine(target);
    const faulty = faultyClient();
    onNextPut(faulty, async () => {
      // Another writer saves first; then this PUT goes unanswered (and, its
      // If-Match being stale, S3 would refuse it whenever it arrived).
      await other.service.create(sampleInput("other"));
      throw lostResponse();
    });
    const { service } = await newEngine(target, { s3: faulty.client, retry: { maxAttempts: 1 } });

    const failure = service.create(sampleInput(1));

    await expect(failure).rejects.toBeInstanceOf(StorageBusyError);
    await expect(failure).rejects.toMatchObject({
      message:
        "the data object kept changing or S3 did not answer after 1 attempts; nothing was applied: try again",
      cause: { name: "TimeoutError" },
    });
  });

  test("a PUT with no time left to send is not sent: busy, nothing applied", async () => {
    // The load uses everything up to the 250 ms kept to answer.
    const { target, etag, faulty, service } = await slowLoads(750);
    const report = emptyReport();

    const failure = service.create(sampleInput(1), {}, { deadline: T0 + 1000, report });

    await expect(failure).rejects.toBeInstanceOf(StorageBusyError);
    await expect(failure).rejects.toMatchObject({
      message: "no time was left to save; nothing was applied: try again",
      cause: { message: "no time was left to call S3 (PutObject)" },
    });
    expect(callsOf(report)).toEqual(["GetObject 200"]);
    expect(faulty.mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(await etagOf(target)).toBe(etag);
  });

  test("a round ends by the earliest deadline of its operations", async () => {
    const { target, etag, service } = await slowLoads(600);

    // One round: the second write's deadline leaves no time to save for both.
    const [patient, hurried] = await Promise.allSettled([
      service.create(sampleInput(1), {}, { deadline: T0 + 60_000 }),
      service.create(sampleInput(2), {}, { deadline: T0 + 800 }),
    ]);

    for (const outcome of [patient, hurried]) {
      expect(outcome).toMatchObject({
        status: "rejected",
        reason: { message: "no time was left to save; nothing was applied: try again" },
      });
    }
    expect(await etagOf(target)).toBe(etag);
  });
});

describe("after a lost race: waiting for a quiet moment", () => {
  /** An engine whose first PUT loses a real race to `other`, after `attemptMs` on the scripted clock. */
  async function losingEngine(attemptMs: number) {
    const { target } = await seeded();
    const other = await newEngine(target);
    const time = scriptedTime();
    const faulty = faultyClient();
    onNextPut(faulty, async (input) => {
      await other.service.create(sampleInput("winner"));
      time.ms += attemptMs;
      return faulty.real.send(new PutObjectCommand(input)); // 412: If-Match is stale
    });
    const engine = await newEngine(target, { s3: faulty.client, ...time.deps });
    return { target, other, time, faulty, ...engine };
  }

  test("the pause starts at one attempt's length and grows slowly while another writer stays busy", async () => {
    const { other, time, service } = await losingEngine(50);
    let busyLooks = 5;
    time.duringSleep = async () => {
      if (busyLooks-- > 0) await other.service.create(sampleInput(`busy-${busyLooks}`));
    };
    const report = emptyReport();

    const created = await service.create(sampleInput(1), {}, { report });

    // Five looks saw a change (pause again), the sixth a quiet object.
    expect(time.sleeps).toEqual([50, 50, 50, 50, 100, 100]);
    expect(callsOf(report)).toEqual([
      "GetObject 200",
      "PutObject 412",
      "GetObject 200",
      ...Array.from({ length: 5 }, () => "HeadObject 200"),
      "HeadObject 304",
      "GetObject 200",
      "PutObject 200",
    ]);
    expect(report.attempts).toBe(2);
    const all = await other.service.listAll();
    expect(all.find((r) => r.reference === "RAP-1")?.id).toBe(created.id);
    expect(all).toHaveLength(8);
  });

  test("no pause starts that, with an attempt as long as the last, would end past the deadline", async () => {
    const { time, service } = await losingEngine(400);
    const report = emptyReport();

    // After the lost race (at 400 ms), a pause (200, the longest) and an
    // attempt as long as the last (400) would end at 1000, past the 850 left
    // once the 250 ms kept to answer are set aside.
    const failure = service.create(sampleInput(1), {}, { deadline: T0 + 1100, report });

    await expect(failure).rejects.toMatchObject({
      name: "StorageBusyError",
      message:
        "the data object kept changing or S3 did not answer after 1 attempts; nothing was applied: try again",
    });
    expect(time.sleeps).toEqual([]);
    expect(callsOf(report)).toEqual(["GetObject 200", "PutObject 412", "GetObject 200"]);
  });

  test("a look S3 does not answer ends the round busy: nothing was applied", async () => {
    const { time, faulty, service } = await losingEngine(10);
    faulty.mock.on(HeadObjectCommand).rejects(lostResponse());
    const report = emptyReport();

    const failure = service.create(sampleInput(1), {}, { report });

    await expect(failure).rejects.toMatchObject({
      name: "StorageBusyError",
      message: "S3 did not answer a look at the data object; nothing was applied: try again",
    });
    expect(time.sleeps).toHaveLength(1);
    expect(callsOf(report).slice(-1)).toEqual(["HeadObject undefined"]);
  });

  test("a look S3 refuses is the access error, naming what was being done", async () => {
    const { target, faulty, service } = await losingEngine(10);
    faulty.mock.on(HeadObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));

    await expect(service.create(sampleInput(1))).rejects.toMatchObject({
      code: "STORAGE_ACCESS_DENIED",
      message: expect.stringContaining(
        `accès refusé pour lire s3://${target.bucket}/${target.key}`,
      ) as unknown,
    });
  });
});

describe("each S3 call is cut at the deadline", () => {
  /**
   * A client that forwards to the local server, except `command`, which never
   * answers and ignores the abort (as a stuck socket may): the engine must
   * answer by the deadline all the same. Before its first PUT, `other` saves,
   * so that the PUT loses a race and the engine goes on to look (HEAD).
   */
  function stuckOn(command: string, other: { create: () => Promise<unknown> }) {
    const real = localS3Client();
    const signals: AbortSignal[] = [];
    let raced = false;
    const send = async (
      sent: { constructor: { name: string } },
      options?: { abortSignal?: AbortSignal },
    ) => {
      if (options?.abortSignal !== undefined) signals.push(options.abortSignal);
      if (sent.constructor.name === command) return new Promise(() => {});
      if (sent.constructor.name === "PutObjectCommand" && !raced) {
        raced = true;
        await other.create();
      }
      return (real.send as (c: unknown, o?: unknown) => Promise<unknown>)(sent, options);
    };
    return { client: { send } as unknown as S3Client, signals };
  }

  for (const command of ["GetObject", "PutObject", "HeadObject"]) {
    test(`a ${command} that never answers is aborted, reported and answered by the deadline`, async () => {
      const { target } = await seeded();
      const other = await newEngine(target);
      const stuck = stuckOn(`${command}Command`, {
        create: () => other.service.create(sampleInput("winner")),
      });
      const { service } = await newEngine(target, { s3: stuck.client });
      const report = emptyReport();
      const started = Date.now();
      // The calls are timed on the monotonic clock, in fractions of a
      // millisecond; Date.now() would round the whole down to one.
      const clock = monotonicMs();

      const failure = service.create(sampleInput(1), {}, { deadline: started + 1500, report });

      await expect(failure).rejects.toMatchObject({ status: 503 });
      const answeredAfter = monotonicMs() - clock;
      expect(Date.now()).toBeLessThanOrEqual(started + 1500);
      const last = report.s3Calls.at(-1);
      expect(last?.command).toBe(command);
      expect(last?.status).toBeUndefined();
      expect(last?.ms).toBeGreaterThan(0);
      expect(last?.ms).toBeLessThanOrEqual(answeredAfter);
      for (const call of report.s3Calls) {
        expect(call.ms).toBeGreaterThanOrEqual(0);
        expect(call.ms).toBeLessThanOrEqual(answeredAfter);
      }
      const chain = causes(await failure.catch((error: unknown) => error));
      expect(chain.at(-1)).toMatchObject({
        name: "TimeoutError",
        message: expect.stringMatching(
          new RegExp(`^${command} did not answer within the \\d+ ms left$`),
        ) as unknown,
      });
      // The request itself was aborted, with that reason.
      const signal = stuck.signals.at(-1);
      expect(signal?.aborted).toBe(true);
      expect(signal?.reason).toMatchObject({
        name: "TimeoutError",
        message: chain.at(-1)?.message,
      });
    });
  }
  test("a GetObject started ahead (Lambda's init) still on its way at the deadline is busy with Retry-After, read or write", async () => {
    const { target } = await seeded();
    const stuck = stuckOn("GetObjectCommand", { create: async () => undefined });
    const prefetch = prefetchObject(stuck.client, target);
    for (const operation of ["read", "write"] as const) {
      const { service } = await newEngine(target, { s3: stuck.client, prefetch });
      const started = Date.now();
      const options = { deadline: started + 1000, notBefore: prefetch.startedAt };
      const answer =
        operation === "read"
          ? service.list({}, options)
          : service.create(sampleInput(`late-${operation}`), {}, options);

      const error = await answer.catch((e: unknown) => e);
      expect(error, operation).toBeInstanceOf(StorageBusyError);
      expect(error, operation).toMatchObject({ status: 503, code: "STORAGE_BUSY" });
      expect((error as StorageBusyError).retryAfterSeconds, operation).toBeGreaterThanOrEqual(1);
      expect(Date.now() - started, operation).toBeLessThanOrEqual(1000);
    }
  });
});

/** An error's chain of causes, as name and message. */
function causes(error: unknown): { name: string; message: string }[] {
  const chain: { name: string; message: string }[] = [];
  for (let e = error; e instanceof Error; e = e.cause)
    chain.push({ name: e.name, message: e.message });
  return chain;
}
