/**
 * Infrastructure: the one way this product builds a Lambda function. Every
 * handler gets the same runtime (Node.js 24, arm64), the same esbuild
 * bundling (ESM, source maps, sql.js's wasm shipped beside the bundle), a log
 * group with a retention, and a role of its own that holds the documented S3
 * policy — nothing else on the bucket — or, for a function that needs less,
 * exactly its own statements, and may write only that log group.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import {
  Effect,
  type IManagedPolicy,
  PolicyDocument,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import {
  LogLevel,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { PROJECT_ROOT } from "./project-root.ts";

export interface RapatriementsFunctionProps {
  /** The module in lambda/handlers/ that exports `handler`. */
  module: string;
  description: string;
  environment: Record<string, string>;
  /**
   * What the function may do on the data: the guide's policy (GetObject,
   * PutObject, DeleteObject, ListBucket on the bucket), or — for a function
   * that needs less — exactly these statements, as an inline policy.
   */
  access: { dataPolicy: IManagedPolicy } | { statements: PolicyStatement[] };
  logRetention: RetentionDays;
  timeout?: Duration;
  /** Concurrent executions set aside for this function, and its ceiling; undefined: none (the account's pool). */
  reservedConcurrency?: number | undefined;
  /** How long Lambda keeps an asynchronous invocation (an EventBridge rule's) it could not run yet. */
  maxEventAge?: Duration;
}

/**
 * The first line of every ESM bundle: sql.js is CommonJS and asks for
 * `require` and `__dirname`, which ESM has not.
 */
export const ESM_COMMONJS_BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __pathDirname(__filename);",
].join(" ");

/** The packages' ES modules first (the SDK's, tree-shaken), CommonJS where there are none. */
export const BUNDLE_MAIN_FIELDS = ["module", "main"];

/**
 * Built-in modules the bundle takes through `require` rather than an ESM
 * import (the SDK's ES modules import them): paths from the project root.
 * Why: infra/bundling/node-http.cjs.
 */
export const BUILTIN_ALIASES: Readonly<Record<string, string>> = {
  "node:http": "./infra/bundling/node-http.cjs",
  "node:https": "./infra/bundling/node-https.cjs",
};

/** The role's inline policy that lets the function write its own log group, and no other. */
export const OWN_LOG_GROUP_POLICY = "OwnLogGroup";
/** The role's inline policy of a function given its own statements instead of the guide's policy. */
export const OWN_ACCESS_POLICY = "OwnAccess";

/** Where the bundled handler finds the wasm binary of sql.js: beside itself. */
export const SQL_WASM_FILE = "sql-wasm.wasm";

export class RapatriementsFunction extends NodejsFunction {
  /** The handler module bundled, e.g. `create-rapatriement`. */
  readonly module: string;

  constructor(scope: Construct, id: string, props: RapatriementsFunctionProps) {
    // Kept when the stack is deleted: what a function did outlives the function.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Not CDK's default role: its AWSLambdaBasicExecutionRole lets a function
    // create and write any log group of the account, so a compromised one
    // could forge another's log lines. The group exists (above), so the
    // function needs only to add streams and events to it; the group's ARN
    // ends in `:*`, which covers its streams and nothing else.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description:
        "dataPolicy" in props.access
          ? `${id}: the operator guide's data policy, and its own log group`
          : `${id}: exactly what it needs, and its own log group`,
      ...("dataPolicy" in props.access ? { managedPolicies: [props.access.dataPolicy] } : {}),
      inlinePolicies: {
        ...("statements" in props.access
          ? {
              [OWN_ACCESS_POLICY]: new PolicyDocument({ statements: props.access.statements }),
            }
          : {}),
        [OWN_LOG_GROUP_POLICY]: new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    super(scope, id, {
      entry: `${PROJECT_ROOT}/lambda/handlers/${props.module}.ts`,
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      ...(props.maxEventAge === undefined ? {} : { maxEventAge: props.maxEventAge }),
      logGroup,
      role,
      environment: {
        ...props.environment,
        NODE_OPTIONS: "--enable-source-maps",
      },
      bundling: {
        format: OutputFormat.ESM,
        target: "node24",
        mainFields: BUNDLE_MAIN_FIELDS,
        minify: true,
        logLevel: LogLevel.WARNING,
        sourceMap: true,
        sourceMapMode: SourceMapMode.EXTERNAL,
        // The SDK is bundled rather than taken from the runtime: conditional
        // writes (If-Match on PutObject) need a recent one, and a pinned
        // version behaves the same in Lambda as in the tests.
        externalModules: [],
        banner: ESM_COMMONJS_BANNER,
        // esbuild resolves an alias from its working directory, the project root.
        esbuildArgs: {
          "--alias": Object.entries(BUILTIN_ALIASES).map(([from, to]) => `${from}=${to}`),
        },
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => [
            `cp "${inputDir}/node_modules/sql.js/dist/sql-wasm.wasm" "${outputDir}/${SQL_WASM_FILE}"`,
          ],
        },
      },
    });
    this.module = props.module;
  }
}
