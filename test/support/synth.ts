/**
 * Test support: the stack synthesized as `npm run synth` does (bundles
 * included), into a temporary folder, with cdk-nag's AwsSolutions checks run.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { buildApp } from "../../infra/app.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are read field by field
export type Json = any;

export interface Synthesized {
  outdir: string;
  template: Json;
  /** The warnings the CDK CLI prints at synth, as the team deploying reads them. */
  warnings: string[];
  /** The cdk-nag report over the whole app. */
  nag: ReturnType<AwsSolutionsChecks["validateScope"]>;
  /** Logical ids of the Lambda functions, by the handler module they bundle. */
  functionsByModule: Map<string, string>;
  /** The folder holding a function's bundle. */
  assetDir(logicalId: string): string;
}

/**
 * cdk.json's context, which the CDK CLI hands to the app under what `-c`
 * gives: its defaults and the feature flags, so the tests see the template
 * that `npm run synth` and `cdk deploy` make.
 */
const PROJECT_CONTEXT = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, "cdk.json"), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

export function synthesize(context: Record<string, string> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "rapatriements-cdk-"));
  const { app, stack } = buildApp(new App({ outdir, context: { ...PROJECT_CONTEXT, ...context } }));
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  const template = artifact.template;
  const warnings = artifact.messages
    .filter((m) => m.level === "warning")
    .map((m) => String(m.entry.data));
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  const functionsByModule = new Map<string, string>();
  for (const fn of stack.functions) {
    functionsByModule.set(fn.module, stack.getLogicalId(fn.node.defaultChild as CfnElement));
  }
  return {
    outdir,
    template,
    warnings,
    nag,
    functionsByModule,
    assetDir(logicalId) {
      const key = String(template.Resources[logicalId].Properties.Code.S3Key);
      return join(outdir, `asset.${key.replace(/\.zip$/, "")}`);
    },
  };
}

/** The template's resources of one type, as [logical id, resource]. */
export function resourcesOfType(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources as Record<string, Json>).filter(
    ([, resource]) => resource.Type === type,
  );
}

/**
 * A piece of the template with the data bucket's ARN written in, as
 * CloudFormation would resolve it: `Fn::GetAtt` (the bucket's Arn) becomes
 * `arn:aws:s3:::<bucket>`, `Fn::Join` is joined.
 */
export function withBucket(value: Json, bucket: string): Json {
  if (Array.isArray(value)) return value.map((v) => withBucket(v, bucket));
  if (value !== null && typeof value === "object") {
    if ("Fn::GetAtt" in value) return `arn:aws:s3:::${bucket}`;
    if ("Fn::Join" in value) {
      return value["Fn::Join"][1]
        .map((v: Json) => withBucket(v, bucket))
        .join(value["Fn::Join"][0]);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBucket(v, bucket)]));
  }
  return value;
}
