/**
 * The audit option (context `audit=true`), asserted on the synthesized
 * templates: a CloudTrail trail of data events only — every read and write
 * of the data key, every invocation of each function — delivered to a
 * private, TLS-only, versioned, retained bucket that only this trail may
 * write, and to a log group kept as long; nothing of it by default.
 */
import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import { stackProps } from "../../infra/app.ts";
import { ONLY_THIS_TRAIL_SID } from "../../infra/audit.ts";
import { type Json, resourcesOfType, synthesize } from "../support/synth.ts";

function only(template: Json, type: string, prefix = ""): [string, Json] {
  const found = resourcesOfType(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found, `${type} ${prefix}`).toHaveLength(1);
  return found[0] as [string, Json];
}

function statementsOf(document: Json): Json[] {
  return [document?.Statement ?? []].flat();
}

const arnOf = (id: string) => ({ "Fn::GetAtt": [id, "Arn"] });

describe("by default", () => {
  test("no trail, no audit bucket, no audit output", () => {
    const { template } = synthesize();
    expect(resourcesOfType(template, "AWS::CloudTrail::Trail")).toEqual([]);
    expect(resourcesOfType(template, "AWS::S3::Bucket").map(([id]) => id)).toEqual([
      expect.stringMatching(/^DataBucket/),
    ]);
    expect(template.Outputs.AuditLogGroupName).toBeUndefined();
  });
});

describe("audit=true", () => {
  const { template, nag, warnings, functionsByModule } = synthesize({ audit: "true" });
  const [, trail] = only(template, "AWS::CloudTrail::Trail");
  const [bucketId, bucket] = only(template, "AWS::S3::Bucket", "AuditBucket");
  const [groupId, group] = only(template, "AWS::Logs::LogGroup", "AuditLogs");

  test("data events only: every read and write of the data key, every invocation of each function", () => {
    const [dataBucketId] = only(template, "AWS::S3::Bucket", "DataBucket");
    const functions = [...functionsByModule.values()];
    expect(functions).toHaveLength(resourcesOfType(template, "AWS::Lambda::Function").length);
    expect(trail.Properties.EventSelectors).toEqual([
      {
        DataResources: [
          {
            Type: "AWS::S3::Object",
            Values: [
              { "Fn::Join": ["", [arnOf(dataBucketId), "/rapatriements/rapatriements.db"]] },
            ],
          },
        ],
        IncludeManagementEvents: false,
        ReadWriteType: "All",
      },
      {
        DataResources: [
          {
            Type: "AWS::Lambda::Function",
            Values: expect.arrayContaining(functions.map(arnOf)) as unknown,
          },
        ],
        IncludeManagementEvents: false,
      },
    ]);
    expect(trail.Properties.EventSelectors[1].DataResources[0].Values).toHaveLength(
      functions.length,
    );
  });

  test("one region, its file integrity validated, delivered to its bucket and its log group", () => {
    const [roleId] = only(template, "AWS::IAM::Role", "AuditTrailLogsRole");
    expect(trail.Properties).toMatchObject({
      TrailName: "RapatriementsStack-audit",
      IsLogging: true,
      IsMultiRegionTrail: false,
      IncludeGlobalServiceEvents: false,
      EnableLogFileValidation: true,
      S3BucketName: { Ref: bucketId },
      CloudWatchLogsLogGroupArn: arnOf(groupId),
      CloudWatchLogsRoleArn: arnOf(roleId),
    });
    expect(template.Outputs.AuditLogGroupName.Value).toEqual({ Ref: groupId });
    expect(template.Outputs.AuditBucketName.Value).toEqual({ Ref: bucketId });
  });

  test("its bucket: encrypted, versioned, private, kept when the stack is deleted, files kept a year", () => {
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
        ],
      },
      VersioningConfiguration: { Status: "Enabled" },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: "audit-retention",
            Status: "Enabled",
            ExpirationInDays: 365,
            NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          },
          {
            Id: "audit-expired-delete-markers",
            Status: "Enabled",
            ExpiredObjectDeleteMarker: true,
          },
        ],
      },
    });
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(group.Properties.RetentionInDays).toBe(365);
    expect(group.DeletionPolicy).toBe("Retain");
  });

  test("its bucket refuses plain HTTP, and deliveries from any trail but this one", () => {
    const [, policy] = only(template, "AWS::S3::BucketPolicy", "AuditBucketPolicy");
    const statements = statementsOf(policy.Properties.PolicyDocument);
    const bucketArn = arnOf(bucketId);
    const objects = { "Fn::Join": ["", [bucketArn, "/*"]] };
    expect(statements).toContainEqual({
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
      Effect: "Deny",
      Principal: { AWS: "*" },
      Resource: [bucketArn, objects],
    });
    expect(statements).toContainEqual({
      Sid: ONLY_THIS_TRAIL_SID,
      Action: ["s3:PutObject", "s3:GetBucketAcl"],
      Condition: {
        ArnNotEquals: {
          "aws:SourceArn": {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":cloudtrail:",
                { Ref: "AWS::Region" },
                ":",
                { Ref: "AWS::AccountId" },
                ":trail/RapatriementsStack-audit",
              ],
            ],
          },
        },
      },
      Effect: "Deny",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Resource: [bucketArn, objects],
    });
    // Only CloudTrail is let in.
    for (const allow of statements.filter((s) => s.Effect === "Allow")) {
      expect(allow.Principal).toEqual({ Service: "cloudtrail.amazonaws.com" });
    }
  });

  test("the trail may write to its log group and nothing else", () => {
    const [roleId] = only(template, "AWS::IAM::Role", "AuditTrailLogsRole");
    const policies = resourcesOfType(template, "AWS::IAM::Policy").filter(([, p]) =>
      p.Properties.Roles.some((r: Json) => r.Ref === roleId),
    );
    expect(policies.flatMap(([, p]) => statementsOf(p.Properties.PolicyDocument))).toEqual([
      {
        Action: ["logs:PutLogEvents", "logs:CreateLogStream"],
        Effect: "Allow",
        Resource: arnOf(groupId),
      },
    ]);
  });

  test("cdk-nag's AwsSolutions checks pass, each acknowledgment with its reason; no synth warning", () => {
    expect(nag.violations).toEqual([]);
    expect(nag.success).toBe(true);
    // Only the note that no alarm destination was given (no alarmEmail here).
    expect(warnings).toEqual([expect.stringMatching(/^No alarm destination: /)]);
  });
});

describe("audit=true on an adopted bucket, logs kept two years", () => {
  const { template, nag } = synthesize({
    audit: "true",
    existingBucketName: "interflow-rappatriements",
    dataKey: "rappatriements/rappatriements.json",
    logRetentionDays: "731",
  });

  test("the trail records the adopted bucket's data key; its files and events are kept 731 days", () => {
    const [, trail] = only(template, "AWS::CloudTrail::Trail");
    expect(trail.Properties.EventSelectors[0].DataResources).toEqual([
      {
        Type: "AWS::S3::Object",
        Values: [
          {
            "Fn::Join": [
              "",
              [
                "arn:",
                { Ref: "AWS::Partition" },
                ":s3:::interflow-rappatriements/rappatriements/rappatriements.json",
              ],
            ],
          },
        ],
      },
    ]);
    const [, bucket] = only(template, "AWS::S3::Bucket", "AuditBucket");
    expect(bucket.Properties.LifecycleConfiguration.Rules[0].ExpirationInDays).toBe(731);
    const [, group] = only(template, "AWS::Logs::LogGroup", "AuditLogs");
    expect(group.Properties.RetentionInDays).toBe(731);
    expect(nag.success).toBe(true);
  });
});

describe("audit context check", () => {
  test.each([
    [{}, false],
    [{ audit: "false" }, false],
    [{ audit: "true" }, true],
  ])("%j: audit %s", (context, audit) => {
    expect(stackProps(new App({ context })).audit).toBe(audit);
  });

  test("anything but true or false is refused at synth, saying what it does", () => {
    expect(() => stackProps(new App({ context: { audit: "yes" } }))).toThrow(
      "context audit must be true (a CloudTrail trail of the data object's reads and writes and of the functions' invocations) or false, the default (got \"yes\")",
    );
  });
});
