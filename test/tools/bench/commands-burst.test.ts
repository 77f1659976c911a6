/**
 * The commands burst: it ends only when every consumer has found the queue
 * empty, and a small burst on the local server's real queue lands every
 * command once, counts the ones that can never pass from the real
 * dead-letter queue, and measures what confirming with SQS cost.
 */
import { describe, expect, test } from "vitest";
import {
  burstCommand,
  commandsBurst,
  DrainTracker,
  describeBurst,
} from "../../../tools/bench/commands-burst.ts";
import { localEndpoint } from "../../support/local-s3.ts";

describe("the end of a burst", () => {
  test("comes when every consumer is idle; a batch handed back wakes the idle ones first", () => {
    const tracker = new DrainTracker(3);
    expect(tracker.wentIdle(0)).toBe(false);
    expect(tracker.applied(0)).toEqual([]);
    expect(tracker.applied(2)).toEqual([0]);
    expect(tracker.wentIdle(1)).toBe(false);
    expect(tracker.wentIdle(2)).toBe(false);
    expect(tracker.wentIdle(0)).toBe(true);
  });
});

describe("a burst on the real queue", () => {
  test("lands every command once and dead-letters, through SQS, those that can never pass", async () => {
    const invalid = (i: number) => i % 10 === 3;
    const result = await commandsBurst({
      endpoint: localEndpoint(),
      consumers: 2,
      batchSize: 20,
      commands: 40,
      records: 50,
      // An empty reference and nothing else: refused whatever the order.
      command: (i) =>
        invalid(i) ? { action: "create", data: { reference: "" } } : burstCommand(i),
    });
    expect(result).toMatchObject({
      commands: 40,
      deadLetters: 4,
      lost: 0,
      leftOnQueue: 0,
      // Every record was a message in flight: SQS confirms them all.
      unconfirmed: 0,
      timedOutInvocations: 0,
    });
    // Each message is received at least once; at most 20 a batch.
    expect(result.invocations).toBeGreaterThanOrEqual(2);
    expect(result.puts).toBeGreaterThanOrEqual(1);
    // The confirmation is part of the handler's time, never more.
    expect(result.confirmSeconds).toBeLessThanOrEqual(result.handlerSeconds);
    expect(describeBurst(result)).toContain("confirming with SQS");
  });
});
