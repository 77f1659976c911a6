/**
 * A misspelt variable name is named, not silently ignored: the functions'
 * configuration error (and so every tool that loads the configuration) says
 * "vouliez-vous dire …", after the guide's exact message; every problem can be
 * listed at once for doctor.
 */
import { describe, expect, test } from "vitest";
import { configProblems, loadConfig } from "../../lambda/config.ts";
import { nearMisses } from "../../lambda/environment.ts";
import { MissingVariableError } from "../../lambda/errors.ts";
import { createDependencies } from "../../lambda/handlers/composition-root.ts";

const PATH = "s3://interflow-rappatriements/rappatriements/rappatriements.json";

function thrown(env: Record<string, string>): Error {
  try {
    loadConfig(env, {});
  } catch (error) {
    return error as Error;
  }
  throw new Error("loadConfig did not throw");
}

describe("a misspelt variable", () => {
  test.each([
    ["S3_RAPATRIMENT_FILE_PATH", "S3_RAPPATRIMENT_FILE_PATH"],
    ["S3_RAPATRIEMENT_FILE_PATH", "S3_RAPPATRIMENT_FILE_PATH"],
    ["S3_RAPATRIEMENTS_FILE_PATH", "S3_RAPPATRIMENT_FILE_PATH"],
    ["aws_region", "AWS_REGION"],
  ])("%s: the guide's message, then 'vouliez-vous dire %s ?'", (given, meant) => {
    const env: Record<string, string> = {
      AWS_REGION: "eu-west-1",
      S3_RAPPATRIMENT_FILE_PATH: PATH,
    };
    delete env[meant];
    env[given] = meant === "AWS_REGION" ? "eu-west-1" : PATH;
    const error = thrown(env);
    expect(error).toBeInstanceOf(MissingVariableError);
    expect(String(error)).toBe(
      `ValueError: ${meant} est obligatoire — ${given} est définie : vouliez-vous dire ${meant} ?`,
    );
  });

  test("the relative form's S3_BUCKET_NAME too", () => {
    const error = thrown({
      AWS_REGION: "eu-west-1",
      S3_RAPPATRIMENT_FILE_PATH: "rappatriements/rappatriements.json",
      S3_BUCKET_NAMES: "interflow-rappatriements",
    });
    expect(error.message).toBe(
      "S3_BUCKET_NAME est obligatoire — S3_BUCKET_NAMES est définie : vouliez-vous dire S3_BUCKET_NAME ?",
    );
  });

  test("unrelated or legitimate names are not near misses", () => {
    expect(
      nearMisses({
        AWS_ENDPOINT_URL: "http://127.0.0.1:4566",
        AWS_DEFAULT_REGION: "eu-west-1",
        S3_BUCKET: "x",
        PATH: "/usr/bin",
        AWS_REGION: "eu-west-1",
      }),
    ).toEqual([]);
    expect(nearMisses({ STORAGE_STRATEGIE: "json" })).toEqual([
      { given: "STORAGE_STRATEGIE", meant: "STORAGE_STRATEGY" },
    ]);
  });

  test("the functions' configuration error names it (it is what their log line carries)", async () => {
    await expect(
      createDependencies({ AWS_REGION: "eu-west-1", S3_RAPATRIMENT_FILE_PATH: PATH }),
    ).rejects.toThrow("vouliez-vous dire S3_RAPPATRIMENT_FILE_PATH ?");
  });
});

describe("every problem at once", () => {
  test("both required variables missing and a bad strategy: three problems, in the guide's order", () => {
    expect(configProblems({ STORAGE_STRATEGY: "xml" }, {}).map(String)).toEqual([
      "ValueError: AWS_REGION est obligatoire",
      "ValueError: S3_RAPPATRIMENT_FILE_PATH est obligatoire",
      'ValueError: STORAGE_STRATEGY doit valoir "sqlite" ou "json" (reçu : "xml")',
    ]);
    expect(String(thrown({ STORAGE_STRATEGY: "xml" }))).toBe(
      "ValueError: AWS_REGION est obligatoire",
    );
  });

  test("a good configuration has none", () => {
    expect(
      configProblems({ AWS_REGION: "eu-west-1", S3_RAPPATRIMENT_FILE_PATH: PATH }, {}),
    ).toEqual([]);
  });
});
