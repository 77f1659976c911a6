/**
 * The operators' CLI speaks French (issue: one language for operators). The
 * French catalogue (lambda/messages) is checked against every rule the
 * domain's validation gives and every refusal the commands function keeps
 * with a dead-lettered command, and the CLI's real output — usage errors,
 * refused imports, bad files, storage errors, doctor — is checked to hold no
 * English sentence. (The HTTP API's French: test/lambda/messages.)
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { FieldError } from "../../lambda/errors.ts";
import {
  ImportRefusedError,
  StorageBusyError,
  StorageOutcomeUnknownError,
} from "../../lambda/errors.ts";
import { createCommandsHandler } from "../../lambda/handlers/apply-commands.ts";
import type { CommandsQueue, DeadLetter } from "../../lambda/handlers/commands-queue.ts";
import { french } from "../../lambda/messages/french.ts";
import { ruleText } from "../../lambda/messages/render.ts";
import { parseImportedRecord } from "../../lambda/rapatriements/validation.ts";
import { frenchError, frenchField, frenchRefusal } from "../../tools/cli/french.ts";
import { plural } from "../../tools/data/plural.ts";
import { lambdaContext } from "../../tools/local-api/api-gateway.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import { forgedRecord } from "../support/commands-queue.ts";
import {
  createBucket,
  localS3Client,
  newEngine,
  newTarget,
  sampleInput,
} from "../support/local-s3.ts";

/**
 * English function words that French sentences never use. Field names
 * (`lines[0].quantity`), ids, paths and AWS commands hold none of them.
 */
const ENGLISH =
  /\b(the|is|are|was|must|be|not|of|with|has|holds|already|found|unknown|invalid|expected|should|cannot|could|try|again|and|or|an|file|data|than|from|this|that)\b/i;

/**
 * The one English phrase the CLI says on purpose: the guide's own error name
 * and text for missing credentials, which operators search for.
 */
const QUOTED_FROM_THE_GUIDE = /NoCredentialsError: Unable to locate credentials/g;

/** "file" is French too: a queue ("la file des lettres mortes"), never English after these words. */
const FRENCH_FILE = /\b(?:la|une|cette|de|des) files?\b|\bfiles? (?:des|d'attente)\b/gi;

function englishIn(text: string): string[] {
  return text
    .replace(QUOTED_FROM_THE_GUIDE, "")
    .replace(FRENCH_FILE, "")
    .split("\n")
    .filter((line) =>
      ENGLISH.test(line.replace(/`[^`]*`|"[^"]*"|s3:\/\/\S+|--\S+|\S+\.(db|json|csv)\b/g, "")),
    );
}

/** Bad records, one per rule of the validation, and the field errors they give. */
function everyValidationError(): FieldError[] {
  const long = (n: number) => "x".repeat(n);
  const bad: unknown[] = [
    {},
    { ...sampleInput(1), reference: 42, origin: 7, lines: "none" },
    { ...sampleInput(2), reference: "with space" },
    { ...sampleInput(3), origin: "", destination: long(65) },
    { ...sampleInput(4), origin: " LYON" },
    { ...sampleInput(5), destination: "LYON-01" },
    { ...sampleInput(6), lines: [] },
    { ...sampleInput(7), lines: Array.from({ length: 501 }, () => ({ sku: "A", quantity: 1 })) },
    { ...sampleInput(8), lines: [{ sku: "A", quantity: 0 }, "x", { sku: "B", quantity: "1" }] },
    { ...sampleInput(9), status: "lost" },
    { ...sampleInput(10), requestedAt: "yesterday" },
    {
      ...sampleInput(11),
      requestedAt: "2026-03-02T00:00:00Z",
      expectedAt: "2026-03-01T00:00:00Z",
    },
    { ...sampleInput(12), comment: long(2001), colour: "red" },
    { ...sampleInput(13), comment: "\ud800" },
    { ...sampleInput(14), version: 0, createdAt: "now" },
    { ...sampleInput(15), version: 1.5, id: 12 },
    "not an object",
  ];
  const errors = new Map<string, FieldError>();
  bad.forEach((raw, index) => {
    try {
      parseImportedRecord(raw, index);
    } catch (error) {
      for (const e of (error as { errors?: FieldError[] }).errors ?? []) {
        errors.set(JSON.stringify([e.rule, e.params]), e);
      }
    }
  });
  return [...errors.values()];
}

/** Whether the French catalogue has a rendering of `e`'s rule. */
function inCatalogue(e: { rule: string }): boolean {
  return Object.hasOwn(french.rules, e.rule);
}

/**
 * A commands queue that confirms every record and keeps what the function
 * dead-letters: each record is on its last delivery, so every refusal is
 * kept with its reason and keys, as an operator would list it.
 */
function keepingQueue(): { queue: CommandsQueue; letters: DeadLetter[] } {
  const letters: DeadLetter[] = [];
  const queue: CommandsQueue = {
    arn: "arn:aws:sqs:eu-west-1:123456789012:commandes",
    maxReceiveCount: 1,
    confirm: async (records) => new Set(records.map((r) => r.messageId)),
    deadLetter: async (sent) => {
      letters.push(...sent);
      return new Set(sent.map((letter) => letter.record.messageId));
    },
  };
  return { queue, letters };
}

function sqsBatch(arn: string, bodies: readonly string[]) {
  return { Records: bodies.map((body, i) => forgedRecord(`m-${i}`, body, arn, "AIDAOPERATOR")) };
}

describe("the French catalogue", () => {
  test("has every rule the validation gives, and none of its French is English", () => {
    const messages = everyValidationError();
    expect(messages.length).toBeGreaterThanOrEqual(15);
    const missing = messages.filter((message) => !inCatalogue(message));
    expect(missing).toEqual([]);
    const said = messages.map((e) => ruleText("fr", e));
    expect(said.filter((line) => ENGLISH.test(line))).toEqual([]);
    expect(ruleText("fr", { rule: "maxCharacters", params: { max: 2000 } })).toBe(
      "doit faire au plus 2000 caractères",
    );
  });

  test("says the storage's and the import's errors in French", () => {
    const said = [
      frenchError(new ImportRefusedError(1)),
      frenchError(new ImportRefusedError(3)),
      frenchError(new StorageBusyError("the data object kept changing; nothing was applied", 1)),
      frenchError(new StorageOutcomeUnknownError("the write may have been applied", 1)),
    ];
    expect(said[0]).toBe(
      "les données contiennent déjà 1 rapatriement : relancez avec --force pour les remplacer",
    );
    expect(said[1]).toContain("3 rapatriements");
    expect(said.flatMap(englishIn)).toEqual([]);
  });

  test("has every refusal and field rule a command can get from the commands function", async () => {
    const engine = await newEngine(await newTarget("sqlite"));
    const draft = await engine.service.create(sampleInput("draft"));
    const done = await engine.service.create(sampleInput("done"));
    await engine.service.update(done.id, { status: "cancelled" });
    const { queue, letters } = keepingQueue();
    const handler = createCommandsHandler({
      dependencies: async () => ({ service: engine.service, store: engine.store }),
      log: () => undefined,
      commandsQueue: queue,
    }) as (event: unknown, context: unknown) => Promise<unknown>;
    const update = (fields: Record<string, unknown>) => ({ action: "update", data: {}, ...fields });
    // One command per check a command goes through, and per refusal of the domain.
    const commands: unknown[] = [
      {},
      "not a command",
      { action: "archive" },
      { action: "create" },
      { action: "create", data: sampleInput(1), colour: "red" },
      { action: "create", data: { ...sampleInput(2), id: "mine", createdBy: "me" } },
      { action: "create", data: { reference: "no lines" } },
      update({}),
      update({ id: "" }),
      update({ id: "x".repeat(129) }),
      update({ id: 5 }),
      update({ id: draft.id, expectedVersion: 0 }),
      update({ id: draft.id, expectedVersion: 1.5 }),
      update({ id: draft.id, expectedVersion: "2" }),
      { action: "delete", id: draft.id, idempotencyKey: "" },
      { action: "delete", id: draft.id, idempotencyKey: "k".repeat(256) },
      { action: "delete", id: draft.id, idempotencyKey: 3 },
      update({ id: draft.id }),
      update({ id: "never-created", data: { comment: "x" } }),
      update({ id: draft.id, data: { comment: "x" }, expectedVersion: 7 }),
      update({ id: done.id, data: { comment: "too late" } }),
      update({ id: draft.id, data: { status: "received" } }),
      update({ id: draft.id, data: { reference: "RAP-done" } }),
      { action: "create", data: sampleInput("draft") },
      { action: "create", data: sampleInput("k1"), idempotencyKey: "k" },
      { action: "create", data: sampleInput("k2"), idempotencyKey: "k" },
    ];

    await handler(
      sqsBatch(
        queue.arn,
        commands.map((command) => JSON.stringify(command)),
      ),
      lambdaContext("catalogue"),
    );

    const refusals = letters.map((letter) => ({ ...letter.reason, keys: letter.keys }));
    expect(refusals).toHaveLength(commands.length - 1);
    expect(new Set(refusals.map((r) => r.code))).toEqual(
      new Set([
        "VALIDATION_FAILED",
        "NOT_FOUND",
        "VERSION_MISMATCH",
        "FORBIDDEN_TRANSITION",
        "DUPLICATE_REFERENCE",
        "IDEMPOTENCY_KEY_REUSED",
      ]),
    );
    const reasons = refusals.map((r) => r.keys?.text);
    expect(
      reasons.filter((text) => text === undefined || !Object.hasOwn(french.texts, text.key)),
    ).toEqual([]);
    const fieldRules = [
      ...new Map(
        refusals.flatMap((r) => r.keys?.rules ?? []).map((e) => [JSON.stringify(e), e]),
      ).values(),
    ];
    expect(fieldRules.length).toBeGreaterThanOrEqual(12);
    expect(fieldRules.filter((rule) => !inCatalogue(rule))).toEqual([]);
    const saidInFrench = [
      ...refusals.map((r) => frenchRefusal(r.code, r.keys?.text)),
      ...fieldRules.map((rule) => frenchField("", rule)),
    ];
    expect(
      saidInFrench.filter((line) => ENGLISH.test(line.replace(/"[^"]*"|«[^»]*»/g, ""))),
    ).toEqual([]);
    const said = (code: string) =>
      refusals.filter((r) => r.code === code).map((r) => frenchRefusal(r.code, r.keys?.text));
    expect(said("VERSION_MISMATCH")).toEqual(["le rapatriement est à la version 1, pas 7"]);
    expect(said("FORBIDDEN_TRANSITION").sort()).toEqual([
      "le rapatriement est au statut cancelled : il ne peut plus changer",
      "un rapatriement au statut draft ne peut pas passer à received (possibles : requested, cancelled)",
    ]);
    expect(said("NOT_FOUND")).toEqual(["aucun rapatriement n'a l'id « never-created »"]);
    // The storage's refusals are said by their code; an unknown one, plainly.
    expect(frenchRefusal("STORAGE_BUSY", { key: "noAnswer", params: {} })).toContain(
      "rien n'a été appliqué",
    );
    expect(
      frenchRefusal("DATA_OBJECT_DELETED", { key: "commandInternalError", params: {} }),
    ).toContain("restaurez-le (npx rapatriements versions, puis restore VERSION_ID)");
    expect(frenchRefusal("SOMETHING_NEW", undefined)).toBe(
      "refus sans traduction : voyez le code et le journal de la fonction des commandes",
    );
  });

  test("plurals: 0 and 1 take the singular, 2 and more the plural", () => {
    expect(plural(0, "enregistrement")).toBe("0 enregistrement");
    expect(plural(1, "enregistrement")).toBe("1 enregistrement");
    expect(plural(2, "enregistrement")).toBe("2 enregistrements");
    expect(plural(2, "rapatriement serait importé", "rapatriements seraient importés")).toBe(
      "2 rapatriements seraient importés",
    );
  });
});

actAsOperator();

describe("what the CLI prints", () => {
  test("usage errors, refused imports, unreadable files and doctor hold no English sentence", async () => {
    const bucket = await createBucket(localS3Client());
    const key = "rapatriements/rapatriements.db";
    const dir = freshDir();
    const env = operatorEnv(bucket, key, {}, dir);
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify([
        sampleInput(1),
        { ...sampleInput(2), lines: [{ sku: "A", quantity: -1 }], colour: "red" },
        { ...sampleInput(1) },
      ]),
    );
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify([sampleInput(1), sampleInput(2)]));
    const notData = join(dir, "notes.json");
    writeFileSync(notData, "{ this is not json");
    const notSqlite = join(dir, "broken.db");
    writeFileSync(notSqlite, "SQLite format 3\u0000 and then nothing");

    const runs = [
      await cli(["import"], env),
      await cli(["import", good, "--bogus"], env),
      await cli(["export", "x.txt"], env),
      await cli(["frobnicate"], env),
      await cli(["import", join(dir, "missing.db")], env),
      await cli(["import", bad], env),
      await cli(["import", notData], env),
      await cli(["import", notSqlite], env),
      await cli(["import", good], env),
      await cli(["import", good], env), // refused: data already there
      await cli(["versions"], env),
      await cli(["doctor"], env),
    ];

    expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2, 1, 1, 1, 1, 0, 1, 0, 0]);
    const english = runs.flatMap((r) => englishIn(`${r.out}\n${r.err}`));
    expect(english).toEqual([]);
    const refused = runs[9];
    expect(refused?.err).toContain("les données contiennent déjà 2 rapatriements");
    expect(runs[5]?.err).toContain("doit être un nombre supérieur à 0");
    expect(runs[5]?.err).toContain("champ inconnu");
  });
});
