/**
 * doctor's configuration check as an operator with a mistake meets it: every
 * problem at once, each with the fix that fits it — a misspelt name to
 * rename, a missing variable to define, a bad value to correct — and the
 * misspelt name of an optional variable, which would otherwise be ignored.
 */
// @ts-nocheck

import { describe, expect, test } from "vitest";
import { actAsOperator, checkNamed, checksOf, cli, operatorEnv } from "../support/cli-run.ts";
import { createBucket, localS3Client, uniqueBucketName } from "../support/local-s3.ts";

const KEY = "rappatriements/rappatriements.json";

actAsOperator();

describe("doctor's configuration check", () => {
  test("S3_RAPATRIMENT_FILE_PATH: the guide's message, 'vouliez-vous dire', and the rename", async () => {
    const bucket = uniqueBucketName();
    const result = await cli(
      ["doctor"],
      operatorEnv(bucket, KEY, {
        S3_RAPPATRIMENT_FILE_PATH: undefined,
        S3_RAPATRIMENT_FILE_PATH: `s3://${bucket}/${KEY}`,
      }),
    );
    expect(result.code).toBe(1);
    const checks = checksOf(result.outLines);
    expect(checks).toEqual([
      {
        level: "fail",
        ok: false,
        name: "configuration",
        detail:
          "ValueError: S3_RAPPATRIMENT_FILE_PATH est obligatoire — S3_RAPATRIMENT_FILE_PATH est définie : vouliez-vous dire S3_RAPPATRIMENT_FILE_PATH ?",
        fix: "Renommez S3_RAPATRIMENT_FILE_PATH en S3_RAPPATRIMENT_FILE_PATH (dans l'environnement ou dans le fichier .env à la racine du projet).",
      },
    ]);
  });

  test("every missing or invalid variable at once, each with its own fix", async () => {
    const result = await cli(
      ["doctor"],
      operatorEnv(uniqueBucketName(), KEY, {
        AWS_REGION: undefined,
        S3_RAPPATRIMENT_FILE_PATH: "s3://Mon_Bucket/rappatriements.json",
        STORAGE_STRATEGY: "xml",
      }),
    );
    expect(result.code).toBe(1);
    const checks = checksOf(result.outLines);
    expect(checks.map((c) => c.detail)).toEqual([
      "ValueError: AWS_REGION est obligatoire",
      expect.stringContaining('S3_RAPPATRIMENT_FILE_PATH : nom de bucket invalide "Mon_Bucket"'),
      expect.stringContaining('STORAGE_STRATEGY doit valoir "sqlite" ou "json" (reçu : "xml")'),
    ]);
    expect(checks[0]?.fix).toContain("Définissez AWS_REGION");
    // An invalid value is not a missing variable: the fix says to correct it.
    expect(checks[1]?.fix).toContain("Corrigez la valeur");
    expect(checks[2]?.fix).toContain("Corrigez la valeur");
    expect(result.outLines.at(-1)).toContain("3 vérifications en échec sur 3");
  });

  test("a misspelt optional variable is a warning; the rest of doctor runs", async () => {
    const bucket = await createBucket(localS3Client());
    const result = await cli(["doctor"], operatorEnv(bucket, KEY, { STORAGE_STRATEGIE: "sqlite" }));
    const checks = checksOf(result.outLines);
    const [misspelt, loaded] = checks;
    expect(misspelt).toMatchObject({
      level: "warn",
      name: "configuration",
      detail: "STORAGE_STRATEGIE est définie mais ignorée : vouliez-vous dire STORAGE_STRATEGY ?",
    });
    expect(loaded).toMatchObject({ level: "ok", name: "configuration" });
    expect(checkNamed(checks, "données").level).toBe("ok");
  });
});
