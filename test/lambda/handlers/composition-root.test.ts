/**
 * What a container builds from its configuration, against the real local S3
 * server (the data object fetched while sql.js compiles, measured for the
 * metrics), and what every storage call of an invocation carries: the
 * Lambda's deadline and when API Gateway received the request.
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  containerDefaults,
  createDependencies,
} from "../../../lambda/handlers/composition-root.ts";
import { transactionOptions } from "../../../lambda/handlers/storage-options.ts";
import { emptyReport } from "../../../lambda/storage/transaction-options.ts";
import {
  getBytes,
  localEndpoint,
  localS3Client,
  newEngine,
  newTarget,
  REGION,
  sampleInput,
  type Target,
} from "../../support/local-s3.ts";

function environment(target: Target): Record<string, string> {
  return {
    AWS_REGION: REGION,
    S3_RAPPATRIMENT_FILE_PATH: `s3://${target.bucket}/${target.key}`,
    STORAGE_STRATEGY: target.strategy,
    AWS_ENDPOINT_URL_S3: localEndpoint(),
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
}

describe("a container's dependencies, from its configuration", () => {
  test.each([false, true])(
    "prefetch %s: the object another container wrote is read, and measured for the metrics",
    async (prefetch) => {
      const target = await newTarget("sqlite");
      const writer = await newEngine(target);
      for (const n of [1, 2]) await writer.service.create(sampleInput(n));

      const { service, gauge } = await createDependencies(environment(target), { prefetch });

      expect((await service.listAll()).map((r) => r.reference).sort()).toEqual(["RAP-1", "RAP-2"]);
      expect(gauge).toEqual({ objectBytes: (await getBytes(target)).byteLength, recordCount: 2 });
    },
  );
});

describe("the encryption a container's writes ask for", () => {
  test.each([
    ["S3_SSE_KMS_KEY_ID unset: AES-256, the guide's promise", undefined, ["AES256", undefined]],
    [
      "S3_SSE_KMS_KEY_ID set (as the stack sets it with a KMS key): SSE-KMS with that key",
      "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      ["aws:kms", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    ],
  ])("%s", async (_label, key, expected) => {
    const target = await newTarget("sqlite");
    const env =
      key === undefined ? environment(target) : { ...environment(target), S3_SSE_KMS_KEY_ID: key };
    const { service } = await createDependencies(env);
    await service.create(sampleInput(1));

    const head = await localS3Client().send(
      new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }),
    );
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(expected);
  });
});

describe("the container's own dependencies", () => {
  afterEach(() => vi.unstubAllEnvs());

  test("a configuration error is answered, not kept: once fixed, the next invocation builds, then every one shares it", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    vi.stubEnv("AWS_REGION", "");
    vi.stubEnv("S3_RAPPATRIMENT_FILE_PATH", "");
    // In Lambda the build starts at import (the init phase); its failure is not kept.
    const deps = containerDefaults({ AWS_LAMBDA_FUNCTION_NAME: "rapatriements-http" });
    await expect(deps.dependencies()).rejects.toThrow(/est obligatoire/);

    for (const [name, value] of Object.entries(environment(target))) vi.stubEnv(name, value);
    const first = await deps.dependencies();
    expect((await first.service.listAll()).map((r) => r.reference)).toEqual(["RAP-1"]);
    expect(await deps.dependencies()).toBe(first);
    // Another handler of the same container shares them too (one cached object).
    expect(await containerDefaults({}).dependencies()).toBe(first);
  });

  test("the log goes to standard output, one JSON line per call", () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      containerDefaults({}).log({ level: "info", route: "x" });
    } finally {
      spy.mockRestore();
    }
    expect(written).toEqual(['{"level":"info","route":"x"}\n']);
  });
});

describe("what every storage call of an invocation carries", () => {
  test("the deadline is the Lambda's remaining time from now; the report and arrival time as given", () => {
    const report = emptyReport();
    const before = Date.now();
    const options = transactionOptions({ getRemainingTimeInMillis: () => 3000 }, report, 1_700);
    const after = Date.now();

    expect(options.report).toBe(report);
    expect(options.notBefore).toBe(1_700);
    expect(options.deadline).toBeGreaterThanOrEqual(before + 3000);
    expect(options.deadline).toBeLessThanOrEqual(after + 3000);
  });

  test("no remaining time, no arrival time, no report: nothing is set, rather than a deadline already past", () => {
    expect(transactionOptions({ getRemainingTimeInMillis: () => 0 }, undefined)).toStrictEqual({});
    expect(transactionOptions({}, undefined, Number.NaN)).toStrictEqual({});
    expect(transactionOptions({}, undefined, undefined)).toStrictEqual({});
  });
});
