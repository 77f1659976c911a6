/**
 * How the stack encrypts the data object, asserted on the synthesized
 * templates: AES-256 by default (the guide's promise), with IAM or JWT; with
 * `encryption=kms` a key the stack creates and keeps, with `kmsKeyArn` the
 * team's key. Either way the bucket's default encryption, the functions'
 * S3_SSE_KMS_KEY_ID and the roles' one statement on the key agree, and the
 * guide's S3 statement is unchanged.
 */
import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import { stackProps } from "../../infra/app.ts";
import { type Json, resourcesOfType, synthesize } from "../support/synth.ts";

const KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUCKET_ARN = { "Fn::GetAtt": [expect.stringMatching(/^DataBucket/), "Arn"] };
const GUIDE_STATEMENT = {
  Effect: "Allow",
  Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
  Resource: [BUCKET_ARN, { "Fn::Join": ["", [BUCKET_ARN, "/*"]] }],
};
/** The functions' one statement on the data key, for `key` (its ARN as the template writes it). */
const keyStatement = (key: Json) => ({
  Sid: "DataKeyThroughS3Only",
  Effect: "Allow",
  Action: ["kms:Decrypt", "kms:GenerateDataKey"],
  Resource: key,
  Condition: {
    StringEquals: {
      "kms:ViaService": { "Fn::Join": ["", ["s3.", { Ref: "AWS::Region" }, ".amazonaws.com"]] },
    },
  },
});

function statementsOf(document: Json): Json[] {
  return [document?.Statement ?? []].flat();
}

function dataPolicyStatements(template: Json): Json[] {
  const found = resourcesOfType(template, "AWS::IAM::ManagedPolicy").filter(([id]) =>
    id.startsWith("DataAccessPolicy"),
  );
  expect(found).toHaveLength(1);
  return statementsOf(found[0]?.[1].Properties.PolicyDocument);
}

/** Every IAM statement of the template (inline and managed policies) that grants a kms: action. */
function kmsGrants(template: Json): Json[] {
  return [
    ...resourcesOfType(template, "AWS::IAM::Policy"),
    ...resourcesOfType(template, "AWS::IAM::ManagedPolicy"),
  ].flatMap(([, policy]) =>
    statementsOf(policy.Properties.PolicyDocument).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith("kms:")),
    ),
  );
}

function bucketEncryption(template: Json): Json {
  const [[, bucket] = ["", {}]] = resourcesOfType(template, "AWS::S3::Bucket").filter(([id]) =>
    id.startsWith("DataBucket"),
  );
  return bucket.Properties.BucketEncryption;
}

function functionVariables(template: Json): Json[] {
  const functions = resourcesOfType(template, "AWS::Lambda::Function");
  expect(functions.length).toBeGreaterThanOrEqual(2);
  return functions.map(([, fn]) => fn.Properties.Environment.Variables);
}

describe.each([
  ["IAM", {}],
  ["JWT", { jwtIssuer: "https://login.example.org/tenant", jwtAudience: "rapatriements-api" }],
])("by default (%s): AES-256, as the guide promises", (_mode, context) => {
  const { template, nag } = synthesize(context);

  test("the bucket encrypts with AES-256 and no KMS key exists", () => {
    expect(bucketEncryption(template)).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
      ],
    });
    expect(resourcesOfType(template, "AWS::KMS::Key")).toEqual([]);
    expect(template.Outputs.DataKeyArn).toBeUndefined();
  });

  test("the functions name no key (their writes ask for AES256), and no role may use one", () => {
    for (const variables of functionVariables(template)) {
      expect(variables.S3_SSE_KMS_KEY_ID).toBeUndefined();
    }
    expect(dataPolicyStatements(template)).toEqual([GUIDE_STATEMENT]);
    expect(kmsGrants(template)).toEqual([]);
    expect(nag.success).toBe(true);
  });
});

describe("encryption=kms: a key the stack creates", () => {
  const { template, nag, warnings } = synthesize({ encryption: "kms" });
  const [[keyId, key] = ["", {}]] = resourcesOfType(template, "AWS::KMS::Key");
  const KEY = { "Fn::GetAtt": [keyId, "Arn"] };

  test("one key, rotated every year, kept when the stack is deleted (the kept bucket needs it)", () => {
    expect(resourcesOfType(template, "AWS::KMS::Key")).toHaveLength(1);
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(key.DeletionPolicy).toBe("Retain");
    expect(key.UpdateReplacePolicy).toBe("Retain");
    // The key policy leaves its use to IAM in the account, so the roles' statement takes effect.
    expect(statementsOf(key.Properties.KeyPolicy)).toEqual([
      {
        Action: "kms:*",
        Effect: "Allow",
        Principal: {
          AWS: {
            "Fn::Join": [
              "",
              ["arn:", { Ref: "AWS::Partition" }, ":iam::", { Ref: "AWS::AccountId" }, ":root"],
            ],
          },
        },
        Resource: "*",
      },
    ]);
    expect(template.Outputs.DataKeyArn.Value).toEqual(KEY);
  });

  test("the bucket's default encryption is that key, with S3 Bucket Keys", () => {
    expect(bucketEncryption(template)).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY },
        },
      ],
    });
  });

  test("every function's writes ask for that key", () => {
    for (const variables of functionVariables(template)) {
      expect(variables.S3_SSE_KMS_KEY_ID).toEqual(KEY);
    }
  });

  test("the roles may use the key for S3 only: kms:GenerateDataKey and kms:Decrypt, beside the guide's unchanged statement", () => {
    expect(dataPolicyStatements(template)).toEqual([GUIDE_STATEMENT, keyStatement(KEY)]);
    expect(kmsGrants(template)).toEqual([keyStatement(KEY)]);
  });

  test("cdk-nag's AwsSolutions checks pass; no synth warning", () => {
    expect(nag.violations).toEqual([]);
    expect(nag.success).toBe(true);
    // Only the note that no alarm destination was given (no alarmEmail here).
    expect(warnings).toEqual([expect.stringMatching(/^No alarm destination: /)]);
  });
});

describe("kmsKeyArn: the team's own key", () => {
  const { template, nag } = synthesize({ kmsKeyArn: KEY_ARN });

  test("no key is created; the bucket, the functions and the roles name that key", () => {
    expect(resourcesOfType(template, "AWS::KMS::Key")).toEqual([]);
    expect(bucketEncryption(template)).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: KEY_ARN },
        },
      ],
    });
    for (const variables of functionVariables(template)) {
      expect(variables.S3_SSE_KMS_KEY_ID).toBe(KEY_ARN);
    }
    expect(dataPolicyStatements(template)).toEqual([GUIDE_STATEMENT, keyStatement(KEY_ARN)]);
    expect(kmsGrants(template)).toEqual([keyStatement(KEY_ARN)]);
    expect(template.Outputs.DataKeyArn.Value).toBe(KEY_ARN);
    expect(nag.success).toBe(true);
  });

  test("a deployment in another region than the key's stops before anything is created, saying why", () => {
    const rules = Object.entries(template.Rules as Record<string, Json>)
      .filter(([id]) => id.startsWith("DataEncryptionKeyInStackRegion"))
      .map(([, rule]) => rule);
    expect(rules).toEqual([
      {
        Assertions: [
          {
            Assert: { "Fn::Equals": [{ Ref: "AWS::Region" }, "eu-west-1"] },
            AssertDescription: expect.stringContaining("kmsKeyArn names a key in eu-west-1"),
          },
        ],
      },
    ]);
  });

  test("with an adopted bucket, the synth note asks for that key as its default encryption", () => {
    const adopted = synthesize({
      kmsKeyArn: KEY_ARN,
      existingBucketName: "interflow-rappatriements",
    });
    expect(adopted.warnings).toEqual([
      expect.stringContaining(`default encryption (aws:kms with the key ${KEY_ARN});`),
      expect.stringMatching(/^No alarm destination: /),
    ]);
    expect(dataPolicyStatements(adopted.template)[1]).toEqual(keyStatement(KEY_ARN));
    expect(adopted.nag.success).toBe(true);
  });
});

describe("encryption context checks", () => {
  const props = (context: Record<string, string>) => stackProps(new App({ context }));

  test("unset: AES-256; kms alone: a created key; a key ARN alone: that key", () => {
    expect(props({}).dataEncryption).toEqual({ kind: "aes256" });
    expect(props({ encryption: "aes256" }).dataEncryption).toEqual({ kind: "aes256" });
    expect(props({ encryption: "kms" }).dataEncryption).toEqual({ kind: "kms" });
    expect(props({ kmsKeyArn: KEY_ARN }).dataEncryption).toEqual({ kind: "kms", keyArn: KEY_ARN });
    expect(props({ encryption: "kms", kmsKeyArn: KEY_ARN }).dataEncryption).toEqual({
      kind: "kms",
      keyArn: KEY_ARN,
    });
  });

  test.each([
    [
      { encryption: "SSE-KMS" },
      'context encryption must be aes256 (SSE-S3, the default) or kms (got "SSE-KMS")',
    ],
    [
      { encryption: "aes256", kmsKeyArn: KEY_ARN },
      "context kmsKeyArn names a KMS key but encryption is aes256: drop encryption (the key implies kms), or drop kmsKeyArn",
    ],
    [
      { kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/rapatriements" },
      'context kmsKeyArn must be the ARN of a KMS key, arn:aws:kms:<region>:<account>:key/<key id> — not an alias, which could later name another key (got "arn:aws:kms:eu-west-1:123456789012:alias/rapatriements")',
    ],
    [
      { kmsKeyArn: "1234abcd-12ab-34cd-56ef-1234567890ab" },
      "context kmsKeyArn must be the ARN of a KMS key",
    ],
  ])("%j is refused at synth, saying why", (context, why) => {
    expect(() => props(context)).toThrow(why);
  });
});
