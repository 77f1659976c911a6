/**
 * What an S3 failure of a PUT means for the caller, as S3's answers come:
 * busy when S3 certainly stored nothing, outcome unknown when it may have,
 * and the operator's message for the failures a person must fix. Each answer
 * is one a real S3 gives and the local server cannot be made to give, so it
 * is injected at the client; the reads go to the local server. Last, how a
 * delete marker reaches the engine: the header S3 sends, and where the SDK
 * keeps it.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { isDeleteMarker } from "../../../lambda/storage/s3-errors.ts";
import { emptyReport } from "../../../lambda/storage/transaction-options.ts";
import {
  faultyClient,
  lostResponse,
  s3Error,
  withDeleteMarkerHeader,
} from "../../support/faults.ts";
import {
  callsOf,
  etagOf,
  localS3Client,
  newEngine,
  newTarget,
  newVersionedTarget,
  sampleInput,
} from "../../support/local-s3.ts";

/** A PUT that keeps failing with `error`: what does a create answer, and is the object untouched? */
async function createAgainst(error: Error) {
  const target = await newTarget("sqlite");
  await (await newEngine(target)).service.create(sampleInput(0));
  const etag = await etagOf(target);
  const faulty = faultyClient();
  faulty.mock.on(PutObjectCommand).rejects(error);
  const { service } = await newEngine(target, {
    s3: faulty.client,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  let cause: unknown;
  const answer = await service.create(sampleInput(1)).then(
    () => ({ code: "OK", message: "" }),
    (failure: { code?: string; message: string; cause?: unknown }) => {
      cause = failure.cause;
      return { code: failure.code, message: failure.message };
    },
  );
  expect(await etagOf(target)).toBe(etag);
  return { answer, target, cause };
}

const retried = (error: Error) =>
  Object.assign(error, { $metadata: { httpStatusCode: 503, attempts: 3 } });

describe("a PUT that S3 keeps failing", () => {
  test.each([
    [
      "500 InternalError: it may have been stored",
      s3Error("InternalError", 500),
      "STORAGE_OUTCOME_UNKNOWN",
    ],
    [
      "502 Bad Gateway: it may have been stored",
      s3Error("BadGateway", 502),
      "STORAGE_OUTCOME_UNKNOWN",
    ],
    [
      "504 Gateway Timeout: it may have been stored",
      s3Error("GatewayTimeout", 504),
      "STORAGE_OUTCOME_UNKNOWN",
    ],
    ["no answer at all: it may have been stored", lostResponse(), "STORAGE_OUTCOME_UNKNOWN"],
    ["503 SlowDown: refused, nothing stored", s3Error("SlowDown", 503), "STORAGE_BUSY"],
    [
      "429 Too Many Requests: refused, nothing stored",
      s3Error("TooManyRequests", 429),
      "STORAGE_BUSY",
    ],
    [
      "503 after the SDK's own retries: an earlier attempt's answer is unknown",
      retried(s3Error("SlowDown", 503)),
      "STORAGE_OUTCOME_UNKNOWN",
    ],
  ])("%s", async (_label, error, code) => {
    const { answer } = await createAgainst(error);
    expect(answer.code).toBe(code);
  });
});

describe("a PUT refused for a reason a person must fix", () => {
  test.each([
    ["AuthorizationHeaderMalformed (400)", s3Error("AuthorizationHeaderMalformed", 400)],
    ["PermanentRedirect (301)", s3Error("PermanentRedirect", 301)],
    ["any 301", s3Error("MovedPermanently", 301)],
  ])("%s: the bucket is in another region; the guide's advice", async (_label, error) => {
    const { answer, target, cause } = await createAgainst(error);
    // S3's own error stays attached, for the logs.
    expect(cause).toBe(error);
    expect(answer).toEqual({
      code: "BUCKET_REGION_MISMATCH",
      message: `IllegalLocationConstraintException: le bucket ${target.bucket} n'est pas dans la région eu-west-1 (${error.name}) : vérifiez AWS_REGION et que le bucket existe dans cette région`,
    });
  });

  test.each([
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
  ])("%s: the credentials; the guide's advice", async (name) => {
    const error = s3Error(name, 403);
    const { answer, target, cause } = await createAgainst(error);
    expect(cause).toBe(error);
    expect(answer).toEqual({
      code: "CREDENTIALS_MISSING",
      message: `NoCredentialsError: identifiants AWS absents ou invalides pour écrire s3://${target.bucket}/${target.key} (région eu-west-1) (${name}) : vérifiez AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY, ~/.aws/credentials ou le rôle IAM`,
    });
  });

  test("a 403 under any other name is access denied", async () => {
    const error = s3Error("Forbidden", 403);
    const { answer, cause } = await createAgainst(error);
    expect(answer.code).toBe("STORAGE_ACCESS_DENIED");
    expect(cause).toBe(error);
  });

  test.each([
    [
      "AccessDenied naming kms:GenerateDataKey (the role may not use the key)",
      s3Error(
        "AccessDenied",
        403,
        "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based policy allows the kms:GenerateDataKey action",
      ),
      "kms:GenerateDataKey",
    ],
    [
      "KMS.DisabledException (the key is disabled)",
      s3Error("KMS.DisabledException", 400),
      "KMS.DisabledException",
    ],
  ])(
    "%s: the key's permissions and state, not the guide's four S3 actions",
    async (_label, error, named) => {
      const { answer, target, cause } = await createAgainst(error);
      expect(cause).toBe(error);
      expect(answer).toEqual({
        code: "STORAGE_ACCESS_DENIED",
        message: `${error.name}: clé KMS refusée pour écrire s3://${target.bucket}/${target.key} (région eu-west-1) (${named}) : vérifiez que l'utilisateur ou le rôle AWS a kms:GenerateDataKey et kms:Decrypt sur la clé (S3_SSE_KMS_KEY_ID, ou celle qui a chiffré l'objet) et qu'elle est activée`,
      });
    },
  );

  test("any other refusal is passed on as it is, not dressed as one of those", async () => {
    const { answer } = await createAgainst(s3Error("InvalidArgument", 400, "bad header"));
    expect(answer).toEqual({ code: undefined, message: "bad header" });
  });
});

describe("a read that S3 refuses while the engine holds a copy in memory", () => {
  test.each([
    [
      "403 AccessDenied (the policy changed)",
      s3Error("AccessDenied", 403),
      "STORAGE_ACCESS_DENIED",
    ],
    [
      "403 AccessDenied naming kms:Decrypt (the object's key is not the role's)",
      s3Error(
        "AccessDenied",
        403,
        "User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      ),
      "STORAGE_ACCESS_DENIED",
    ],
    ["500 InternalError", s3Error("InternalError", 500), "STORAGE_BUSY"],
  ])(
    "%s: answered as an error, never from the copy, which may be stale",
    async (_label, error, code) => {
      const target = await newTarget("sqlite");
      const faulty = faultyClient();
      const { service } = await newEngine(target, { s3: faulty.client });
      const created = await service.create(sampleInput(0));
      // The copy in memory is current: the next read is a conditional GET (304).
      expect((await service.get(created.id)).id).toBe(created.id);

      faulty.mock.on(GetObjectCommand).rejects(error);
      await expect(service.get(created.id)).rejects.toMatchObject({ code });
      await expect(service.list({})).rejects.toMatchObject({ code });
    },
  );
});

describe("a delete marker, as S3 answers it and the SDK shows it", () => {
  async function deletedKey() {
    const target = await newVersionedTarget("sqlite");
    const s3 = localS3Client();
    await (await newEngine(target)).service.create(sampleInput(0));
    await s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }));
    return { target, s3 };
  }

  const failureOf = (call: Promise<unknown>) =>
    call.then(
      () => {
        throw new Error("expected a refusal");
      },
      (error: unknown) => error as Error & { $response?: { headers: Record<string, string> } },
    );

  test("HEAD: the local server sends x-amz-delete-marker itself; the SDK keeps it on the hidden raw response only", async () => {
    const { target, s3 } = await deletedKey();
    const error = await failureOf(
      s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key })),
    );
    expect(error.name).toBe("NotFound");
    // No field of the error says it: the header is on the raw response, not enumerable.
    expect(Object.keys(error)).not.toContain("DeleteMarker");
    expect(Object.keys(error)).not.toContain("$response");
    expect(error.$response?.headers["x-amz-delete-marker"]).toBe("true");
    expect(isDeleteMarker(error)).toBe(true);
  });

  test("GET: NoSuchKey with the header S3 sends (set on the wire here) is a delete marker; without it, a key never written", async () => {
    const { target } = await deletedKey();
    const get = (key: string) =>
      withDeleteMarkerHeader(localS3Client()).send(
        new GetObjectCommand({ Bucket: target.bucket, Key: key }),
      );
    const deleted = await failureOf(get(target.key));
    expect(deleted.name).toBe("NoSuchKey");
    expect(isDeleteMarker(deleted)).toBe(true);
    const never = await failureOf(get(`${target.key}.never-written`));
    expect(never.name).toBe("NoSuchKey");
    expect(isDeleteMarker(never)).toBe(false);
    expect(isDeleteMarker(s3Error("NoSuchKey", 404))).toBe(false);
  });

  test("a write that loses a race to the deletion is refused by the look that follows, and not retried", async () => {
    const target = await newVersionedTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(0));
    const faulty = faultyClient();
    faulty.mock
      .on(PutObjectCommand)
      .rejectsOnce(s3Error("PreconditionFailed", 412))
      .callsFake((input) => faulty.real.send(new PutObjectCommand(input)));
    faulty.mock.on(HeadObjectCommand).callsFake(async (input) => {
      // Deleted while the engine pauses after its lost race.
      await faulty.real.send(new DeleteObjectCommand({ Bucket: input.Bucket, Key: input.Key }));
      return faulty.real.send(new HeadObjectCommand(input));
    });
    const report = emptyReport();
    const { service } = await newEngine(target, {
      s3: faulty.client,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(service.create(sampleInput(1), {}, { report })).rejects.toMatchObject({
      code: "DATA_OBJECT_DELETED",
    });
    expect(callsOf(report)).toEqual([
      "GetObject 200",
      "PutObject 412",
      "GetObject 200",
      "HeadObject 404",
    ]);
  });
});
