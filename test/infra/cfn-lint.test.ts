/**
 * The synthesized template as CloudFormation's own linter reads it (cfn-lint,
 * installed into the project's .venv with the local S3 server): no finding,
 * with the default context and with every optional parameter set.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { ensureVenv } from "../../tools/local-s3/local-s3.ts";
import { synthesize } from "../support/synth.ts";

const run = promisify(execFile);

/**
 * W3005 ("DependsOn already enforced by a GetAtt") flags the DependsOn that
 * CDK itself writes from each function to its role; it is CDK's choice, not
 * ours, and harmless. Every other rule applies.
 */
const IGNORED = ["W3005"];

interface Finding {
  Level: string;
  Rule: { Id: string };
  Message: string;
  Location: { Path: (string | number)[] };
}

async function cfnLint(templateFile: string): Promise<Finding[]> {
  const python = await ensureVenv();
  const cli = join(python, "..", "cfn-lint");
  try {
    await run(cli, ["--format", "json", "--ignore-checks", ...IGNORED, "--", templateFile], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return [];
  } catch (error) {
    // cfn-lint exits non-zero when it has findings, and prints them as JSON.
    const stdout = (error as { stdout?: string }).stdout ?? "";
    if (!stdout.trim().startsWith("[")) throw error;
    return JSON.parse(stdout) as Finding[];
  }
}

const summary = (findings: Finding[]) =>
  findings.map((f) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join("/")}: ${f.Message}`);

describe("cfn-lint", () => {
  test("the default stack has no error and no warning", async () => {
    const { outdir } = synthesize();
    const findings = await cfnLint(join(outdir, "RapatriementsStack.template.json"));
    expect(summary(findings)).toEqual([]);
  });

  test("with JWT, CORS origins and the alarm e-mail topic, still none", async () => {
    const { outdir } = synthesize({
      jwtIssuer: "https://login.example.org/tenant",
      jwtAudience: "rapatriements-api",
      allowedOrigins: "https://app.example.org",
      alarmEmail: "ops@example.org",
      storageStrategy: "json",
    });
    const findings = await cfnLint(join(outdir, "RapatriementsStack.template.json"));
    expect(summary(findings)).toEqual([]);
  });

  test.each([
    ["a KMS key the stack creates and the audit trail", { encryption: "kms", audit: "true" }],
    [
      "the team's KMS key, with JWT",
      {
        kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        jwtIssuer: "https://login.example.org/tenant",
        jwtAudience: "rapatriements-api",
      },
    ],
    [
      "an adopted bucket and the record-drop alarm's threshold set",
      {
        existingBucketName: "interflow-rappatriements",
        dataKey: "rappatriements/rappatriements.json",
        recordDropAlarmPercent: "80",
      },
    ],
    [
      "every option of the change events: the forwarding rule, named producers, another bus and archive",
      {
        forwardDefaultBusCommands: "true",
        commandProducers: "123456789012,arn:aws:iam::210987654321:role/wms-lyon",
        eventBusName: "rapatriements-prod",
        eventArchiveDays: "365",
        publicationLagAlarmSeconds: "300",
        encryption: "kms",
      },
    ],
  ])("with %s, still none", async (_label, context) => {
    const { outdir } = synthesize(context);
    const findings = await cfnLint(join(outdir, "RapatriementsStack.template.json"));
    expect(summary(findings)).toEqual([]);
  });
});
