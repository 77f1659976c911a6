/**
 * The change events' part of the template, asserted exactly: the stack's own
 * bus and its policy (who may send commands, who may send change events),
 * the archive, the publisher with exactly its permissions and its two
 * triggers, the bucket's notifications to EventBridge, the commands rule on
 * the bus and the forwarding rule only when asked, the publication alarms,
 * and every context parameter of it checked at synth.
 */
import { App } from "aws-cdk-lib";
import { describe, expect, test } from "vitest";
import { stackProps } from "../../infra/app.ts";
import { DATA_KEY_ACTIONS } from "../../infra/data-encryption.ts";
import {
  DEFAULT_EVENT_ARCHIVE_DAYS,
  DEFAULT_PUBLICATION_LAG_ALARM_SECONDS,
  EVENT_DETAIL_TYPES,
} from "../../infra/event-bus-rules.ts";
import { BUS_POLICY_SID, PUBLISHER_MODULE } from "../../infra/events.ts";
import { OWN_ACCESS_POLICY, OWN_LOG_GROUP_POLICY } from "../../infra/rapatriements-function.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../lambda/handlers/routes.ts";
import { type Json, resourcesOfType, type Synthesized, synthesize } from "../support/synth.ts";

const KEY = "rapatriements/rapatriements.db";
const POSITION_KEY = `${KEY}.events-position.json`;
const PRODUCER_ROLE = "arn:aws:iam::210987654321:role/wms-lyon";

const plain = synthesize();
const options = synthesize({
  forwardDefaultBusCommands: "true",
  commandProducers: `123456789012, ${PRODUCER_ROLE}`,
  eventBusName: "rapatriements-prod",
  eventArchiveDays: "365",
  publicationLagAlarmSeconds: "300",
  encryption: "kms",
});

function only(template: Json, type: string): [string, Json] {
  const found = resourcesOfType(template, type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Json];
}

/** The logical id of the resource of `type` whose id starts with `prefix` (its construct path). */
function named(template: Json, type: string, prefix: string): [string, Json] {
  const found = resourcesOfType(template, type).filter(([id]) => id.startsWith(prefix));
  expect(found, prefix).toHaveLength(1);
  return found[0] as [string, Json];
}

const getAtt = (id: string, attribute = "Arn") => ({ "Fn::GetAtt": [id, attribute] });
const busArn = (name: string) => ({
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":events:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      `:event-bus/${name}`,
    ],
  ],
});
const objectArn = (bucketId: string, key: string) => ({
  "Fn::Join": ["", [getAtt(bucketId), `/${key}`]],
});

function publisher(s: Synthesized): { id: string; fn: Json; roleId: string; role: Json } {
  const id = s.functionsByModule.get(PUBLISHER_MODULE) ?? "";
  const fn = s.template.Resources[id];
  const roleId = fn.Properties.Role["Fn::GetAtt"][0];
  return { id, fn, roleId, role: s.template.Resources[roleId] };
}

describe("the stack's bus", () => {
  test("named rapatriements by default, eventBusName otherwise; its name and ARN, and the publisher's name, are outputs", () => {
    const [busId, bus] = only(plain.template, "AWS::Events::EventBus");
    expect(bus.Properties.Name).toBe("rapatriements");
    expect(only(options.template, "AWS::Events::EventBus")[1].Properties.Name).toBe(
      "rapatriements-prod",
    );
    expect(plain.template.Outputs.EventBusName.Value).toEqual({ Ref: busId });
    expect(plain.template.Outputs.EventBusArn.Value).toEqual(getAtt(busId));
    expect(plain.template.Outputs.PublisherFunctionName.Value).toEqual({
      Ref: publisher(plain).id,
    });
  });

  test("its policy: the stack's account may send anything but a change event, the publisher's role only change events, and nobody else change events", () => {
    const [, bus] = only(plain.template, "AWS::Events::EventBus");
    const { roleId } = publisher(plain);
    const onBus = { Action: "events:PutEvents", Resource: busArn("rapatriements") };
    expect(bus.Properties.Policy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: BUS_POLICY_SID.producers,
          Effect: "Allow",
          Principal: {
            AWS: {
              "Fn::Join": [
                "",
                ["arn:", { Ref: "AWS::Partition" }, ":iam::", { Ref: "AWS::AccountId" }, ":root"],
              ],
            },
          },
          ...onBus,
          Condition: { StringNotEquals: { "events:source": "rapatriements" } },
        },
        {
          Sid: BUS_POLICY_SID.publisher,
          Effect: "Allow",
          Principal: { AWS: getAtt(roleId) },
          ...onBus,
          Condition: { StringEquals: { "events:source": "rapatriements" } },
        },
        {
          Sid: BUS_POLICY_SID.onlyPublisher,
          Effect: "Deny",
          Principal: { AWS: "*" },
          ...onBus,
          Condition: {
            StringEquals: { "events:source": "rapatriements" },
            ArnNotEquals: { "aws:PrincipalArn": getAtt(roleId) },
          },
        },
      ],
    });
  });

  test("commandProducers names the accounts and roles that may send commands, instead of the stack's account", () => {
    const [, bus] = only(options.template, "AWS::Events::EventBus");
    const [producers] = bus.Properties.Policy.Statement;
    expect(producers.Sid).toBe(BUS_POLICY_SID.producers);
    expect(producers.Principal).toEqual({
      AWS: [
        {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::123456789012:root"]],
        },
        PRODUCER_ROLE,
      ],
    });
  });

  test("an archive keeps the change events (source rapatriements, never commands) 90 days by default, eventArchiveDays otherwise", () => {
    const [busId] = only(plain.template, "AWS::Events::EventBus");
    const [archiveId, archive] = only(plain.template, "AWS::Events::Archive");
    expect(archive.Properties).toMatchObject({
      SourceArn: getAtt(busId),
      EventPattern: { source: ["rapatriements"] },
      RetentionDays: DEFAULT_EVENT_ARCHIVE_DAYS,
    });
    expect(DEFAULT_EVENT_ARCHIVE_DAYS).toBe(90);
    expect(only(options.template, "AWS::Events::Archive")[1].Properties.RetentionDays).toBe(365);
    expect(plain.template.Outputs.EventArchiveName.Value).toEqual({ Ref: archiveId });
  });
});

describe("the publisher", () => {
  test("bundles lambda/handlers/publish-events.ts, runs one at a time, knows the bus and its position object", () => {
    const { fn } = publisher(plain);
    const [busId] = only(plain.template, "AWS::Events::EventBus");
    const [bucketId] = only(plain.template, "AWS::S3::Bucket");
    expect(fn.Properties).toMatchObject({
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      ReservedConcurrentExecutions: 1,
      Timeout: 60,
    });
    expect(fn.Properties.Environment.Variables).toEqual({
      S3_RAPPATRIMENT_FILE_PATH: { "Fn::Join": ["", ["s3://", { Ref: bucketId }, `/${KEY}`]] },
      STORAGE_STRATEGY: "sqlite",
      EVENT_BUS_NAME: { Ref: busId },
      EVENTS_POSITION_KEY: POSITION_KEY,
      NODE_OPTIONS: "--enable-source-maps",
    });
  });

  test("its role holds exactly what it needs: read the data and its position, write only the position, put only change events on the bus; no data policy", () => {
    const { role } = publisher(plain);
    const [bucketId] = only(plain.template, "AWS::S3::Bucket");
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const own = role.Properties.Policies.find((p: Json) => p.PolicyName === OWN_ACCESS_POLICY);
    expect(own.PolicyDocument.Statement).toEqual([
      {
        Sid: "ReadTheDataAndThePosition",
        Effect: "Allow",
        Action: "s3:GetObject",
        Resource: [objectArn(bucketId, KEY), objectArn(bucketId, POSITION_KEY)],
      },
      {
        Sid: "WriteThePositionOnly",
        Effect: "Allow",
        Action: "s3:PutObject",
        Resource: objectArn(bucketId, POSITION_KEY),
      },
      {
        Sid: "MissingObjectsAreNotFound",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: getAtt(bucketId),
      },
      {
        Sid: "PutChangeEventsOnTheBus",
        Effect: "Allow",
        Action: "events:PutEvents",
        Resource: busArn("rapatriements"),
        Condition: {
          StringEquals: {
            "events:source": "rapatriements",
            "events:detail-type": [...EVENT_DETAIL_TYPES],
          },
        },
      },
    ]);
    expect(role.Properties.Policies.map((p: Json) => p.PolicyName).sort()).toEqual([
      OWN_ACCESS_POLICY,
      OWN_LOG_GROUP_POLICY,
    ]);
  });

  test("no other policy of the template is attached to its role", () => {
    const { roleId } = publisher(plain);
    for (const type of ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"]) {
      for (const [id, policy] of resourcesOfType(plain.template, type)) {
        expect(JSON.stringify(policy.Properties.Roles ?? []), id).not.toContain(roleId);
      }
    }
  });

  test("with a KMS key, it may also use the key, through S3 only", () => {
    const { role } = publisher(options);
    const own = role.Properties.Policies.find((p: Json) => p.PolicyName === OWN_ACCESS_POLICY);
    const statements = own.PolicyDocument.Statement as Json[];
    expect(statements.map((s) => s.Sid)).toEqual([
      "ReadTheDataAndThePosition",
      "WriteThePositionOnly",
      "MissingObjectsAreNotFound",
      "PutChangeEventsOnTheBus",
      "DataKeyThroughS3Only",
    ]);
    expect(statements.at(-1)).toMatchObject({
      Action: [...DATA_KEY_ACTIONS],
      Condition: { StringEquals: { "kms:ViaService": expect.anything() } },
    });
  });

  test("runs on each new version of the data object (a rule on the default bus) and every 5 minutes; a run left waiting is dropped after 10 minutes", () => {
    const { id } = publisher(plain);
    const [bucketId] = only(plain.template, "AWS::S3::Bucket");
    const [createdId, created] = named(
      plain.template,
      "AWS::Events::Rule",
      "ChangeEventsDataObjectCreated",
    );
    const [scheduleId, schedule] = named(
      plain.template,
      "AWS::Events::Rule",
      "ChangeEventsPublishSchedule",
    );
    expect(created.Properties.EventBusName).toBeUndefined();
    expect(created.Properties.EventPattern).toEqual({
      source: ["aws.s3"],
      "detail-type": ["Object Created"],
      detail: { bucket: { name: [{ Ref: bucketId }] }, object: { key: [KEY] } },
    });
    expect(created.Properties.Targets).toEqual([{ Arn: getAtt(id), Id: "Target0" }]);
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: "rate(5 minutes)",
      Targets: [{ Arn: getAtt(id), Id: "Target0", Input: "{}" }],
    });
    const permissions = resourcesOfType(plain.template, "AWS::Lambda::Permission")
      .map(([, p]) => p.Properties)
      .filter((p) => p.FunctionName?.["Fn::GetAtt"]?.[0] === id);
    expect(permissions).toEqual([
      expect.objectContaining({ Principal: "events.amazonaws.com", SourceArn: getAtt(createdId) }),
      expect.objectContaining({ Principal: "events.amazonaws.com", SourceArn: getAtt(scheduleId) }),
    ]);
    const [, invokeConfig] = only(plain.template, "AWS::Lambda::EventInvokeConfig");
    expect(invokeConfig.Properties).toMatchObject({
      FunctionName: { Ref: id },
      MaximumEventAgeInSeconds: 600,
    });
  });

  test("the stack's bucket sends its events to EventBridge, set on the bucket itself (no notifications function)", () => {
    const [, bucket] = only(plain.template, "AWS::S3::Bucket");
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(resourcesOfType(plain.template, "Custom::S3BucketNotifications")).toEqual([]);
  });
});

describe("commands on the stack's bus", () => {
  const pattern = { source: [COMMAND_SOURCE], "detail-type": [COMMAND_DETAIL_TYPE] };
  const rules = (template: Json) =>
    resourcesOfType(template, "AWS::Events::Rule").map(([id]) => id.replace(/[0-9A-F]{8}$/, ""));

  test("by default no rule on the default bus listens for commands: the commands rule is on the stack's bus", () => {
    const [busId] = only(plain.template, "AWS::Events::EventBus");
    expect(rules(plain.template).sort()).toEqual([
      "ChangeEventsDataObjectCreated",
      "ChangeEventsPublishSchedule",
      "CommandsRule",
    ]);
    const [, commands] = named(plain.template, "AWS::Events::Rule", "CommandsRule");
    expect(commands.Properties).toMatchObject({
      EventBusName: { Ref: busId },
      EventPattern: pattern,
    });
  });

  test("forwardDefaultBusCommands=true adds a rule on the default bus that forwards the same commands to the stack's bus, its failures to the rule's dead-letter queue", () => {
    const [busId] = only(options.template, "AWS::Events::EventBus");
    const [forwardId, forward] = named(
      options.template,
      "AWS::Events::Rule",
      "ChangeEventsForwardDefaultBusCommands",
    );
    const [dlqId] = named(options.template, "AWS::SQS::Queue", "CommandsRuleDeadLetterQueue");
    expect(forward.Properties.EventBusName).toBeUndefined();
    expect(forward.Properties.EventPattern).toEqual(pattern);
    expect(forward.Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: getAtt(busId),
        DeadLetterConfig: { Arn: getAtt(dlqId) },
        RoleArn: expect.anything(),
      }),
    ]);
    // Its role may put events on our bus, and nothing else.
    const roleId = forward.Properties.Targets[0].RoleArn["Fn::GetAtt"][0];
    const policies = resourcesOfType(options.template, "AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    );
    expect(policies.flatMap(([, p]) => p.Properties.PolicyDocument.Statement)).toEqual([
      { Action: "events:PutEvents", Effect: "Allow", Resource: getAtt(busId) },
    ]);
    expect(forwardId).toMatch(/^ChangeEventsForwardDefaultBusCommands/);
  });

  test("the queues' policies follow the rules: the commands queue takes only the commands rule's messages, its dead-letter queue also the forwarding rule's", () => {
    const [commandsId] = named(options.template, "AWS::Events::Rule", "CommandsRule");
    const [forwardId] = named(
      options.template,
      "AWS::Events::Rule",
      "ChangeEventsForwardDefaultBusCommands",
    );
    const [queueId] = named(options.template, "AWS::SQS::Queue", "CommandsQueue");
    const [dlqId] = named(options.template, "AWS::SQS::Queue", "CommandsRuleDeadLetterQueue");
    const denies = resourcesOfType(options.template, "AWS::SQS::QueuePolicy")
      .flatMap(([, p]) => [p.Properties.PolicyDocument.Statement].flat())
      .filter((s: Json) => s.Action === "sqs:SendMessage" && s.Effect === "Deny");
    const onQueue = (id: string) => denies.filter((s: Json) => s.Resource["Fn::GetAtt"][0] === id);
    expect(onQueue(queueId).map((s: Json) => s.Condition)).toEqual([
      { ArnNotEquals: { "aws:SourceArn": getAtt(commandsId) } },
    ]);
    expect(onQueue(dlqId).map((s: Json) => s.Condition)).toEqual([
      { ArnNotEquals: { "aws:SourceArn": [getAtt(commandsId), getAtt(forwardId)] } },
    ]);
  });
});

describe("publication alarms", () => {
  const alarm = (template: Json, name: string) =>
    named(template, "AWS::CloudWatch::Alarm", `Alarms${name}`)[1].Properties;

  test("PublicationLag fires when a change event reached the bus more than 900 s after its change (publicationLagAlarmSeconds otherwise); PublicationFailures on the first failure", () => {
    expect(DEFAULT_PUBLICATION_LAG_ALARM_SECONDS).toBe(900);
    const metric = {
      Namespace: "Rapatriements",
      Dimensions: [{ Name: "service", Value: "rapatriements" }],
    };
    expect(alarm(plain.template, "PublicationLag")).toMatchObject({
      ...metric,
      MetricName: "PublicationLagMs",
      Statistic: "Maximum",
      Threshold: 900_000,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
      AlarmDescription: expect.stringContaining("npx rapatriements doctor"),
    });
    expect(alarm(options.template, "PublicationLag").Threshold).toBe(300_000);
    expect(alarm(plain.template, "PublicationFailures")).toMatchObject({
      ...metric,
      MetricName: "PublicationFailures",
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });
});

describe("an adopted bucket", () => {
  const adopted = synthesize({
    existingBucketName: "interflow-rappatriements",
    dataKey: "rappatriements/rappatriements.json",
  });

  test("the publisher listens for that bucket and key, and the synth note says how to turn its notifications on", () => {
    const [, created] = named(
      adopted.template,
      "AWS::Events::Rule",
      "ChangeEventsDataObjectCreated",
    );
    expect(created.Properties.EventPattern.detail).toEqual({
      bucket: { name: ["interflow-rappatriements"] },
      object: { key: ["rappatriements/rappatriements.json"] },
    });
    const [note] = adopted.warnings.filter((w) => w.startsWith("Adopted bucket"));
    expect(note).toContain(
      `aws s3api put-bucket-notification-configuration --bucket interflow-rappatriements --notification-configuration '{"EventBridgeConfiguration":{}}'`,
    );
    expect(note).toContain("replaces the bucket's whole notification configuration");
  });

  test("cdk-nag passes with every option of the events set, and on an adopted bucket", () => {
    expect(options.nag.violations).toEqual([]);
    expect(adopted.nag.violations).toEqual([]);
  });
});

describe("the events' context parameters, checked at synth", () => {
  const props = (context: Record<string, string>) => stackProps(new App({ context }));

  test("unset, the stack's defaults apply; set, they are taken as given", () => {
    expect(props({})).not.toHaveProperty("eventBusName");
    expect(
      props({
        eventBusName: "rapatriements-prod",
        eventArchiveDays: "30",
        commandProducers: `123456789012,${PRODUCER_ROLE}`,
        forwardDefaultBusCommands: "false",
        publicationLagAlarmSeconds: "600",
      }),
    ).toMatchObject({
      eventBusName: "rapatriements-prod",
      eventArchiveDays: 30,
      commandProducers: [{ account: "123456789012" }, { roleArn: PRODUCER_ROLE }],
      forwardDefaultBusCommands: false,
      publicationLagAlarmSeconds: 600,
    });
  });

  test.each([
    [
      { eventBusName: "default" },
      `context eventBusName must be an EventBridge bus name: not default: the account's own bus is not the stack's to govern (got "default")`,
    ],
    [
      { eventBusName: "rapatriements prod" },
      `context eventBusName must be an EventBridge bus name: 1 to 256 letters, digits, dots, hyphens, underscores or slashes (got "rapatriements prod")`,
    ],
    [
      { eventArchiveDays: "0" },
      `context eventArchiveDays must be a whole number of days, at least 1: how long the archive keeps the change events for replay (got "0")`,
    ],
    [
      { eventArchiveDays: "7.5" },
      `context eventArchiveDays must be a whole number of days, at least 1: how long the archive keeps the change events for replay (got "7.5")`,
    ],
    [
      { commandProducers: "12345" },
      `context commandProducers must list AWS account ids (12 digits) or IAM role ARNs (arn:aws:iam::<account>:role/<name>), separated by commas: "12345" is neither`,
    ],
    [
      { commandProducers: "123456789012,arn:aws:iam::123456789012:user/bob" },
      `"arn:aws:iam::123456789012:user/bob" is neither`,
    ],
    [
      { forwardDefaultBusCommands: "yes" },
      `context forwardDefaultBusCommands must be true or false (got "yes"): true adds a rule on the default bus that forwards commands to the rapatriements bus`,
    ],
    [
      { publicationLagAlarmSeconds: "30" },
      `context publicationLagAlarmSeconds must be a whole number of seconds, at least 60 (a publisher's cold start alone takes seconds) (got "30")`,
    ],
  ])("%o is refused: %s", (context, message) => {
    expect(() => props(context)).toThrow(message);
  });
});
