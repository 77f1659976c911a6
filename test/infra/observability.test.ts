/**
 * What the stack adds so that a team hears of trouble before its users: the
 * alarms (each on the metric it names, with a reason; a command lost or stuck
 * on its way to the function among them), the optional e-mail topic and the
 * warning at synth when there is none, the dashboard; and the two
 * deployment choices of issue 12 — CORS only for the origins given (never
 * `*`, plain http:// only for localhost), and a commands consumer whose
 * batches grow instead of its containers.
 */

import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import {
  ALARM_KEY_FOR_CLOUDWATCH_SID,
  API_5XX_THRESHOLD,
  BUSY_ANSWERS_THRESHOLD,
  COMMANDS_OLDEST_MESSAGE_ALARM_SECONDS,
  DEFAULT_RECORD_DROP_ALARM_PERCENT,
  OBJECT_SIZE_ALARM_BYTES,
} from "../../infra/alarms.ts";
import { buildApp, stackProps } from "../../infra/app.ts";
import { PUBLISHER_MODULE } from "../../infra/events.ts";
import {
  COMMANDS_BATCH_SIZE,
  COMMANDS_BATCH_WINDOW_SECONDS,
  COMMANDS_MAX_CONCURRENCY,
  MAX_RECEIVE_COUNT,
  noAlarmDestinationNote,
} from "../../infra/rapatriements-stack.ts";
import { METRICS_NAMESPACE } from "../../lambda/handlers/metrics.ts";
import { COMMANDS_MODULE, HTTP_FUNCTION_MODULE } from "../../lambda/handlers/routes.ts";
import { type Json, resourcesOfType, synthesize } from "../support/synth.ts";

const plain = synthesize();
const custom = synthesize({
  alarmEmail: "ops@example.org",
  allowedOrigins: "https://app.example.org, http://localhost:5173",
});

function alarms(template: Json): Map<string, Json> {
  return new Map(
    resourcesOfType(template, "AWS::CloudWatch::Alarm").map(([id, alarm]) => [
      id.replace(/^Alarms/, "").replace(/[0-9A-F]{8}$/, ""),
      alarm.Properties,
    ]),
  );
}

/** The logical id of the queue `name` (its construct id). */
function queueId(template: Json, name: string): string {
  const [id] = resourcesOfType(template, "AWS::SQS::Queue").find(
    ([logicalId]) => logicalId.replace(/[0-9A-F]{8}$/, "") === name,
  ) ?? [""];
  return id;
}

describe("alarms", () => {
  const found = alarms(plain.template);

  test("the dead-letter queue alarms on its first message", () => {
    const dlqId = queueId(plain.template, "CommandsDeadLetterQueue");
    expect(found.get("DeadLettersNotEmpty")).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
      Statistic: "Maximum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
  });

  test("a command sent to the dead-letter queue by the function alarms on the first one, pointing at the CLI", () => {
    expect(found.get("CommandsDeadLettered")).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: "CommandsDeadLettered",
      Dimensions: [{ Name: "service", Value: "rapatriements" }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      AlarmDescription: expect.stringContaining("npx rapatriements dead-letters") as unknown,
    });
    expect(found.get("DeadLettersNotEmpty")?.AlarmDescription).toContain(
      "npx rapatriements redrive",
    );
  });

  test("a command EventBridge could not put on the queue alarms: on the rule's dead-letter queue's first message, on the rule's failed invocations, and on a command lost when even that queue refused it", () => {
    const [ruleId] = resourcesOfType(plain.template, "AWS::Events::Rule").find(([id]) =>
      id.startsWith("CommandsRule"),
    ) ?? [""];
    const [busId] = resourcesOfType(plain.template, "AWS::Events::EventBus")[0] ?? [""];
    // A custom bus's rule metrics carry the bus's name beside the rule's.
    const onRule = [
      { Name: "EventBusName", Value: { Ref: busId } },
      { Name: "RuleName", Value: { Ref: ruleId } },
    ];
    expect(found.get("CommandsRuleDeadLettersNotEmpty")).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [
        {
          Name: "QueueName",
          Value: {
            "Fn::GetAtt": [queueId(plain.template, "CommandsRuleDeadLetterQueue"), "QueueName"],
          },
        },
      ],
      Statistic: "Maximum",
      Threshold: 1,
      AlarmDescription: expect.stringContaining("CommandsRuleDeadLetterQueueUrl") as unknown,
    });
    expect(found.get("CommandsRuleFailedInvocations")).toMatchObject({
      Namespace: "AWS/Events",
      MetricName: "FailedInvocations",
      Dimensions: onRule,
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(found.get("CommandsRuleDeadLetterFailures")).toMatchObject({
      Namespace: "AWS/Events",
      MetricName: "InvocationsFailedToBeSentToDlq",
      Dimensions: onRule,
      Statistic: "Sum",
      Threshold: 1,
      AlarmDescription: expect.stringContaining("lost") as unknown,
    });
  });

  test("a command older than twice its redeliveries (2 × 5 × 180 s = 30 min) in the commands queue alarms: nothing consumes it", () => {
    expect(COMMANDS_OLDEST_MESSAGE_ALARM_SECONDS).toBe(2 * MAX_RECEIVE_COUNT * 180);
    expect(found.get("CommandsOldestMessageAge")).toMatchObject({
      Namespace: "AWS/SQS",
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: [
        {
          Name: "QueueName",
          Value: { "Fn::GetAtt": [queueId(plain.template, "CommandsQueue"), "QueueName"] },
        },
      ],
      Statistic: "Maximum",
      Threshold: 1800,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
  });

  test("without alarmEmail, synth warns that the alarms notify no one and says how to give them a destination; with it, no warning", () => {
    expect(plain.warnings).toEqual([expect.stringContaining(noAlarmDestinationNote(found.size))]);
    expect(plain.warnings[0]).toContain(`the ${found.size} alarms`);
    expect(plain.warnings[0]).toContain("-c alarmEmail=");
    expect(custom.warnings).toEqual([]);
  });

  test("every function has an errors alarm, and a throttles alarm but the publisher (one run at a time: a notification waits its turn)", () => {
    const functions = [HTTP_FUNCTION_MODULE, COMMANDS_MODULE, PUBLISHER_MODULE];
    for (const module of functions) {
      const logicalId = plain.functionsByModule.get(module);
      const errors = [...found.values()].filter(
        (a) => a.MetricName === "Errors" && a.Dimensions?.[0]?.Value?.Ref === logicalId,
      );
      const throttles = [...found.values()].filter(
        (a) => a.MetricName === "Throttles" && a.Dimensions?.[0]?.Value?.Ref === logicalId,
      );
      expect(errors, module).toHaveLength(1);
      expect(throttles, module).toHaveLength(module === PUBLISHER_MODULE ? 0 : 1);
      expect(errors[0]).toMatchObject({ Namespace: "AWS/Lambda", Statistic: "Sum", Threshold: 1 });
    }
  });

  test("API 5xx, busy answers, outcome unknown and the object's size alarm on their metrics", () => {
    expect(found.get("Api5xx")).toMatchObject({
      Namespace: "AWS/ApiGateway",
      MetricName: "5xx",
      Threshold: API_5XX_THRESHOLD,
    });
    const product = { Name: "service", Value: "rapatriements" };
    expect(found.get("BusyAnswers")).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: "BusyAnswers",
      Dimensions: [product],
      Statistic: "Sum",
      Threshold: BUSY_ANSWERS_THRESHOLD,
    });
    expect(found.get("OutcomeUnknown")).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: "OutcomeUnknown",
      Threshold: 1,
    });
    expect(found.get("ObjectSizeNearLimit")).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: "ObjectBytes",
      Dimensions: [product],
      Statistic: "Maximum",
      Threshold: OBJECT_SIZE_ALARM_BYTES,
    });
    for (const [id, alarm] of found) {
      expect(String(alarm.AlarmDescription).length, id).toBeGreaterThan(60);
    }
  });

  test("without alarmEmail there is no topic and no action; a dashboard shows the metrics", () => {
    expect(resourcesOfType(plain.template, "AWS::SNS::Topic")).toEqual([]);
    for (const alarm of found.values()) expect(alarm.AlarmActions).toBeUndefined();
    const [[, dashboard] = ["", {}]] = resourcesOfType(
      plain.template,
      "AWS::CloudWatch::Dashboard",
    );
    expect(JSON.stringify(dashboard.Properties.DashboardBody)).toContain("RecordCount");
  });

  test("with alarmEmail: an encrypted topic e-mails every alarm and its recovery", () => {
    const [[topicId, topic] = ["", {}]] = resourcesOfType(custom.template, "AWS::SNS::Topic");
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const [[, subscription] = ["", {}]] = resourcesOfType(
      custom.template,
      "AWS::SNS::Subscription",
    );
    expect(subscription.Properties).toMatchObject({
      Protocol: "email",
      Endpoint: "ops@example.org",
      TopicArn: { Ref: topicId },
    });
    const withEmail = alarms(custom.template);
    expect(withEmail.size).toBe(found.size);
    for (const alarm of withEmail.values()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(custom.nag.success).toBe(true);
  });

  test("the topic's key lets CloudWatch use it only for this account's alarms (aws:SourceAccount)", () => {
    const [, key] = resourcesOfType(custom.template, "AWS::KMS::Key")[0] ?? [];
    const statements: Json[] = key.Properties.KeyPolicy.Statement;
    const forCloudWatch = statements.filter((st) =>
      JSON.stringify(st.Principal).includes("cloudwatch.amazonaws.com"),
    );
    expect(forCloudWatch).toEqual([
      {
        Sid: ALARM_KEY_FOR_CLOUDWATCH_SID,
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
      },
    ]);
  });

  test("a malformed alarmEmail stops the synth, naming it", () => {
    expect(() => buildApp(new App({ context: { alarmEmail: "ops at example" } }))).toThrow(
      'context alarmEmail must be an e-mail address (got "ops at example")',
    );
  });
});

describe("CORS", () => {
  test("by default no origin is allowed: the API has no CORS configuration", () => {
    const [[, api] = ["", {}]] = resourcesOfType(plain.template, "AWS::ApiGatewayV2::Api");
    expect(api.Properties.CorsConfiguration).toBeUndefined();
  });

  test("allowedOrigins: exactly those origins, the API's methods and headers, ETag exposed", () => {
    const [[, api] = ["", {}]] = resourcesOfType(custom.template, "AWS::ApiGatewayV2::Api");
    expect(api.Properties.CorsConfiguration).toMatchObject({
      AllowOrigins: ["https://app.example.org", "http://localhost:5173"],
      AllowMethods: ["GET", "POST", "PATCH", "DELETE"],
      ExposeHeaders: ["etag", "location", "retry-after"],
      MaxAge: 3600,
    });
    expect(api.Properties.CorsConfiguration.AllowHeaders).toEqual(
      expect.arrayContaining(["authorization", "content-type", "idempotency-key", "if-match"]),
    );
  });

  test("an origin with a path is refused at synth, naming it", () => {
    expect(() =>
      buildApp(new App({ context: { allowedOrigins: "https://app.example.org/ui" } })),
    ).toThrow('"https://app.example.org/ui" is not an origin');
  });

  test.each([
    ["*", '"*" is refused: any web page could call the API'],
    ["https://app.example.org, *", '"*" is refused'],
    [
      "http://app.example.org",
      '"http://app.example.org" is refused: plain http:// is allowed only for localhost and 127.0.0.1 (a front end on your own machine); use https://app.example.org',
    ],
    ["http://192.168.1.20:8080", "use https://192.168.1.20:8080"],
  ])("allowedOrigins %j is refused at synth, saying why", (origins, why) => {
    expect(() => buildApp(new App({ context: { allowedOrigins: origins } }))).toThrow(why);
  });

  test("plain http:// is accepted for a front end on the developer's own machine only", () => {
    const origins = "http://localhost:5173, http://127.0.0.1:8080, https://app.example.org";
    expect(stackProps(new App({ context: { allowedOrigins: origins } })).allowedOrigins).toEqual([
      "http://localhost:5173",
      "http://127.0.0.1:8080",
      "https://app.example.org",
    ]);
  });
});

describe("the commands consumer", () => {
  test("at most 2 concurrent consumers; batches of up to 100 gathered for up to 2 s", () => {
    const [[, mapping] = ["", {}]] = resourcesOfType(
      plain.template,
      "AWS::Lambda::EventSourceMapping",
    );
    expect(mapping.Properties).toMatchObject({
      BatchSize: COMMANDS_BATCH_SIZE,
      MaximumBatchingWindowInSeconds: COMMANDS_BATCH_WINDOW_SECONDS,
      ScalingConfig: { MaximumConcurrency: COMMANDS_MAX_CONCURRENCY },
    });
    expect([COMMANDS_MAX_CONCURRENCY, COMMANDS_BATCH_SIZE, COMMANDS_BATCH_WINDOW_SECONDS]).toEqual([
      2, 100, 2,
    ]);
  });
});

describe("the record count falling in one save", () => {
  const RECORD_DROP = {
    Namespace: METRICS_NAMESPACE,
    MetricName: "RecordsRemovedPercent",
    Dimensions: [{ Name: "service", Value: "rapatriements" }],
    Statistic: "Maximum",
    ComparisonOperator: "GreaterThanThreshold",
    TreatMissingData: "notBreaching",
  };

  test("by default, a save that removes more than 50 % of the records alarms, pointing at versions and restore", () => {
    expect(DEFAULT_RECORD_DROP_ALARM_PERCENT).toBe(50);
    const alarm = alarms(plain.template).get("RecordCountDrop");
    expect(alarm).toMatchObject({ ...RECORD_DROP, Threshold: 50 });
    expect(alarm?.AlarmDescription).toContain("more than 50 % of the records");
    expect(alarm?.AlarmDescription).toContain("npx rapatriements restore VERSION_ID");
  });

  test("recordDropAlarmPercent sets the threshold", () => {
    const alarm = alarms(synthesize({ recordDropAlarmPercent: "80" }).template).get(
      "RecordCountDrop",
    );
    expect(alarm).toMatchObject({ ...RECORD_DROP, Threshold: 80 });
  });

  test.each(["0", "-5", "100", "150", "half", "50%"])(
    "recordDropAlarmPercent=%s stops the synth, naming the parameter and the range",
    (value) => {
      expect(() => stackProps(new App({ context: { recordDropAlarmPercent: value } }))).toThrow(
        `context recordDropAlarmPercent must be a percentage above 0 and below 100 (got "${value}"): the RecordCountDrop alarm fires when one save removes more than that share of the records`,
      );
    },
  );

  test("a whole-number or decimal share within the range is taken as given", () => {
    const props = (value: string) =>
      stackProps(new App({ context: { recordDropAlarmPercent: value } })).recordDropAlarmPercent;
    expect(props("25")).toBe(25);
    expect(props("12.5")).toBe(12.5);
    expect(stackProps(new App()).recordDropAlarmPercent).toBeUndefined();
  });
});
