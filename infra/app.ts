/**
 * Infrastructure: the CDK app. Parameters come from CDK context (cdk.json, or
 * `-c name=value` on the command line); see the README's "Deploy" section.
 */
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { STORAGE_STRATEGIES, type StorageStrategy } from "../lambda/config.ts";
import { parseAllowedOrigins } from "./cors.ts";
import { RapatriementsStack, type RapatriementsStackProps } from "./rapatriements-stack.ts";

export function stackProps(app: App): RapatriementsStackProps {
  const text = (name: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(name);
    if (value === undefined || value === null || value === "") return undefined;
    return String(value);
  };
  const number = (name: string, fallback: number): number => {
    const value = text(name);
    const parsed = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) {
      throw new Error(`context ${name} must be a positive number (got "${value}")`);
    }
    return parsed;
  };
  const strategy = text("storageStrategy") ?? "sqlite";
  if (!STORAGE_STRATEGIES.includes(strategy as StorageStrategy)) {
    throw new Error(`context storageStrategy must be sqlite or json (got "${strategy}")`);
  }
  const issuer = text("jwtIssuer");
  const audience = text("jwtAudience");
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new Error("context jwtIssuer and jwtAudience go together: give both, or neither for IAM");
  }
  const props: RapatriementsStackProps = {
    storageStrategy: strategy as StorageStrategy,
    throttleRateLimit: number("throttleRateLimit", 50),
    throttleBurstLimit: number("throttleBurstLimit", 100),
  };
  const origins = text("allowedOrigins");
  if (origins !== undefined) props.allowedOrigins = parseAllowedOrigins(origins);
  const alarmEmail = text("alarmEmail");
  if (alarmEmail !== undefined) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
      throw new Error(`context alarmEmail must be an e-mail address (got "${alarmEmail}")`);
    }
    props.alarmEmail = alarmEmail;
  }
  const bucketName = text("bucketName");
  if (bucketName !== undefined) props.bucketName = bucketName;
  if (issuer !== undefined && audience !== undefined) {
    props.jwtIssuer = issuer;
    props.jwtAudience = audience.split(",").map((a) => a.trim());
  }
  return props;
}

export function buildApp(app: App = new App()): { app: App; stack: RapatriementsStack } {
  const stack = new RapatriementsStack(app, "RapatriementsStack", stackProps(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
