/**
 * The metrics an operator's alarms read, as CloudWatch would extract them from
 * the log output: each invocation's one JSON line carries an EMF block whose
 * metrics are in the Rapatriements namespace, and whose values tell the story
 * of the invocation (a cache hit, conflicts and retries, a busy answer, the
 * object's size and record count, a batch's size, the share of the records a
 * save removed).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { createCommandsHandler } from "../../../lambda/handlers/apply-commands.ts";
import type { HandlerDeps } from "../../../lambda/handlers/composition-root.ts";
import { createRapatriementHandler } from "../../../lambda/handlers/create-rapatriement.ts";
import { deleteRapatriementHandler } from "../../../lambda/handlers/delete-rapatriement.ts";
import { getRapatriementHandler } from "../../../lambda/handlers/get-rapatriement.ts";
import type { LogLine } from "../../../lambda/handlers/log-line.ts";
import {
  METRICS_NAMESPACE,
  measuredCodec,
  type ObjectGauge,
} from "../../../lambda/handlers/metrics.ts";
import { codecFor } from "../../../lambda/storage/codec-for-strategy.ts";
import type { DatabaseObjectDeps } from "../../../lambda/storage/database-object.ts";
import { lambdaContext } from "../../../tools/local-api/api-gateway.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../../support/cli-run.ts";
import {
  commandsQueues,
  receive,
  sendMessages,
  sqsEvent,
  type TestQueues,
} from "../../support/commands-queue.ts";
import { faultyClient, lostResponse, s3Error } from "../../support/faults.ts";
import { contextFor, httpApiEvent } from "../../support/http-api-events.ts";
import { getBytes, newEngine, newTarget, sampleInput } from "../../support/local-s3.ts";

actAsOperator();

/**
 * Reads one log line as CloudWatch does: the line must be JSON with an `_aws`
 * block; each metric it declares is taken from the field of its name.
 */
function emfMetrics(written: string): {
  namespace: string;
  dimensions: string[][];
  values: Record<string, number>;
} {
  const line = JSON.parse(written) as Record<string, unknown> & {
    _aws?: {
      Timestamp: number;
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string }[];
      }[];
    };
  };
  expect(line._aws).toBeDefined();
  const [directive] = line._aws?.CloudWatchMetrics ?? [];
  if (directive === undefined) throw new Error("no CloudWatchMetrics directive");
  expect(typeof line._aws?.Timestamp).toBe("number");
  for (const dimensionSet of directive.Dimensions) {
    for (const dimension of dimensionSet) expect(typeof line[dimension]).toBe("string");
  }
  const values: Record<string, number> = {};
  for (const metric of directive.Metrics) {
    const value = line[metric.Name];
    expect(typeof value, metric.Name).toBe("number");
    values[metric.Name] = value as number;
  }
  return { namespace: directive.Namespace, dimensions: directive.Dimensions, values };
}

/** A container with its gauge, whose log lines are written as the deployed function writes them. */
async function container(overrides: Partial<DatabaseObjectDeps> = {}) {
  const target = await newTarget("sqlite");
  const gauge: ObjectGauge = {};
  const { service, store } = await newEngine(target, {
    codec: measuredCodec(codecFor("sqlite"), gauge),
    ...overrides,
  });
  const output: string[] = [];
  const deps: HandlerDeps = {
    dependencies: async () => ({ service, store, gauge }),
    log: (line: LogLine) => output.push(`${JSON.stringify(line)}\n`),
  };
  return { target, output, deps };
}

/** A container whose every PUT fails with `error`, trying `maxAttempts` times with no real wait. */
function containerWhosePutsFail(error: Error, maxAttempts: number) {
  const faulty = faultyClient();
  faulty.mock.on(PutObjectCommand).rejects(error);
  return container({
    s3: faulty.client,
    retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 2 },
  });
}

const postEvent = (n: number) =>
  httpApiEvent({
    routeKey: "POST /rapatriements",
    rawPath: "/rapatriements",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(sampleInput(n)),
  });

describe("EMF metrics in the log output", () => {
  test("a create then a warm get: one line each, the object's bytes and records, then a cache hit", async () => {
    const { target, output, deps } = await container();
    const create = createRapatriementHandler(deps);
    const get = getRapatriementHandler(deps);

    const first = postEvent(1);
    const created = await create(first, contextFor(first));
    const id = JSON.parse(created.body ?? "").id as string;
    const event = httpApiEvent({
      routeKey: "GET /rapatriements/{id}",
      rawPath: `/rapatriements/${id}`,
      pathParameters: { id },
    });
    await get(event, contextFor(event));

    expect(output).toHaveLength(2);
    for (const written of output) expect(written.trimEnd()).not.toContain("\n");
    const [afterCreate, afterGet] = output.map(emfMetrics);
    expect(afterCreate?.namespace).toBe(METRICS_NAMESPACE);
    expect(afterCreate?.dimensions).toEqual([["service"]]);
    const bytes = (await getBytes(target)).byteLength;
    expect(afterCreate?.values).toMatchObject({
      Conflicts: 0,
      Retries: 0,
      BusyAnswers: 0,
      OutcomeUnknown: 0,
      CacheHits: 0,
      ObjectBytes: bytes,
      RecordCount: 1,
    });
    expect(afterGet?.values).toMatchObject({ CacheHits: 1, ObjectBytes: bytes, RecordCount: 1 });
    // The log line's own fields are still there beside the metrics.
    expect(JSON.parse(output[1] ?? "")).toMatchObject({
      route: "GET /rapatriements/{id}",
      status: 200,
      cache: "hit",
    });
  });

  test("PUTs that lose the race: conflicts and retries counted, and the busy answer", async () => {
    const { output, deps } = await containerWhosePutsFail(s3Error("PreconditionFailed", 412), 3);
    const event = postEvent(2);
    const answer = await createRapatriementHandler(deps)(event, contextFor(event));

    expect(answer.statusCode).toBe(503);
    expect(emfMetrics(output[0] ?? "").values).toMatchObject({
      Conflicts: 3,
      Retries: 2,
      BusyAnswers: 1,
      OutcomeUnknown: 0,
    });
  });

  test("a PUT refused 409 ConditionalRequestConflict is a conflict too", async () => {
    const { output, deps } = await containerWhosePutsFail(
      s3Error("ConditionalRequestConflict", 409),
      2,
    );
    const event = postEvent(3);
    expect((await createRapatriementHandler(deps)(event, contextFor(event))).statusCode).toBe(503);
    expect(emfMetrics(output[0] ?? "").values).toMatchObject({ Conflicts: 2, Retries: 1 });
  });

  test("an SQS batch: its size, and the records after it", async () => {
    const { output, deps } = await container();
    const queues = await commandsQueues();
    const handler = createCommandsHandler({ ...deps, commandsQueue: queues.queue });
    const result = await handler(await sqsBatch(queues, [1, 2, 3]), lambdaContext("sqs-batch"));

    expect(result).toEqual({ batchItemFailures: [] });
    expect(emfMetrics(output[0] ?? "").values).toMatchObject({
      BatchSize: 3,
      RecordCount: 3,
      Conflicts: 0,
      CommandsDeadLettered: 0,
      CommandsHandedBack: 0,
    });
  });

  test("an SQS batch that finds the storage busy, then one whose PUT is lost: each command is counted", async () => {
    const queues = await commandsQueues();
    const busy = await containerWhosePutsFail(s3Error("PreconditionFailed", 412), 2);
    await createCommandsHandler({ ...busy.deps, commandsQueue: queues.queue })(
      await sqsBatch(queues, [4, 5]),
      lambdaContext("busy"),
    );
    expect(emfMetrics(busy.output[0] ?? "").values).toMatchObject({
      BatchSize: 2,
      Conflicts: 2,
      Retries: 1,
      BusyAnswers: 2,
      OutcomeUnknown: 0,
      CommandsHandedBack: 2,
    });

    const lost = await containerWhosePutsFail(lostResponse(), 1);
    await createCommandsHandler({ ...lost.deps, commandsQueue: queues.queue })(
      await sqsBatch(queues, [6, 7, 8]),
      lambdaContext("lost"),
    );
    expect(emfMetrics(lost.output[0] ?? "").values).toMatchObject({
      BatchSize: 3,
      BusyAnswers: 0,
      OutcomeUnknown: 3,
    });
  });

  test("an SQS batch with a command that can never pass: counted as dead-lettered", async () => {
    const { output, deps } = await container();
    const queues = await commandsQueues();
    await sendMessages(queues, [JSON.stringify({ action: "archive" })]);
    await createCommandsHandler({ ...deps, commandsQueue: queues.queue })(
      sqsEvent(queues.arn, await receive(queues, 1)),
      lambdaContext("refused"),
    );
    expect(emfMetrics(output[0] ?? "").values).toMatchObject({
      BatchSize: 1,
      CommandsDeadLettered: 1,
      CommandsHandedBack: 0,
    });
  });
});

/** Creates of `numbers`, sent to the queue and received as one batch. */
async function sqsBatch(queues: TestQueues, numbers: number[]) {
  await sendMessages(
    queues,
    numbers.map((n) => JSON.stringify({ action: "create", data: sampleInput(`B${n}`) })),
  );
  return sqsEvent(queues.arn, await receive(queues, numbers.length));
}

describe("RecordsRemovedPercent: the share of the records one save removed", () => {
  const eventFor = (routeKey: string, id: string) =>
    httpApiEvent({ routeKey, rawPath: `/rapatriements/${id}`, pathParameters: { id } });

  test("a save that adds records removes 0 %; deleting one of two, 50 %; a read saves nothing and says nothing", async () => {
    const { output, deps } = await container();
    const create = createRapatriementHandler(deps);
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const event = postEvent(n);
      ids.push(JSON.parse((await create(event, contextFor(event))).body ?? "").id as string);
    }
    const [first = ""] = ids;
    const get = eventFor("GET /rapatriements/{id}", first);
    await getRapatriementHandler(deps)(get, contextFor(get));
    const del = eventFor("DELETE /rapatriements/{id}", first);
    expect((await deleteRapatriementHandler(deps)(del, contextFor(del))).statusCode).toBe(204);

    const [firstSave, secondSave, read, deletion] = output.map((line) => emfMetrics(line).values);
    // The container's first save replaced nothing it had loaded: nothing to compare.
    expect(firstSave).not.toHaveProperty("RecordsRemovedPercent");
    expect(secondSave).toMatchObject({ RecordsRemovedPercent: 0, RecordCount: 2 });
    expect(read).not.toHaveProperty("RecordsRemovedPercent");
    expect(deletion).toMatchObject({ RecordsRemovedPercent: 50, RecordCount: 1 });
    expect(JSON.parse(output[3] ?? "")._aws.CloudWatchMetrics[0].Metrics).toContainEqual({
      Name: "RecordsRemovedPercent",
      Unit: "Percent",
    });
  });

  test("a batch of commands that deletes 3 of 4 records in one save: 75 %", async () => {
    const { output, deps } = await container();
    const queues = await commandsQueues();
    const handler = createCommandsHandler({ ...deps, commandsQueue: queues.queue });
    await handler(await sqsBatch(queues, [1, 2, 3, 4]), lambdaContext("creates"));
    const created = await deps.dependencies().then(({ service }) => service.listAll());
    await sendMessages(
      queues,
      created.slice(0, 3).map((r) => JSON.stringify({ action: "delete", id: r.id })),
    );
    const deletes = sqsEvent(queues.arn, await receive(queues, 3));
    expect(await handler(deletes, lambdaContext("deletes"))).toEqual({ batchItemFailures: [] });
    expect(emfMetrics(output[1] ?? "").values).toMatchObject({
      BatchSize: 3,
      RecordsRemovedPercent: 75,
      RecordCount: 1,
    });
  });

  test("a save that does not land says nothing, even after a container counted a drop it never saved", async () => {
    const faulty = faultyClient();
    const { output, deps } = await container({
      s3: faulty.client,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const create = createRapatriementHandler(deps);
    for (const n of [1, 2]) {
      const event = postEvent(n);
      await create(event, contextFor(event));
    }
    const { service } = await deps.dependencies();
    const [doomed] = await service.listAll();
    faulty.mock.on(PutObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    const del = eventFor("DELETE /rapatriements/{id}", doomed?.id ?? "");
    expect((await deleteRapatriementHandler(deps)(del, contextFor(del))).statusCode).toBe(503);
    expect(emfMetrics(output[2] ?? "").values).not.toHaveProperty("RecordsRemovedPercent");
  });

  test("an import --force from the operators' CLI replaces 3 records with 1 on purpose: no function reports it; they measure from the imported object", async () => {
    const { target, output, deps } = await container();
    const create = createRapatriementHandler(deps);
    for (const n of [1, 2, 3]) {
      const event = postEvent(n);
      await create(event, contextFor(event));
    }
    const file = join(freshDir(), "one.json");
    writeFileSync(
      file,
      JSON.stringify([{ ...sampleInput("IMPORTED"), id: "imported-1", status: "draft" }]),
    );
    const imported = await cli(
      ["import", file, "--force", "--yes"],
      operatorEnv(target.bucket, target.key),
    );
    expect(imported.code).toBe(0);

    const event = postEvent(4);
    await create(event, contextFor(event));
    expect(emfMetrics(output[3] ?? "").values).toMatchObject({
      RecordsRemovedPercent: 0,
      RecordCount: 2,
    });
  });
});
