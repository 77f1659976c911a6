/**
 * The operators' CLI speaks French (issue: one language for operators). The
 * catalogue in tools/cli/french.ts is checked against every message the
 * domain's validation can give, and the CLI's real output — usage errors,
 * refused imports, bad files, storage errors, doctor — is checked to hold no
 * English sentence. The HTTP API stays in English; only the CLI is checked.
 */
// @ts-nocheck

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  ImportRefusedError,
  StorageBusyError,
  StorageOutcomeUnknownError,
} from "../../lambda/errors.ts";
import { parseImportedRecord } from "../../lambda/rapatriements/validation.ts";
import { frenchError, frenchFieldMessage, inCatalogue } from "../../tools/cli/french.ts";
import { plural } from "../../tools/data/plural.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import { createBucket, localS3Client, sampleInput } from "../support/local-s3.ts";

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

function englishIn(text: string): string[] {
  return text
    .replace(QUOTED_FROM_THE_GUIDE, "")
    .split("\n")
    .filter((line) =>
      ENGLISH.test(line.replace(/`[^`]*`|"[^"]*"|s3:\/\/\S+|--\S+|\S+\.(db|json|csv)\b/g, "")),
    );
}

/** Bad records, one per rule of the validation, and the messages they give. */
function everyValidationMessage(): string[] {
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
  const messages = new Set<string>();
  bad.forEach((raw, index) => {
    try {
      parseImportedRecord(raw, index);
    } catch (error) {
      for (const e of (error as { errors?: { message: string }[] }).errors ?? []) {
        messages.add(e.message);
      }
    }
  });
  return [...messages];
}

describe("the French catalogue", () => {
  test("has every message the validation gives, and none of its French is English", () => {
    const messages = everyValidationMessage();
    expect(messages.length).toBeGreaterThanOrEqual(15);
    const missing = messages.filter((message) => !inCatalogue(message));
    expect(missing).toEqual([]);
    const french = messages.map(frenchFieldMessage);
    expect(french.filter((line) => ENGLISH.test(line))).toEqual([]);
    expect(frenchFieldMessage("must be at most 2000 characters")).toBe(
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
