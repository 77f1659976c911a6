/**
 * The commands queue as the commands function sees it (commands-queue.ts):
 * which events have an EventBridge event's shape, which configurations name
 * a queue, what SQS confirms, and how much of a refusal's field errors a
 * dead-lettered message carries. SQS is the local server's.
 */
import { describe, expect, test } from "vitest";
import {
  boundedErrors,
  isEventBridgeEnvelope,
  sqsCommandsQueue,
} from "../../../lambda/handlers/commands-queue.ts";
import { commandsQueues, receive, sendMessages, sqsEvent } from "../../support/commands-queue.ts";

describe("an EventBridge event's shape", () => {
  const whole = { id: "evt-1", source: "erp", "detail-type": "RapatriementCommand", detail: {} };

  test("needs a string id, source and detail-type, and a detail (even undefined)", () => {
    expect(isEventBridgeEnvelope(whole)).toBe(true);
    expect(isEventBridgeEnvelope({ ...whole, detail: undefined })).toBe(true);
    for (const field of ["id", "source", "detail-type", "detail"] as const) {
      const { [field]: _dropped, ...missing } = whole;
      expect(isEventBridgeEnvelope(missing), `without ${field}`).toBe(false);
    }
    for (const field of ["id", "source", "detail-type"] as const) {
      expect(isEventBridgeEnvelope({ ...whole, [field]: 42 }), `${field} a number`).toBe(false);
    }
    for (const other of [null, undefined, "evt", 42, [whole]]) {
      expect(isEventBridgeEnvelope(other), JSON.stringify(other)).toBe(false);
    }
  });
});

describe("the function's queue", () => {
  test("a configuration without the queue's URL and ARN names none", async () => {
    const { config } = await commandsQueues();
    const { queueUrl: _url, ...withoutUrl } = config.commands;
    const { queueArn: _arn, ...withoutArn } = config.commands;
    expect(sqsCommandsQueue({ ...config, commands: withoutUrl })).toBeUndefined();
    expect(sqsCommandsQueue({ ...config, commands: withoutArn })).toBeUndefined();
    expect(sqsCommandsQueue(config)).toMatchObject({ arn: config.commands.queueArn });
  });

  test("SQS confirms its own in-flight messages, twenty-three of them in three requests; a record claiming another queue is not confirmed", async () => {
    const queues = await commandsQueues();
    const ids = await sendMessages(
      queues,
      Array.from({ length: 23 }, (_, i) => `{"n":${i}}`),
    );
    const { Records } = sqsEvent(queues.arn, await receive(queues, 23));
    const [moved, ...rest] = Records;
    if (moved === undefined) throw new Error("no record");
    const elsewhere = { ...moved, eventSourceARN: `${queues.arn}-elsewhere` };

    const confirmed = await queues.queue.confirm([elsewhere, ...rest]);

    expect([...confirmed].sort()).toEqual(rest.map((r) => r.messageId).sort());
    expect(confirmed.size).toBe(22);
    expect(ids).toHaveLength(23);
  });
});

describe("a refusal's field errors, in a dead-lettered message's attribute", () => {
  const error = (i: number) => ({
    path: `lines[${i}].sku`,
    message: "must be at most 64 characters",
  });

  test("all of them when they fit", () => {
    const errors = [error(0), error(1)];
    expect(JSON.parse(boundedErrors(errors))).toEqual({ errors, more: 0 });
  });

  test("the first ones that fit in 4 KiB, the rest counted", () => {
    const errors = Array.from({ length: 1500 }, (_, i) => error(i));
    const json = boundedErrors(errors);
    expect(Buffer.byteLength(json, "utf8")).toBeLessThanOrEqual(4096);
    const { errors: kept, more } = JSON.parse(json) as { errors: unknown[]; more: number };
    expect(kept).toEqual(errors.slice(0, kept.length));
    expect(kept.length).toBeGreaterThan(40);
    expect(kept.length + more).toBe(1500);
    // One more would not have fitted.
    const oneMore = JSON.stringify({ errors: errors.slice(0, kept.length + 1), more: more - 1 });
    expect(Buffer.byteLength(oneMore, "utf8")).toBeGreaterThan(4096);
  });

  test("none when not even one fits: only their count", () => {
    expect(JSON.parse(boundedErrors([error(0)], 20))).toEqual({ errors: [], more: 1 });
  });
});
