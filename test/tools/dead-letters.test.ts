/**
 * The operators' dead-letter commands against the local server, which
 * serves SQS and EventBridge beside S3: commands are refused by the real
 * commands function (played through the queue by `drain`), then listed in
 * French without being consumed, and sent back — as they were or corrected
 * — through an EventBridge rule on the stack's bus to the commands queue,
 * where the function applies them. moto's EventBridge delivers PutEvents to
 * an SQS target when the rule's pattern matches, as AWS does.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, onTestFinished, test } from "vitest";
import { createCommandsHandler } from "../../lambda/handlers/apply-commands.ts";
import type { LogLine } from "../../lambda/handlers/log-line.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../lambda/handlers/routes.ts";
import type { Io } from "../../tools/cli/context.ts";
import { redrive } from "../../tools/cli/dead-letters.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import {
  commandsQueues,
  deadLetters,
  drain,
  MAX_RECEIVES,
  receive,
  ruleDelivery,
  sendMessages,
  settle,
  type TestQueues,
} from "../support/commands-queue.ts";
import { localEndpoint, newEngine, newTarget, REGION, sampleInput } from "../support/local-s3.ts";

actAsOperator();

let sources = 0;

/**
 * A commands queue and its dead-letter queue, the real commands function
 * over them, and an operator whose environment names the dead-letter queue.
 * Each test has a bus of its own (EVENT_BUS_NAME, as the stack's output
 * gives it), and its commands carry a source of their own.
 */
async function stack(options: { maxReceiveCount?: number } = {}) {
  const target = await newTarget("sqlite");
  const engine = await newEngine(target);
  const queues = await commandsQueues(options);
  const log: LogLine[] = [];
  const handler = createCommandsHandler({
    dependencies: async () => ({ service: engine.service, store: engine.store }),
    log: (line) => log.push(line),
    commandsQueue: queues.queue,
  }) as (event: unknown, context: unknown) => Promise<unknown>;
  sources += 1;
  const source = `test.rapatriements.${process.pid}.${Date.now().toString(36)}.${sources}`;
  const bus = `bus-${source.replace(/[^A-Za-z0-9-]/g, "-")}`;
  await eventBridge().send(new CreateEventBusCommand({ Name: bus }));
  const dir = freshDir();
  const env = operatorEnv(target.bucket, target.key, {
    EVENT_BUS_NAME: bus,
    COMMANDS_DEAD_LETTER_QUEUE_URL: queues.deadLetterUrl,
    AWS_ENDPOINT_URL_SQS: localEndpoint(),
    AWS_ENDPOINT_URL_EVENTBRIDGE: localEndpoint(),
    ...(options.maxReceiveCount === undefined
      ? {}
      : { COMMANDS_MAX_RECEIVE_COUNT: String(options.maxReceiveCount) }),
  });
  /** Commands sent as the rule delivers them: an EventBridge event from `source`. */
  const send = (...commands: unknown[]) =>
    sendMessages(
      queues,
      commands.map((command) => ruleDelivery(command, { source })),
    );
  const played = () => drain(queues, handler);
  return {
    engine,
    queues,
    log,
    env,
    source,
    bus,
    send,
    drain: played,
    /** `commands` sent, then refused by the function: the dead-letter queue's messages after. */
    refused: async (...commands: unknown[]) => {
      await send(...commands);
      await played();
      return deadLetters(queues);
    },
    /** A file in the operator's folder: its path. */
    file: (name: string, content: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
      return path;
    },
    cli: (...argv: string[]) => cli(argv, env),
  };
}

function eventBridge(): EventBridgeClient {
  return new EventBridgeClient({
    region: REGION,
    endpoint: localEndpoint(),
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

/** The stack's rule, on `bus`: `source`'s commands go to the commands queue. Removed after the test. */
async function ruleToQueue(queues: TestQueues, source: string, bus: string): Promise<void> {
  const events = eventBridge();
  const name = `commands-${source.replace(/[^A-Za-z0-9-]/g, "-")}`.slice(0, 64);
  await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [source], "detail-type": [COMMAND_DETAIL_TYPE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: bus,
      Targets: [{ Id: "queue", Arn: queues.arn }],
    }),
  );
  onTestFinished(async () => {
    await events.send(new RemoveTargetsCommand({ Rule: name, EventBusName: bus, Ids: ["queue"] }));
    await events.send(new DeleteRuleCommand({ Name: name, EventBusName: bus }));
  });
}

/**
 * The function never answers (it timed out, every time): each delivery's
 * visibility lapses, until SQS moves the messages to the dead-letter queue
 * itself, without a reason.
 */
async function neverAnswered(queues: TestQueues): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const messages = await receive(queues, 10);
    if (messages.length === 0) return;
    await settle(queues, messages, {
      batchItemFailures: messages.map((m) => ({ itemIdentifier: m.MessageId ?? "" })),
    });
  }
  throw new Error("SQS never moved the messages");
}

/** The listing's block about one command: from its "commande <id>" line to the blank line. */
function blockOf(out: string, needle: string): string {
  const block = out.split("\n\n").find((b) => b.includes(needle));
  if (block === undefined) throw new Error(`no block with ${needle} in:\n${out}`);
  return block;
}

function ids(messages: readonly Message[]): string[] {
  return messages.map((m) => m.MessageId ?? "").sort();
}

/** Nothing was sent and nothing deleted: the same messages wait, visible, and the commands queue is empty. */
async function expectUntouched(queues: TestQueues, before: readonly Message[]): Promise<void> {
  expect(ids(await deadLetters(queues))).toEqual(ids(before));
  expect(await receive(queues)).toEqual([]);
}

function attribute(message: Message | undefined, name: string): string | undefined {
  return message?.MessageAttributes?.[name]?.StringValue;
}

describe("dead-letters: the refused commands, in French, none consumed", () => {
  test("each with its reason, author, dates, deliveries and command; one moved by SQS points at the function's log", async () => {
    const s = await stack();
    const moved = await s.engine.service.create(sampleInput("moved"));
    await s.engine.service.update(moved.id, { comment: "v2" });
    await s.engine.service.update(moved.id, { comment: "v3" });
    const done = await s.engine.service.create(sampleInput("done"));
    await s.engine.service.update(done.id, { status: "cancelled" });
    await s.send(
      {
        action: "create",
        data: { reference: "no-lines", origin: "A", destination: "B", colour: 1 },
      },
      { action: "update", id: moved.id, data: { comment: "x" }, expectedVersion: 1 },
      { action: "update", id: done.id, data: { comment: "too late" }, idempotencyKey: "k-1" },
    );
    const [notJson] = await sendMessages(s.queues, ["{ this is not json"]);
    await s.drain();
    const [timedOut] = await s.send({ action: "delete", id: moved.id });
    await neverAnswered(s.queues);
    const kept = await deadLetters(s.queues);
    expect(kept).toHaveLength(5);

    const listing = await s.cli("dead-letters");

    expect(listing.code).toBe(0);
    expect(listing.err).toBe("");
    expect(listing.outLines[0]).toBe(
      `5 commandes refusées dans la file des lettres mortes (${s.queues.deadLetterUrl}), la plus ancienne d'abord :`,
    );
    const invalid = kept.find((m) => m.Body?.includes("no-lines"));
    expect(blockOf(listing.out, "no-lines")).toBe(
      [
        `commande ${invalid?.MessageId} (message d'origine ${attribute(invalid, "rapatriements-message-id")})`,
        `  mise de côté   ${attribute(invalid, "rapatriements-dead-lettered-at")} par la fonction des commandes`,
        `  envoyée        ${attribute(invalid, "rapatriements-sent-at")} par eventbridge:${s.source}`,
        "  distribuée     1 fois",
        "  raison         VALIDATION_FAILED (400) : la commande est invalide",
        "                 lines : est obligatoire",
        "                 colour : champ inconnu",
        "  commande       create, référence no-lines",
      ].join("\n"),
    );
    expect(blockOf(listing.out, "version attendue 1")).toContain(
      "  raison         VERSION_MISMATCH (412) : le rapatriement est à la version 3, pas 1\n",
    );
    expect(blockOf(listing.out, "clé k-1")).toContain(
      "  raison         FORBIDDEN_TRANSITION (409) : le rapatriement est au statut cancelled : il ne peut plus changer\n" +
        `  commande       update, id ${done.id}, champs comment, clé k-1`,
    );
    const unreadable = blockOf(listing.out, "this is not json");
    expect(unreadable).toContain(`(message d'origine ${notJson})`);
    expect(unreadable).toMatch(/\n {2}envoyée {8}\S+ par sqs:\S+\n/);
    expect(unreadable).toContain(
      "  raison         VALIDATION_FAILED (400) : la commande est invalide\n" +
        "                 body : le message n'est pas du JSON (erreur au caractère 2)\n" +
        "  commande       illisible (pas du JSON) : { this is not json",
    );
    // Moved by SQS itself: no reason, no time of its own; its id is the one it was sent with.
    expect(blockOf(listing.out, `commande ${timedOut}`)).toBe(
      [
        `commande ${timedOut}`,
        "  mise de côté   par SQS après sa dernière distribution, sans raison jointe",
        `  envoyée        ${new Date(Number(kept.find((m) => m.MessageId === timedOut)?.Attributes?.SentTimestamp)).toISOString()} par eventbridge:${s.source}`,
        `  distribuée     ${MAX_RECEIVES} fois (le maximum de la file)`,
        "  raison         la fonction des commandes n'a pas répondu (délai dépassé, mémoire épuisée ou arrêt) : voyez son journal à l'heure de la dernière distribution",
        `  commande       delete, id ${moved.id}`,
        "  attention      elle a peut-être été appliquée : vérifiez le rapatriement avant de la renvoyer (renvoyée, elle porte un nouvel identifiant d'événement, et seule sa propre clé d'idempotence empêcherait une seconde application)",
      ].join("\n"),
    );
    expect(listing.outLines.at(-1)).toBe(
      "renvoyer une commande : npx rapatriements redrive ID (telle quelle) ou redrive ID --file FICHIER (corrigée) ; toutes telles quelles : npx rapatriements redrive --all",
    );

    // Nothing was consumed, and every message is visible again at once: a second listing says the same.
    expect(ids(await deadLetters(s.queues))).toEqual(ids(kept));
    expect((await s.cli("dead-letters")).out).toBe(listing.out);
  });

  test("an empty dead-letter queue says so", async () => {
    const s = await stack();

    const listing = await s.cli("dead-letters");

    expect(listing).toMatchObject({ code: 0, err: "" });
    expect(listing.out).toBe(
      `aucune commande refusée : la file des lettres mortes est vide (${s.queues.deadLetterUrl})`,
    );
  });

  test("without COMMANDS_DEAD_LETTER_QUEUE_URL, the error names it and the stack output to take it from", async () => {
    const s = await stack();
    const env = { ...s.env, processEnv: { ...s.env.processEnv } };
    delete env.processEnv.COMMANDS_DEAD_LETTER_QUEUE_URL;

    for (const argv of [["dead-letters"], ["redrive", "--all"]]) {
      const run = await cli(argv, env);
      expect(run.code).toBe(1);
      expect(run.out).toBe("");
      expect(run.err).toContain(
        "erreur : ValueError: COMMANDS_DEAD_LETTER_QUEUE_URL est obligatoire pour dead-letters et redrive : c'est l'URL de la file des lettres mortes des commandes, la sortie CommandsDeadLetterQueueUrl de la pile.",
      );
      expect(run.err).toContain("OutputKey=='CommandsDeadLetterQueueUrl'].OutputValue");
    }
  });

  test("a queue that does not exist is named, with the variable to check", async () => {
    const s = await stack();
    const env = {
      ...s.env,
      processEnv: {
        ...s.env.processEnv,
        COMMANDS_DEAD_LETTER_QUEUE_URL: `${s.queues.deadLetterUrl}-gone`,
      },
    };

    const run = await cli(["dead-letters"], env);

    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /^erreur : la file \S+-gone n'existe pas \(\S+\) : vérifiez COMMANDS_DEAD_LETTER_QUEUE_URL \(sortie CommandsDeadLetterQueueUrl de la pile\) et AWS_REGION$/,
    );
  });
});

describe("redrive: to the stack's bus that EVENT_BUS_NAME names, rapatriements by default", () => {
  test("a command goes to that bus, not the default bus: a rule there sees nothing", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, s.source, "default");
    await s.send({ action: "create", data: sampleInput("bus") });
    await neverAnswered(s.queues);

    const run = await s.cli("redrive", "--all");

    expect(run).toMatchObject({ code: 0, err: "" });
    expect(await deadLetters(s.queues)).toEqual([]);
    expect(await receive(s.queues)).toEqual([]);
  });

  test("without EVENT_BUS_NAME, the bus rapatriements (the stack's default name)", async () => {
    const s = await stack();
    await eventBridge()
      .send(new CreateEventBusCommand({ Name: "rapatriements" }))
      .catch((error: Error) => {
        if (error.name !== "ResourceAlreadyExistsException") throw error;
      });
    await ruleToQueue(s.queues, s.source, "rapatriements");
    const env = { ...s.env, processEnv: { ...s.env.processEnv } };
    delete env.processEnv.EVENT_BUS_NAME;
    await s.send({ action: "create", data: sampleInput("default-bus") });
    await neverAnswered(s.queues);

    const run = await cli(["redrive", "--all"], env);

    expect(run).toMatchObject({ code: 0, err: "" });
    await s.drain();
    expect((await s.engine.service.listAll()).map((r) => r.reference)).toEqual(["RAP-default-bus"]);
  });

  test("an EVENT_BUS_NAME that is no bus name is refused before anything is read or sent", async () => {
    const s = await stack();
    await s.send({ action: "create", data: { reference: "RAP-kept" } });
    await s.drain();
    const before = await deadLetters(s.queues);
    const env = {
      ...s.env,
      processEnv: { ...s.env.processEnv, EVENT_BUS_NAME: "mon bus" },
    };

    const run = await cli(["redrive", "--all"], env);

    expect(run).toMatchObject({ code: 1, out: "" });
    expect(run.err).toBe(
      'erreur : ValueError: EVENT_BUS_NAME doit être le nom du bus de la pile (sortie EventBusName), ou son ARN ; un nom a de 1 à 256 lettres, chiffres, points, tirets, soulignés ou barres obliques (reçu "mon bus")',
    );
    expect(await deadLetters(s.queues)).toHaveLength(before.length);
  });
});

describe("redrive: back through EventBridge, deleted once EventBridge accepted it", () => {
  test("a command sent back as it was, once its cause is fixed, is applied by the function as coming from its source", async () => {
    const s = await stack({ maxReceiveCount: 2 });
    await ruleToQueue(s.queues, s.source, s.bus);
    const record = await s.engine.service.create(sampleInput("early"));
    // Sent too early: a draft cannot go in transit. Handed back, then dead-lettered on its last delivery.
    const [original] = await s.send({
      action: "update",
      id: record.id,
      data: { status: "in_transit" },
    });
    await s.drain();
    expect(await deadLetters(s.queues)).toHaveLength(1);
    await s.engine.service.update(record.id, { status: "requested" });

    // The operator takes the id the function's log gives: the original message's.
    const run = await s.cli("redrive", original ?? "");

    expect(run).toMatchObject({ code: 0, err: "" });
    expect(run.out).toMatch(
      new RegExp(
        `^renvoyée : \\S+ \\(update, id ${record.id}, champs status\\) — événement \\S+ \\(source ${s.source.replaceAll(".", "\\.")}\\), retirée de la file des lettres mortes$`,
      ),
    );
    expect(await deadLetters(s.queues)).toEqual([]);
    const deliveries = await s.drain();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.response).toEqual({ batchItemFailures: [] });
    // The rule delivered the event EventBridge made of it: source, detail-type, the command as detail.
    expect(JSON.parse(deliveries[0]?.event.Records[0]?.body ?? "{}")).toMatchObject({
      source: s.source,
      "detail-type": COMMAND_DETAIL_TYPE,
      detail: { action: "update", id: record.id, data: { status: "in_transit" } },
    });
    expect(await s.engine.service.get(record.id)).toMatchObject({
      status: "in_transit",
      updatedBy: `eventbridge:${s.source}`,
    });
    expect(await deadLetters(s.queues)).toEqual([]);
  });

  test("a command replaced by the corrected one in --file is checked, sent and applied; the refused one is gone", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, s.source, s.bus);
    const [refused] = await s.refused({ action: "create", data: { reference: "RAP-fixed" } });
    const file = s.file("corrigee.json", { action: "create", data: sampleInput("fixed") });

    const run = await s.cli("redrive", refused?.MessageId ?? "", "--file", file);

    expect(run).toMatchObject({ code: 0, err: "" });
    expect(run.out).toContain(
      `renvoyée : ${refused?.MessageId} (create, référence RAP-fixed) — événement `,
    );
    expect(await deadLetters(s.queues)).toEqual([]);
    await s.drain();
    const created = (await s.engine.service.listAll()).find((r) => r.reference === "RAP-fixed");
    expect(created).toMatchObject({
      lines: sampleInput("fixed").lines,
      createdBy: `eventbridge:${s.source}`,
    });
    expect(await deadLetters(s.queues)).toEqual([]);
  });

  test("a bad --file is a French error and changes nothing: nothing sent, the refused command still listed", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, s.source, s.bus);
    const before = await s.refused({ action: "create", data: { reference: "RAP-bad" } });
    const id = before[0]?.MessageId ?? "";
    const notJson = s.file("pas-json.json", "{ action: create }");
    const invalid = s.file("invalide.json", {
      action: "create",
      data: { reference: "RAP-bad" },
      expectedVersion: 2,
    });
    // A well-formed command whose data the function would refuse: checked as the function checks it.
    const badData = s.file("donnees.json", {
      action: "create",
      data: { ...sampleInput("bad"), lines: [] },
    });
    const absent = join(freshDir(), "absent.json");
    const runs = [
      await s.cli("redrive", id, "--file", notJson),
      await s.cli("redrive", id, "--file", invalid),
      await s.cli("redrive", id, "--file", absent),
      await s.cli("redrive", id, "--file", badData),
    ];

    expect(runs.map((r) => r.code)).toEqual([1, 1, 1, 1]);
    expect(runs.map((r) => r.out)).toEqual(["", "", "", ""]);
    expect(runs[0]?.err).toBe(
      `erreur : ${notJson} n'est pas du JSON : il doit contenir une commande, par exemple { "action": "update", "id": "…", "data": { … } } ; rien n'a été envoyé`,
    );
    expect(runs[1]?.err).toBe(
      `erreur : ${invalid} : commande invalide (expectedVersion : champ inconnu) ; rien n'a été envoyé`,
    );
    expect(runs[2]?.err).toBe(`erreur : ${absent} n'existe pas : rien n'a été envoyé`);
    expect(runs[3]?.err).toBe(
      `erreur : ${badData} : commande invalide (lines : doit contenir au moins 1 ligne) ; rien n'a été envoyé`,
    );
    await expectUntouched(s.queues, before);
  });

  test("an unknown id, or a command that would be refused again as it is, sends nothing and deletes nothing", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, s.source, s.bus);
    const before = await s.refused({ action: "create", data: { reference: "RAP-invalid" } });
    const id = before[0]?.MessageId ?? "";

    const unknown = await s.cli("redrive", "no-such-message");
    const asItWas = await s.cli("redrive", id);

    expect(unknown).toMatchObject({ code: 1, out: "" });
    expect(unknown.err).toBe(
      "erreur : aucune commande no-such-message dans la file des lettres mortes : rien n'a été envoyé (voir npx rapatriements dead-letters)",
    );
    expect(asItWas).toMatchObject({ code: 1, out: "" });
    expect(asItWas.err).toBe(
      `non renvoyée : ${id} (create, référence RAP-invalid) — commande invalide (origin : est obligatoire ; destination : est obligatoire ; lines : est obligatoire) ; elle serait refusée de nouveau : renvoyez-la corrigée, npx rapatriements redrive ${id} --file FICHIER`,
    );
    await expectUntouched(s.queues, before);
  });

  test("--all sends every command back as it was, in the order first sent, and reports each", async () => {
    const s = await stack({ maxReceiveCount: 2 });
    await ruleToQueue(s.queues, s.source, s.bus);
    const record = await s.engine.service.create(sampleInput("all"));
    // One the function refused on its last delivery, one it never answered for (a storage outage).
    await s.send({ action: "update", id: record.id, data: { status: "in_transit" } });
    await s.drain();
    await s.send({ action: "create", data: sampleInput("outage") });
    await neverAnswered(s.queues);
    expect(await deadLetters(s.queues)).toHaveLength(2);
    await s.engine.service.update(record.id, { status: "requested" });

    const run = await s.cli("redrive", "--all");

    expect(run).toMatchObject({ code: 0, err: "" });
    expect(run.outLines[0]).toBe(
      "2 commandes à renvoyer à EventBridge, dans l'ordre de leur premier envoi :",
    );
    expect(run.outLines.slice(1).map((line) => line.replace(/ — .*/, ""))).toEqual([
      expect.stringMatching(
        new RegExp(`^renvoyée : \\S+ \\(update, id ${record.id}, champs status\\)$`),
      ),
      expect.stringMatching(/^renvoyée : \S+ \(create, référence RAP-outage\)$/),
    ]);
    expect(await deadLetters(s.queues)).toEqual([]);
    await s.drain();
    expect(await s.engine.service.get(record.id)).toMatchObject({ status: "in_transit" });
    expect((await s.engine.service.listAll()).map((r) => r.reference).sort()).toEqual([
      "RAP-all",
      "RAP-outage",
    ]);
    expect(await deadLetters(s.queues)).toEqual([]);

    // Once empty, --all says so.
    expect((await s.cli("redrive", "--all")).out).toBe(
      `aucune commande à renvoyer : la file des lettres mortes est vide (${s.queues.deadLetterUrl})`,
    );
  });

  test("a command sent straight to the queue, not as an event, goes back with the commands' own source", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, COMMAND_SOURCE, s.bus);
    const [id] = await sendMessages(s.queues, [
      JSON.stringify({ action: "create", data: { ...sampleInput("plain"), colour: "red" } }),
    ]);
    await s.drain();
    const file = s.file("commande.json", { action: "create", data: sampleInput("plain") });

    const run = await s.cli("redrive", id ?? "", "--file", file);

    expect(run.code).toBe(0);
    expect(run.out).toContain(`(source ${COMMAND_SOURCE}), retirée de la file des lettres mortes`);
    await s.drain();
    expect(
      (await s.engine.service.listAll()).find((r) => r.reference === "RAP-plain"),
    ).toMatchObject({ createdBy: `eventbridge:${COMMAND_SOURCE}` });
  });

  test("when EventBridge refuses the entry, nothing is deleted and the error says so", async () => {
    const s = await stack();
    const before = await s.refused({ action: "create", data: { reference: "RAP-throttled" } });
    const id = before[0]?.MessageId ?? "";
    const file = s.file("commande.json", { action: "create", data: sampleInput("throttled") });
    // A failed entry the local server never gives for a well-formed event: injected at the client.
    const events = mockClient(EventBridgeClient);
    onTestFinished(() => {
      events.restore();
    });
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" }],
    });

    const run = await s.cli("redrive", id, "--file", file);

    expect(run).toMatchObject({ code: 1, out: "" });
    expect(run.err).toBe(
      `non renvoyée : ${id} (create, référence RAP-throttled) — EventBridge l'a refusée (ThrottlingException : Rate exceeded) ; elle reste dans la file des lettres mortes`,
    );
    expect(events.commandCalls(PutEventsCommand)[0]?.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: s.bus,
          Source: s.source,
          DetailType: COMMAND_DETAIL_TYPE,
          Detail: JSON.stringify({ action: "create", data: sampleInput("throttled") }),
        },
      ],
    });
    await expectUntouched(s.queues, before);
  });

  test("sent but not deleted: the operator is told not to send it again", async () => {
    const s = await stack();
    await ruleToQueue(s.queues, s.source, s.bus);
    await s.send({ action: "create", data: sampleInput("twice") });
    await neverAnswered(s.queues);
    const [kept] = await deadLetters(s.queues);
    // The delete fails after EventBridge accepted the command: a fault injected at the client,
    // every other call reaches the local server.
    const sqs = new SQSClient({});
    const stub = mockClient(sqs);
    stub
      .on(GetQueueAttributesCommand)
      .callsFake((input) => s.queues.sqs.send(new GetQueueAttributesCommand(input)));
    stub
      .on(ReceiveMessageCommand)
      .callsFake((input) => s.queues.sqs.send(new ReceiveMessageCommand(input)));
    stub
      .on(ChangeMessageVisibilityBatchCommand)
      .callsFake((input) => s.queues.sqs.send(new ChangeMessageVisibilityBatchCommand(input)));
    stub
      .on(DeleteMessageCommand)
      .rejects(Object.assign(new Error("lost"), { name: "TimeoutError" }));
    const err: string[] = [];
    const io: Io = { out: () => undefined, err: (line) => err.push(line) };

    const code = await redrive(
      {
        url: s.queues.deadLetterUrl,
        sqs,
        events: eventBridge(),
        busName: s.bus,
        maxReceiveCount: MAX_RECEIVES,
      },
      io,
      { id: kept?.MessageId ?? "" },
    );

    expect(code).toBe(1);
    expect(err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^renvoyée : ${kept?.MessageId} \\(create, référence RAP-twice\\) — événement \\S+, mais elle n'a pas pu être retirée de la file des lettres mortes \\(TimeoutError\\) : ne la renvoyez pas une seconde fois ; une fois la commande vérifiée, retirez-la de la file \\(sqs:DeleteMessage\\)$`,
        ),
      ),
    ]);
    // It did go: the commands queue holds the event; the dead-letter queue still holds the message.
    expect(await receive(s.queues)).toHaveLength(1);
    const { Attributes } = await s.queues.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: s.queues.deadLetterUrl,
        AttributeNames: ["ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(Attributes?.ApproximateNumberOfMessagesNotVisible).toBe("1");
  });

  test("arguments: an ID or --all, and --file only with an ID", async () => {
    const s = await stack();
    const runs = [
      await s.cli("redrive"),
      await s.cli("redrive", "--all", "some-id"),
      await s.cli("redrive", "--all", "--file", "x.json"),
      await s.cli("dead-letters", "--all"),
    ];

    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
    expect(runs.map((r) => r.err.split("\n")[0])).toEqual([
      "rapatriements : redrive attend ID (ou --all)",
      "rapatriements : redrive ne prend pas d'argument (reçu : some-id)",
      "rapatriements : --file corrige une seule commande : il ne va pas avec --all",
      "rapatriements : --all ne s'applique pas à dead-letters",
    ]);
  });
});
