/**
 * What `npm run synth` would deploy, asserted exactly: the operator guide's
 * policy and nothing else on the bucket, the bucket's protections, the
 * functions' runtime and environment, authorization on every route, and
 * cdk-nag's AwsSolutions checks passing with every acknowledgment justified.
 */
import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import { stackProps } from "../../infra/app.ts";
import {
  CONDITIONAL_WRITES_SID,
  DEFAULT_NONCURRENT_VERSION_DAYS,
  DELETE_PROTECTION_SID,
  KEPT_NONCURRENT_VERSIONS,
  RETENTION_RULE_ID,
  TLS_ONLY_SID,
} from "../../infra/data-bucket-rules.ts";
import { PUBLISHER_MODULE } from "../../infra/events.ts";
import { OWN_ACCESS_POLICY, OWN_LOG_GROUP_POLICY } from "../../infra/rapatriements-function.ts";
import {
  COMMANDS_BATCH_SIZE,
  COMMANDS_FROM_RULE_ONLY_SID,
  COMMANDS_MAX_CONCURRENCY,
  COMMANDS_READ_BY_FUNCTION_ONLY_SID,
  COMMANDS_RESERVED_CONCURRENCY,
  MAX_RECEIVE_COUNT,
  RULE_MAX_EVENT_AGE_SECONDS,
  RULE_RETRY_ATTEMPTS,
  routeScopes,
} from "../../infra/rapatriements-stack.ts";
import {
  COMMAND_DETAIL_TYPE,
  COMMAND_SOURCE,
  COMMANDS_MODULE,
  DEFAULT_SCOPES,
  HTTP_FUNCTION_MODULE,
  HTTP_ROUTES,
  routeKey,
} from "../../lambda/handlers/routes.ts";
import { type Json, synthesize } from "../support/synth.ts";

const BUCKET_ARN = { "Fn::GetAtt": [expect.stringMatching(/^DataBucket/), "Arn"] };
const BUCKET_OBJECTS = { "Fn::Join": ["", [BUCKET_ARN, "/*"]] };

function resources(template: Json, type: string): [string, Json][] {
  return Object.entries(template.Resources as Record<string, Json>).filter(
    ([, resource]) => resource.Type === type,
  );
}

function only(template: Json, type: string): [string, Json] {
  const found = resources(template, type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Json];
}

/** The operator guide's policy on the data: the one managed policy that speaks of S3. */
function dataPolicy(template: Json): [string, Json] {
  const found = resources(template, "AWS::IAM::ManagedPolicy").filter(([id]) =>
    id.startsWith("DataAccessPolicy"),
  );
  expect(found).toHaveLength(1);
  return found[0] as [string, Json];
}

function statementsOf(document: Json): Json[] {
  return [document?.Statement ?? []].flat();
}

function busId(t: Json): string {
  const [id] = only(t, "AWS::Events::EventBus");
  return id;
}

/** The commands rule (the stack has others: the publisher's, the optional forwarding rule). */
function commandsRule(t: Json): [string, Json] {
  const found = resources(t, "AWS::Events::Rule").filter(([id]) => id.startsWith("CommandsRule"));
  expect(found).toHaveLength(1);
  return found[0] as [string, Json];
}

const synthesized = synthesize();
const { template } = synthesized;

describe("RapatriementsStack", () => {
  test("the data policy is exactly the guide's statement: four actions on the bucket and bucket/*", () => {
    const [, policy] = dataPolicy(template);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
        Resource: [BUCKET_ARN, BUCKET_OBJECTS],
      },
    ]);
  });

  test("the HTTP and commands functions' roles have the data policy, the publisher's only its own statements; no other permission on S3", () => {
    const [policyId] = dataPolicy(template);
    const roles = resources(template, "AWS::IAM::Role");
    const functions = resources(template, "AWS::Lambda::Function");
    // The HTTP router, the commands function and the events publisher.
    expect(functions).toHaveLength(3);
    const publisherId = synthesized.functionsByModule.get(PUBLISHER_MODULE);
    for (const [id, fn] of functions) {
      const roleId = fn.Properties.Role["Fn::GetAtt"][0];
      const [, role] = roles.find(([roleLogicalId]) => roleLogicalId === roleId) ?? [];
      expect(role.Properties.ManagedPolicyArns, id).toEqual(
        id === publisherId ? undefined : [{ Ref: policyId }],
      );
    }
    // No inline or attached policy anywhere else grants an S3 action.
    for (const [id, policy] of resources(template, "AWS::IAM::Policy")) {
      const s3 = statementsOf(policy.Properties.PolicyDocument).filter((s) =>
        [s.Action].flat().some((a: string) => a.startsWith("s3:")),
      );
      expect(s3, id).toEqual([]);
    }
  });

  test("each function may write only its own log group: no AWSLambdaBasicExecutionRole, no logs permission on *", () => {
    const roles = new Map(resources(template, "AWS::IAM::Role"));
    for (const [id, fn] of resources(template, "AWS::Lambda::Function")) {
      const ownGroup = fn.Properties.LoggingConfig.LogGroup.Ref;
      const role = roles.get(fn.Properties.Role["Fn::GetAtt"][0]);
      // The publisher's own statements are asserted in events.test.ts.
      const policies = role.Properties.Policies.filter(
        (p: Json) => p.PolicyName !== OWN_ACCESS_POLICY,
      );
      expect(policies, id).toEqual([
        {
          PolicyName: OWN_LOG_GROUP_POLICY,
          PolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: { "Fn::GetAtt": [ownGroup, "Arn"] },
              },
            ],
          },
        },
      ]);
    }
    const everyStatement = [
      ...resources(template, "AWS::IAM::Role").flatMap(([, role]) =>
        (role.Properties.Policies ?? []).flatMap((p: Json) => statementsOf(p.PolicyDocument)),
      ),
      ...resources(template, "AWS::IAM::Policy").flatMap(([, p]) =>
        statementsOf(p.Properties.PolicyDocument),
      ),
    ];
    const onLogs = everyStatement.filter((st) =>
      [st.Action].flat().some((a: string) => a.startsWith("logs:")),
    );
    expect(onLogs).toHaveLength(3);
    expect(JSON.stringify(template)).not.toContain("AWSLambdaBasicExecutionRole");
  });

  test("the bucket is AES-256 encrypted, versioned, private, and kept when the stack is deleted", () => {
    const [, bucket] = only(template, "AWS::S3::Bucket");
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
      ],
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: "Enabled" });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.DeletionPolicy).toBe("Retain");
    expect(bucket.UpdateReplacePolicy).toBe("Retain");
    // No adopted-bucket note: the one warning is that no alarm destination is set (below).
    expect(synthesized.warnings).toEqual([expect.stringMatching(/^No alarm destination/)]);
  });

  test("a lifecycle rule on the data key: earlier versions expire after 30 days but the 10 newest stay whatever their age, lone delete markers and incomplete uploads go", () => {
    const [, bucket] = only(template, "AWS::S3::Bucket");
    expect(DEFAULT_NONCURRENT_VERSION_DAYS).toBe(30);
    expect(KEPT_NONCURRENT_VERSIONS).toBe(10);
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: RETENTION_RULE_ID,
          Prefix: "rapatriements/rapatriements.db",
          Status: "Enabled",
          NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 10 },
          ExpiredObjectDeleteMarker: true,
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
  });

  test("the bucket policy refuses plain HTTP, any PUT of the data object without a condition, and any delete of it or of its versions", () => {
    const [, policy] = only(template, "AWS::S3::BucketPolicy");
    const statements = statementsOf(policy.Properties.PolicyDocument);
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Action: "s3:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
          Effect: "Deny",
          Principal: { AWS: "*" },
          Resource: [BUCKET_ARN, BUCKET_OBJECTS],
        },
        {
          Sid: CONDITIONAL_WRITES_SID,
          Action: "s3:PutObject",
          Condition: { Null: { "s3:if-match": "true", "s3:if-none-match": "true" } },
          Effect: "Deny",
          Principal: { AWS: "*" },
          Resource: { "Fn::Join": ["", [BUCKET_ARN, "/rapatriements/rapatriements.db"]] },
        },
        {
          Sid: DELETE_PROTECTION_SID,
          Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
          Effect: "Deny",
          Principal: { AWS: "*" },
          Resource: { "Fn::Join": ["", [BUCKET_ARN, "/rapatriements/rapatriements.db"]] },
        },
      ]),
    );
    expect(statements).toHaveLength(3);
    expect(statements.filter((s) => s.Effect === "Allow")).toEqual([]);
  });

  test("every function runs Node.js 24 on arm64 with the data object's path and strategy, never AWS_REGION", () => {
    const [bucketId] = only(template, "AWS::S3::Bucket");
    for (const [id, fn] of resources(template, "AWS::Lambda::Function")) {
      // The publisher's own variables (the bus, its position) are asserted in events.test.ts.
      expect(fn.Properties.Runtime, id).toBe("nodejs24.x");
      expect(fn.Properties.Architectures, id).toEqual(["arm64"]);
      expect(fn.Properties.Handler, id).toBe("index.handler");
      expect(ownVariables(fn.Properties.Environment.Variables), id).toEqual({
        S3_RAPPATRIMENT_FILE_PATH: {
          "Fn::Join": ["", ["s3://", { Ref: bucketId }, "/rapatriements/rapatriements.db"]],
        },
        STORAGE_STRATEGY: "sqlite",
        NODE_OPTIONS: "--enable-source-maps",
      });
      expect(fn.Properties.LoggingConfig?.LogGroup, id).toBeDefined();
    }
    for (const [id, group] of resources(template, "AWS::Logs::LogGroup")) {
      expect(group.Properties.RetentionInDays, id).toBeGreaterThan(0);
    }
  });

  test("every route of docs/architecture.md exists, each with IAM authorization by default", () => {
    const routes = resources(template, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(
      HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort(),
    );
    for (const route of routes) expect(route.AuthorizationType, route.RouteKey).toBe("AWS_IAM");
  });

  test("every HTTP route integrates with the one router function, and API Gateway may invoke only it", () => {
    const router = synthesized.functionsByModule.get(HTTP_FUNCTION_MODULE);
    expect(router).toBeDefined();
    const integrations = new Map(resources(template, "AWS::ApiGatewayV2::Integration"));
    const routes = resources(template, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(HTTP_ROUTES.map(routeKey).sort());
    for (const route of routes) {
      const [prefix, ref] = route.Target["Fn::Join"][1];
      expect(prefix, route.RouteKey).toBe("integrations/");
      expect(integrations.get(ref.Ref)?.Properties, route.RouteKey).toMatchObject({
        IntegrationType: "AWS_PROXY",
        PayloadFormatVersion: "2.0",
        IntegrationUri: { "Fn::GetAtt": [router, "Arn"] },
      });
    }
    const invokers = resources(template, "AWS::Lambda::Permission")
      .map(([, p]) => p.Properties)
      .filter((p) => p.Principal === "apigateway.amazonaws.com");
    expect(invokers.length).toBeGreaterThan(0);
    for (const permission of invokers) {
      expect(permission.FunctionName).toEqual({ "Fn::GetAtt": [router, "Arn"] });
    }
  });

  test("the HTTP function knows its API's id (HTTP_API_ID), to refuse any other API's event; the commands function does not", () => {
    const [apiId] = only(template, "AWS::ApiGatewayV2::Api");
    const variables = (module: string) =>
      template.Resources[synthesized.functionsByModule.get(module) ?? ""].Properties.Environment
        .Variables;
    expect(variables(HTTP_FUNCTION_MODULE).HTTP_API_ID).toEqual({ Ref: apiId });
    expect(variables(COMMANDS_MODULE).HTTP_API_ID).toBeUndefined();
  });

  test("both functions' names are outputs, for the statement that denies invoking them directly", () => {
    expect(template.Outputs.HttpFunctionName.Value).toEqual({
      Ref: synthesized.functionsByModule.get(HTTP_FUNCTION_MODULE),
    });
    expect(template.Outputs.CommandsFunctionName.Value).toEqual({
      Ref: synthesized.functionsByModule.get(COMMANDS_MODULE),
    });
  });

  test("each function reserves its concurrency: the HTTP function what the stage's throttle can keep busy (burst 100 + rate 50), the commands function its 2 consumers and 3 direct invocations", () => {
    const reserved = (module: string) =>
      template.Resources[synthesized.functionsByModule.get(module) ?? ""].Properties
        .ReservedConcurrentExecutions;
    expect(reserved(HTTP_FUNCTION_MODULE)).toBe(150);
    expect(reserved(COMMANDS_MODULE)).toBe(5);
    expect(COMMANDS_RESERVED_CONCURRENCY).toBeGreaterThan(COMMANDS_MAX_CONCURRENCY);
  });

  test("the API's stage is throttled and writes access logs", () => {
    const [, stage] = only(template, "AWS::ApiGatewayV2::Stage");
    expect(stage.Properties.StageName).toBe("$default");
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
    expect(stage.Properties.AccessLogSettings.DestinationArn).toBeDefined();
    expect(JSON.parse(stage.Properties.AccessLogSettings.Format)).toMatchObject({
      requestId: "$context.requestId",
      status: "$context.status",
    });
  });

  test("cdk-nag's AwsSolutions checks pass, and every acknowledgment carries its reason", () => {
    expect(synthesized.nag.violations).toEqual([]);
    expect(synthesized.nag.success).toBe(true);
  });
});

describe("RapatriementsStack commands", () => {
  const queues = () => resources(template, "AWS::SQS::Queue");
  const queue = (name: string) => {
    const found = queues().filter(([id]) => id.replace(/[0-9A-F]{8}$/, "") === name);
    expect(found, name).toHaveLength(1);
    return found[0] as [string, Json];
  };
  const commandsQueue = () => queue("CommandsQueue");
  const deadLetterQueue = () => queue("CommandsDeadLetterQueue");
  const ruleDeadLetterQueue = () => queue("CommandsRuleDeadLetterQueue");

  test("the queue is encrypted and sends a message to its dead-letter queue after 5 receives", () => {
    expect(queues()).toHaveLength(3);
    const [, queue] = commandsQueue();
    const [dlqId, dlq] = deadLetterQueue();
    expect(MAX_RECEIVE_COUNT).toBe(5);
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 },
    });
    expect(dlq.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
  });

  test("every queue refuses plain HTTP; the rule alone is allowed to send, to the commands queue and to its own dead-letter queue", () => {
    const [queueId] = commandsQueue();
    const [ruleDlqId] = ruleDeadLetterQueue();
    const [ruleId] = commandsRule(template);
    const policies = resources(template, "AWS::SQS::QueuePolicy");
    const statements = policies.flatMap(([, p]) => statementsOf(p.Properties.PolicyDocument));
    expect(
      statements.filter((st) => st.Condition?.Bool?.["aws:SecureTransport"] === "false"),
    ).toHaveLength(3);
    const fromRule = { ArnEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } };
    const allows = statements.filter((st) => st.Effect === "Allow");
    expect(allows).toEqual([
      {
        Action: "sqs:SendMessage",
        Condition: fromRule,
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Resource: { "Fn::GetAtt": [ruleDlqId, "Arn"] },
        Sid: expect.stringMatching(/^AllowEventRule/),
      },
      {
        Action: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
        Condition: fromRule,
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Resource: { "Fn::GetAtt": [queueId, "Arn"] },
      },
    ]);
  });

  test("what the rule cannot put on the queue goes, after an hour of retries, to its own dead-letter queue: encrypted, TLS only, kept 14 days", () => {
    const [queueId] = commandsQueue();
    const [ruleDlqId, ruleDlq] = ruleDeadLetterQueue();
    const [, rule] = commandsRule(template);
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { "Fn::GetAtt": [queueId, "Arn"] },
        DeadLetterConfig: { Arn: { "Fn::GetAtt": [ruleDlqId, "Arn"] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 185 },
      }),
    ]);
    expect([RULE_MAX_EVENT_AGE_SECONDS, RULE_RETRY_ATTEMPTS]).toEqual([3600, 185]);
    expect(ruleDlq.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    expect(template.Outputs.CommandsRuleDeadLetterQueueUrl.Value).toEqual({ Ref: ruleDlqId });
  });

  test("the EventBridge rule is on the stack's bus, matches the documented source and detail type and targets the queue", () => {
    const [queueId] = commandsQueue();
    const [, rule] = commandsRule(template);
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId(template) });
    expect(rule.Properties.EventPattern).toEqual({
      source: [COMMAND_SOURCE],
      "detail-type": [COMMAND_DETAIL_TYPE],
    });
    expect(rule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { "Fn::GetAtt": [queueId, "Arn"] } }),
    ]);
  });

  test("the commands function knows its queue, its dead-letter queue and their settings; the HTTP function does not", () => {
    const [queueId] = commandsQueue();
    const [dlqId] = deadLetterQueue();
    const variables = (module: string) =>
      template.Resources[synthesized.functionsByModule.get(module) ?? ""].Properties.Environment
        .Variables;
    expect(variables(COMMANDS_MODULE)).toMatchObject({
      COMMANDS_QUEUE_URL: { Ref: queueId },
      COMMANDS_QUEUE_ARN: { "Fn::GetAtt": [queueId, "Arn"] },
      COMMANDS_DEAD_LETTER_QUEUE_URL: { Ref: dlqId },
      COMMANDS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
      COMMANDS_VISIBILITY_TIMEOUT_SECONDS: "180",
    });
    expect(
      Object.keys(variables(HTTP_FUNCTION_MODULE)).filter((v) => v.startsWith("COMMANDS_")),
    ).toEqual([]);
    expect(template.Outputs.CommandsDeadLetterQueueUrl.Value).toEqual({ Ref: dlqId });
  });

  test("only the rule may send to the queue and its dead-letter queue, and only the commands function may receive from the queue, whatever else IAM allows", () => {
    const [queueId] = commandsQueue();
    const [ruleDlqId] = ruleDeadLetterQueue();
    const [ruleId] = commandsRule(template);
    const commandsFunction =
      template.Resources[synthesized.functionsByModule.get(COMMANDS_MODULE) ?? ""];
    const roleId = commandsFunction.Properties.Role["Fn::GetAtt"][0];
    const statements = resources(template, "AWS::SQS::QueuePolicy").flatMap(([, p]) =>
      statementsOf(p.Properties.PolicyDocument),
    );
    expect(statements.filter((st) => st.Effect === "Deny" && st.Sid !== undefined)).toEqual([
      {
        Sid: COMMANDS_FROM_RULE_ONLY_SID,
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "sqs:SendMessage",
        Resource: { "Fn::GetAtt": [ruleDlqId, "Arn"] },
        Condition: { ArnNotEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
      },
      {
        Sid: COMMANDS_FROM_RULE_ONLY_SID,
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "sqs:SendMessage",
        Resource: { "Fn::GetAtt": [queueId, "Arn"] },
        Condition: { ArnNotEquals: { "aws:SourceArn": { "Fn::GetAtt": [ruleId, "Arn"] } } },
      },
      {
        Sid: COMMANDS_READ_BY_FUNCTION_ONLY_SID,
        Effect: "Deny",
        Principal: { AWS: "*" },
        Action: "sqs:ReceiveMessage",
        Resource: { "Fn::GetAtt": [queueId, "Arn"] },
        Condition: { ArnNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [roleId, "Arn"] } } },
      },
    ]);
  });

  test("the commands function may send to the dead-letter queue, and nothing else there", () => {
    const [dlqId] = deadLetterQueue();
    const commandsFunction =
      template.Resources[synthesized.functionsByModule.get(COMMANDS_MODULE) ?? ""];
    const roleId = commandsFunction.Properties.Role["Fn::GetAtt"][0];
    const onDeadLetters = resources(template, "AWS::IAM::Policy")
      .filter(([, p]) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap(([, p]) => statementsOf(p.Properties.PolicyDocument))
      .filter((st) => JSON.stringify(st.Resource).includes(dlqId));
    expect(onDeadLetters).toEqual([
      {
        Action: ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
        Effect: "Allow",
        Resource: { "Fn::GetAtt": [dlqId, "Arn"] },
      },
    ]);
  });

  test("the commands function reads the queue in batches, reporting failed messages one by one", () => {
    const [queueId] = commandsQueue();
    const [, mapping] = only(template, "AWS::Lambda::EventSourceMapping");
    const commandsFunction = synthesized.functionsByModule.get(COMMANDS_MODULE);
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { "Fn::GetAtt": [queueId, "Arn"] },
      FunctionName: { Ref: commandsFunction },
      BatchSize: COMMANDS_BATCH_SIZE,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    expect(template.Resources[commandsFunction ?? ""].Properties.Timeout).toBe(30);
  });
});

const custom = synthesize({
  jwtIssuer: "https://login.example.org/tenant",
  jwtAudience: "rapatriements-api,ops-console",
  storageStrategy: "json",
  bucketName: "interflow-rappatriements",
  throttleRateLimit: "20",
  throttleBurstLimit: "40",
  commandsReservedConcurrency: "none",
});

describe("RapatriementsStack with CDK context", () => {
  test("an issuer and audience put a JWT authorizer on every route", () => {
    const [authorizerId, authorizer] = only(custom.template, "AWS::ApiGatewayV2::Authorizer");
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: "JWT",
      JwtConfiguration: {
        Issuer: "https://login.example.org/tenant",
        Audience: ["rapatriements-api", "ops-console"],
      },
    });
    for (const [, route] of resources(custom.template, "AWS::ApiGatewayV2::Route")) {
      expect(route.Properties.AuthorizationType).toBe("JWT");
      expect(route.Properties.AuthorizerId).toEqual({ Ref: authorizerId });
    }
  });

  test("the bucket name, strategy and throttling come from context", () => {
    const [, bucket] = only(custom.template, "AWS::S3::Bucket");
    expect(bucket.Properties.BucketName).toBe("interflow-rappatriements");
    for (const [, fn] of resources(custom.template, "AWS::Lambda::Function")) {
      expect(fn.Properties.Environment.Variables.STORAGE_STRATEGY).toBe("json");
      expect(fn.Properties.Environment.Variables.S3_RAPPATRIMENT_FILE_PATH["Fn::Join"][1][2]).toBe(
        "/rapatriements/rapatriements.json",
      );
    }
    const [, stage] = only(custom.template, "AWS::ApiGatewayV2::Stage");
    expect(stage.Properties.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
    expect(custom.nag.success).toBe(true);
  });

  test("the HTTP function's reservation follows the throttle (40 + 20); commandsReservedConcurrency=none reserves nothing", () => {
    const reserved = (module: string) =>
      custom.template.Resources[custom.functionsByModule.get(module) ?? ""].Properties
        .ReservedConcurrentExecutions;
    expect(reserved(HTTP_FUNCTION_MODULE)).toBe(60);
    expect(reserved(COMMANDS_MODULE)).toBeUndefined();
  });
});

/** A CloudFormation value with the partition written in, as an ARN reads once deployed. */
function resolved(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolved);
  if (value !== null && typeof value === "object") {
    if ("Ref" in value && value.Ref === "AWS::Partition") return "aws";
    if ("Fn::Join" in value) return value["Fn::Join"][1].map(resolved).join(value["Fn::Join"][0]);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolved(v)]));
  }
  return value;
}

describe("RapatriementsStack adopting an existing bucket (existingBucketName + dataKey)", () => {
  // The operator guide's second example: a relative JSON path in interflow-rappatriements.
  const adopted = synthesize({
    existingBucketName: "interflow-rappatriements",
    dataKey: "rappatriements/rappatriements.json",
    noncurrentVersionDays: "45",
  });

  test("no bucket and no bucket policy are created: the team's bucket is left as it is", () => {
    expect(resources(adopted.template, "AWS::S3::Bucket")).toEqual([]);
    expect(resources(adopted.template, "AWS::S3::BucketPolicy")).toEqual([]);
  });

  test("the policy is the guide's four actions on that bucket and bucket/*, nothing else", () => {
    const [, policy] = dataPolicy(adopted.template);
    expect(resolved(policy.Properties.PolicyDocument.Statement)).toEqual([
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
        Resource: [
          "arn:aws:s3:::interflow-rappatriements",
          "arn:aws:s3:::interflow-rappatriements/*",
        ],
      },
    ]);
  });

  test("every function reads s3://<bucket>/<dataKey>, in the format its extension names; the output says so", () => {
    const functions = resources(adopted.template, "AWS::Lambda::Function");
    expect(functions).toHaveLength(3);
    for (const [id, fn] of functions) {
      expect(ownVariables(fn.Properties.Environment.Variables), id).toEqual({
        S3_RAPPATRIMENT_FILE_PATH:
          "s3://interflow-rappatriements/rappatriements/rappatriements.json",
        STORAGE_STRATEGY: "json",
        NODE_OPTIONS: "--enable-source-maps",
      });
    }
    expect(adopted.template.Outputs.DataObject.Value).toBe(
      "s3://interflow-rappatriements/rappatriements/rappatriements.json",
    );
  });

  test("the synth note names what the team must check on the adopted bucket, and the import", () => {
    const notes = adopted.warnings.filter((warning) => warning.startsWith("Adopted bucket"));
    expect(notes).toHaveLength(1);
    const [note] = notes;
    for (const expected of [
      "interflow-rappatriements",
      "default encryption",
      "versioning",
      `lifecycle rule ${RETENTION_RULE_ID}`,
      "45 days, the 10 newest whatever their age",
      "all four public access blocks",
      "BucketOwnerEnforced",
      TLS_ONLY_SID,
      CONDITIONAL_WRITES_SID,
      `${DELETE_PROTECTION_SID} (refuses s3:DeleteObject and s3:DeleteObjectVersion on rappatriements/rappatriements.json`,
      "npx rapatriements doctor",
      "npx rapatriements import s3://interflow-rappatriements/rappatriements/rappatriements.json",
    ]) {
      expect(note).toContain(expected);
    }
  });

  test("cdk-nag's AwsSolutions checks still pass", () => {
    expect(adopted.nag.violations).toEqual([]);
    expect(adopted.nag.success).toBe(true);
  });
});

const JWT = { jwtIssuer: "https://login.example.org/tenant", jwtAudience: "rapatriements-api" };

describe("RapatriementsStack context checks", () => {
  const props = (context: Record<string, string>) =>
    stackProps(new App({ context: { ...context } }));

  test("JWT scope names default to rapatriements:read and :write, and come from context", () => {
    expect(props(JWT).jwtScopes).toEqual(DEFAULT_SCOPES);
    expect(DEFAULT_SCOPES).toEqual({ read: "rapatriements:read", write: "rapatriements:write" });
    const named = props({
      ...JWT,
      jwtReadScope: "api://rap/Read",
      jwtWriteScope: "api://rap/Plan",
    });
    expect(named.jwtScopes).toEqual({ read: "api://rap/Read", write: "api://rap/Plan" });
    expect(routeScopes("read", named.jwtScopes ?? DEFAULT_SCOPES)).toEqual([
      "api://rap/Read",
      "api://rap/Plan",
    ]);
    expect(routeScopes("write", named.jwtScopes ?? DEFAULT_SCOPES)).toEqual(["api://rap/Plan"]);
  });

  test("the guide's first example: a SQLite file at the bucket's root", () => {
    expect(
      props({ existingBucketName: "foxon-mane-interflow", dataKey: "rappatriments.db" }),
    ).toMatchObject({
      existingBucketName: "foxon-mane-interflow",
      dataKey: "rappatriments.db",
      storageStrategy: "sqlite",
      noncurrentVersionDays: 30,
    });
  });

  test.each([
    [{ existingBucketName: "a-bucket", bucketName: "b-bucket" }, "exclude each other"],
    [{ dataKey: "data.json", storageStrategy: "sqlite" }, "names a json file"],
    [{ dataKey: "/rooted.db" }, "ne doit pas commencer"],
    [{ existingBucketName: "Not_A_Bucket" }, "nom de bucket invalide"],
    [{ noncurrentVersionDays: "0" }, "positive number"],
    [{ noncurrentVersionDays: "1.5" }, "whole number"],
    [{ jwtReadScope: "lecture" }, "applies to a JWT authorizer only"],
    [{ ...JWT, jwtWriteScope: "write all" }, "must be one OAuth scope"],
    [{ ...JWT, jwtReadScope: "rapatriements:write" }, "must differ"],
    [
      { httpReservedConcurrency: "0" },
      'context httpReservedConcurrency must be a whole number of concurrent executions, at least 1 (0 would refuse every request), or none to reserve nothing (got "0")',
    ],
    [{ httpReservedConcurrency: "lots" }, "httpReservedConcurrency must be a whole number"],
    [
      { commandsReservedConcurrency: "1" },
      "context commandsReservedConcurrency must be a whole number of concurrent executions, at least 2 (the commands queue's 2 consumers: with fewer, Lambda throttles the queue's deliveries)",
    ],
    [{ commandsReservedConcurrency: "2.5" }, '(got "2.5")'],
  ])("%j is refused at synth, saying why", (context, why) => {
    expect(() => props(context)).toThrow(why);
  });

  test("a reservation given in context is taken as given; none leaves the function on the account's pool", () => {
    expect(
      props({ httpReservedConcurrency: "30", commandsReservedConcurrency: "2" }),
    ).toMatchObject({ httpReservedConcurrency: 30, commandsReservedConcurrency: 2 });
    const unreserved = props({ httpReservedConcurrency: "none" });
    expect(unreserved.httpReservedConcurrency).toBeUndefined();
    expect(unreserved.commandsReservedConcurrency).toBe(COMMANDS_RESERVED_CONCURRENCY);
    expect(
      props({ throttleRateLimit: "12.5", throttleBurstLimit: "30" }).httpReservedConcurrency,
    ).toBe(43);
  });
});

/** An execute-api ARN as it reads once deployed, in eu-west-1 of account 123456789012. */
function deployedArn(value: Json, apiId: string): Json {
  if (Array.isArray(value)) return value.map((v) => deployedArn(v, apiId));
  if (value !== null && typeof value === "object") {
    const refs: Record<string, string> = {
      "AWS::Partition": "aws",
      "AWS::Region": "eu-west-1",
      "AWS::AccountId": "123456789012",
      [apiId]: "a1b2c3",
    };
    if ("Ref" in value && refs[value.Ref] !== undefined) return refs[value.Ref];
    if ("Fn::Join" in value) {
      return value["Fn::Join"][1]
        .map((v: Json) => deployedArn(v, apiId))
        .join(value["Fn::Join"][0]);
    }
  }
  return value;
}

describe("RapatriementsStack: who may read, who may write", () => {
  const API = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/*";
  const callerPolicy = (t: Json, prefix: string): Json => {
    const found = resources(t, "AWS::IAM::ManagedPolicy").filter(([id]) => id.startsWith(prefix));
    expect(found, prefix).toHaveLength(1);
    return (found[0] as [string, Json])[1];
  };
  const allowed = (t: Json, prefix: string): Json => {
    const [apiId] = only(t, "AWS::ApiGatewayV2::Api");
    const statements = statementsOf(callerPolicy(t, prefix).Properties.PolicyDocument);
    return statements.map((st) => ({ ...st, Resource: deployedArn(st.Resource, apiId) }));
  };

  test("with IAM, the read-only policy invokes exactly the two GET routes", () => {
    expect(allowed(template, "ApiReadPolicy")).toEqual([
      {
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: [`${API}/GET/rapatriements`, `${API}/GET/rapatriements/*`],
      },
    ]);
  });

  test("with IAM, the read-write policy invokes exactly the five routes", () => {
    expect(allowed(template, "ApiReadWritePolicy")).toEqual([
      {
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: [
          `${API}/POST/rapatriements`,
          `${API}/GET/rapatriements`,
          `${API}/GET/rapatriements/*`,
          `${API}/PATCH/rapatriements/*`,
          `${API}/DELETE/rapatriements/*`,
        ],
      },
    ]);
  });

  test("with IAM, both policies are outputs an administrator attaches, and no role holds them", () => {
    const [readId] = resources(template, "AWS::IAM::ManagedPolicy").find(([id]) =>
      id.startsWith("ApiReadPolicy"),
    ) ?? [""];
    const [readWriteId] = resources(template, "AWS::IAM::ManagedPolicy").find(([id]) =>
      id.startsWith("ApiReadWritePolicy"),
    ) ?? [""];
    expect(template.Outputs.ApiReadPolicyArn.Value).toEqual({ Ref: readId });
    expect(template.Outputs.ApiReadWritePolicyArn.Value).toEqual({ Ref: readWriteId });
    for (const id of [readId, readWriteId]) {
      const policy = template.Resources[id].Properties;
      expect(policy.Roles ?? policy.Users ?? policy.Groups, id).toBeUndefined();
    }
    for (const [, route] of resources(template, "AWS::ApiGatewayV2::Route")) {
      expect(route.Properties.AuthorizationScopes, route.Properties.RouteKey).toBeUndefined();
    }
  });

  test("with a JWT authorizer, GET routes take the read or the write scope, the others only write", () => {
    const scopes = Object.fromEntries(
      resources(custom.template, "AWS::ApiGatewayV2::Route").map(([, r]) => [
        r.Properties.RouteKey,
        r.Properties.AuthorizationScopes,
      ]),
    );
    expect(scopes).toEqual({
      "POST /rapatriements": ["rapatriements:write"],
      "GET /rapatriements": ["rapatriements:read", "rapatriements:write"],
      "GET /rapatriements/{id}": ["rapatriements:read", "rapatriements:write"],
      "PATCH /rapatriements/{id}": ["rapatriements:write"],
      "DELETE /rapatriements/{id}": ["rapatriements:write"],
    });
    // Tokens carry the scopes: no IAM policy for callers, no output naming one.
    expect(
      resources(custom.template, "AWS::IAM::ManagedPolicy").map(([id]) =>
        id.replace(/[0-9A-F]{8}$/, ""),
      ),
    ).toEqual(["DataAccessPolicy"]);
    expect(custom.template.Outputs.ApiReadPolicyArn).toBeUndefined();
  });
});

/**
 * What every function's environment shares: without the commands function's
 * queue variables and the HTTP function's API id (each tested on its own).
 */
function ownVariables(variables: Json): Json {
  const functionsOwn = ["HTTP_API_ID", "EVENT_BUS_NAME", "EVENTS_POSITION_KEY"];
  return Object.fromEntries(
    Object.entries(variables as Record<string, Json>).filter(
      ([name]) => !name.startsWith("COMMANDS_") && !functionsOwn.includes(name),
    ),
  );
}
