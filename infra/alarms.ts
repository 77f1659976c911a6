/**
 * Infrastructure: what tells a team that something is wrong before its users
 * do. One alarm per failure an operator must act on (see docs/deploy.md's
 * "Metrics and alarms" table for what each means and what to do), a
 * dashboard of the product's metrics, and — when an address is given — an
 * encrypted SNS topic that e-mails every alarm and its return to OK.
 */
import { Duration, Stack } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IRule } from "aws-cdk-lib/aws-events";
import { Effect, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { COMMANDS_DEFAULTS } from "../lambda/config.ts";
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from "../lambda/handlers/metrics.ts";
import { PUBLICATION_METRIC, PUBLISH_SCHEDULE_MINUTES } from "./event-bus-rules.ts";

/**
 * The documented ceiling of the data object: 100,000 records, about 31 MB
 * with `sqlite` (docs/performance.md, "json at size"). Past it a write costs over 200 ms and
 * the commands path does about 5 writes/s; the alarm fires at 80 % of it so
 * that there is time to archive or split the data.
 */
export const OBJECT_SIZE_LIMIT_BYTES = 32 * 1024 * 1024;
export const OBJECT_SIZE_ALARM_BYTES = Math.round(OBJECT_SIZE_LIMIT_BYTES * 0.8);
/** Busy answers (nothing applied: retry) tolerated in 5 minutes before someone should look. */
export const BUSY_ANSWERS_THRESHOLD = 10;
/** API 5xx answers tolerated in 5 minutes (busy answers are 503s too). */
export const API_5XX_THRESHOLD = 10;
/**
 * A save that removes more than this share of the records alarms, by default
 * (context `recordDropAlarmPercent`). The functions remove records one command
 * at a time: half the data gone in one save is a mass deletion, a bug, or a
 * wrong file, not daily work.
 */
export const DEFAULT_RECORD_DROP_ALARM_PERCENT = 50;

/** The alarm topic key's statement that lets CloudWatch use it, for this account's alarms only. */
export const ALARM_KEY_FOR_CLOUDWATCH_SID = "CloudWatchAlarmsOfThisAccount";

/**
 * The oldest command's age that says the queue is not being consumed. A burst
 * drains in seconds (1,000 commands in about 3 s, docs/performance.md); what
 * keeps a command waiting longer is its redelivery — handed back (not found
 * yet, busy), it comes back after the visibility timeout, up to its last
 * receive: 5 × 180 s = 15 minutes, after which it is dead-lettered (and
 * alarmed) anyway. Twice that means no consumer is taking the queue (the
 * mapping disabled, the function throttled or failing before it answers) —
 * and SQS deletes a message unread after the queue's 4-day retention, silently.
 */
export const COMMANDS_OLDEST_MESSAGE_ALARM_SECONDS =
  2 * COMMANDS_DEFAULTS.maxReceiveCount * COMMANDS_DEFAULTS.visibilityTimeoutSeconds;

/** The commands path, as the alarms watch it. */
export interface CommandsAlarmSources {
  /** The queue the EventBridge rule feeds. */
  queue: IQueue;
  /** The EventBridge rule on the stack's bus. */
  rule: IRule;
  /** That bus's name: a custom bus's rule metrics carry it as a dimension beside RuleName. */
  busName: string;
  /** The rule's dead-letter queue: commands EventBridge could not put on the queue. */
  undelivered: IQueue;
}

export interface RapatriementsAlarmsProps {
  functions: readonly IFunction[];
  api: HttpApi;
  deadLetterQueue: IQueue;
  /** Percent of the records one save may remove before the RecordCountDrop alarm fires. */
  recordDropAlarmPercent: number;
  commands: CommandsAlarmSources;
  /** The change events' publisher, and the lag past which its alarm fires. */
  publication: { publisher: IFunction; lagAlarmSeconds: number };
  /** Given: an SNS topic e-mails this address on every alarm and recovery. */
  alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

export class RapatriementsAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: RapatriementsAlarmsProps) {
    super(scope, id);
    const product = (name: string, statistic: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period: FIVE_MINUTES,
      });

    this.add(
      "DeadLettersNotEmpty",
      "A command waits in the dead-letter queue (refused, or failed its last delivery): list it with npx rapatriements dead-letters, fix the cause, send it back with npx rapatriements redrive.",
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: "Maximum",
        period: FIVE_MINUTES,
      }),
      1,
    );
    for (const fn of props.functions) {
      const name = fn.node.id;
      this.add(
        `${name}Errors`,
        `${name}: an invocation failed outside the product's own answers (crash, timeout, out of memory): see its log group.`,
        fn.metricErrors({ statistic: "Sum", period: FIVE_MINUTES }),
        1,
      );
      // The publisher runs one at a time by design: a notification that
      // finds it busy waits its turn (a throttle), which is not a fault.
      if (fn === props.publication.publisher) continue;
      this.add(
        `${name}Throttles`,
        `${name}: Lambda refused invocations for lack of concurrency: raise the account's limit or lower the load.`,
        fn.metricThrottles({ statistic: "Sum", period: FIVE_MINUTES }),
        1,
      );
    }
    this.add(
      "Api5xx",
      `The API answered ${API_5XX_THRESHOLD} or more 5xx in 5 minutes: see the access log and the functions' log lines by requestId.`,
      props.api.metricServerError({ statistic: "Sum", period: FIVE_MINUTES }),
      API_5XX_THRESHOLD,
    );
    this.add(
      "BusyAnswers",
      `${BUSY_ANSWERS_THRESHOLD} or more answers "busy, retry" in 5 minutes: writers contend on the object more than it can serve.`,
      product(METRIC.busyAnswers, "Sum"),
      BUSY_ANSWERS_THRESHOLD,
    );
    this.add(
      "CommandsDeadLettered",
      "The commands function sent a command to the dead-letter queue (it can never pass, or failed its last delivery): npx rapatriements dead-letters says why.",
      product(METRIC.commandsDeadLettered, "Sum"),
      1,
    );
    this.addCommandsDelivery(props.commands);
    this.add(
      "PublicationLag",
      `A change event reached the bus more than ${props.publication.lagAlarmSeconds} s after its change was saved (the publisher runs on each new version, and every ${PUBLISH_SCHEDULE_MINUTES} minutes): consumers see changes late. Check the PublishEvents function's errors and log, the PublishSchedule rule (enabled?) and, on an adopted bucket, its notifications to EventBridge (npx rapatriements doctor). Nothing is lost yet: the data object's outbox keeps each event for its window (12 hours by default) until it is published; fix the cause within it.`,
      product(PUBLICATION_METRIC.lagMs, "Maximum"),
      props.publication.lagAlarmSeconds * 1000,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );
    this.add(
      "PublicationFailures",
      "EventBridge refused or failed change events (PutEvents): they stay in the outbox and the next run sends them again. See the PublishEvents function's log for the error code; AccessDenied means the bus policy or the function's role changed.",
      product(PUBLICATION_METRIC.failures, "Sum"),
      1,
    );
    this.add(
      "OutcomeUnknown",
      "A write's outcome could not be known (S3 lost a response): the client must retry with the same idempotency key.",
      product(METRIC.outcomeUnknown, "Sum"),
      1,
    );
    this.add(
      "ObjectSizeNearLimit",
      `The data object passed 80 % of its documented ${OBJECT_SIZE_LIMIT_BYTES / 1024 / 1024} MiB: archive old records before writes slow down.`,
      product(METRIC.objectBytes, "Maximum"),
      OBJECT_SIZE_ALARM_BYTES,
    );
    this.add(
      "RecordCountDrop",
      `One save removed more than ${props.recordDropAlarmPercent} % of the records: list the data object's versions (npx rapatriements versions) and, if it was not meant, restore the last good one (npx rapatriements restore VERSION_ID); the functions' log lines by time say who saved it.`,
      product(METRIC.recordsRemovedPercent, "Maximum"),
      props.recordDropAlarmPercent,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );

    if (props.alarmEmail !== undefined) {
      // CloudWatch can publish only to a topic whose key lets it: a key of our own.
      const key = new Key(this, "AlarmTopicKey", {
        description: "Encrypts the rapatriements alarm topic",
        enableKeyRotation: true,
      });
      // Only on behalf of this account's alarms: without the condition, the
      // service principal would act for any account's (the confused deputy).
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: ALARM_KEY_FOR_CLOUDWATCH_SID,
          effect: Effect.ALLOW,
          principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
          actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
          resources: ["*"],
          conditions: { StringEquals: { "aws:SourceAccount": Stack.of(this).account } },
        }),
      );
      this.topic = new Topic(this, "AlarmTopic", {
        displayName: "Rapatriements alarms",
        masterKey: key,
        enforceSSL: true,
      });
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      const action = new SnsAction(this.topic);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    new Dashboard(this, "Dashboard", {
      dashboardName: "rapatriements",
      widgets: [
        [
          graph("Writes under contention", [
            product(METRIC.conflicts, "Sum"),
            product(METRIC.retries, "Sum"),
            product(METRIC.busyAnswers, "Sum"),
            product(METRIC.outcomeUnknown, "Sum"),
          ]),
          graph("Cache hits (304)", [product(METRIC.cacheHits, "Sum")]),
        ],
        [
          graph("Data object", [product(METRIC.objectBytes, "Maximum")]),
          graph("Records", [
            product(METRIC.recordCount, "Maximum"),
            product(METRIC.recordsRemovedPercent, "Maximum"),
          ]),
          graph("Commands per invocation", [
            product(METRIC.batchSize, "Average"),
            product(METRIC.batchSize, "Maximum"),
          ]),
        ],
        [
          graph("Change events", [
            product(PUBLICATION_METRIC.eventsPublished, "Sum"),
            product(PUBLICATION_METRIC.failures, "Sum"),
          ]),
          graph("Publication lag (ms)", [product(PUBLICATION_METRIC.lagMs, "Maximum")]),
        ],
      ],
    });
  }

  /**
   * The ways a command can go missing before the function sees it: the rule
   * failing to put it on the queue (into the rule's dead-letter queue, or —
   * when even that fails — nowhere), or the queue not being consumed.
   */
  private addCommandsDelivery({ queue, rule, busName, undelivered }: CommandsAlarmSources): void {
    const ruleMetric = (metricName: string) =>
      new Metric({
        namespace: "AWS/Events",
        metricName,
        dimensionsMap: { EventBusName: busName, RuleName: rule.ruleName },
        statistic: "Sum",
        period: FIVE_MINUTES,
      });
    this.add(
      "CommandsRuleDeadLettersNotEmpty",
      "EventBridge could not put a command on the commands queue (its policy, the queue, or SQS failing for an hour): it is in the rule's dead-letter queue (output CommandsRuleDeadLetterQueueUrl) with EventBridge's ERROR_CODE and ERROR_MESSAGE. Fix the cause, then put each event back on the bus (docs/configuration-s3.md, « Commandes jamais arrivées dans la file »).",
      undelivered.metricApproximateNumberOfMessagesVisible({
        statistic: "Maximum",
        period: FIVE_MINUTES,
      }),
      1,
    );
    this.add(
      "CommandsRuleFailedInvocations",
      "The commands rule failed to deliver an event for good (AWS/Events FailedInvocations): look for it in the rule's dead-letter queue; if it is not there it was lost, and its producer must send it again.",
      ruleMetric("FailedInvocations"),
      1,
    );
    this.add(
      "CommandsRuleDeadLetterFailures",
      "EventBridge could put a command neither on the queue nor in the rule's dead-letter queue (InvocationsFailedToBeSentToDlq): the command is lost. Its producer must send it again; check the dead-letter queue's policy.",
      ruleMetric("InvocationsFailedToBeSentToDlq"),
      1,
    );
    this.add(
      "CommandsOldestMessageAge",
      `A command has waited ${COMMANDS_OLDEST_MESSAGE_ALARM_SECONDS / 60} minutes or more in the commands queue, twice the longest its redeliveries take: nothing is consuming the queue. Check the ApplyCommands function's event source mapping (enabled?), its throttles and errors; SQS deletes unread messages after 4 days.`,
      queue.metricApproximateAgeOfOldestMessage({ statistic: "Maximum", period: FIVE_MINUTES }),
      COMMANDS_OLDEST_MESSAGE_ALARM_SECONDS,
    );
  }

  private add(
    id: string,
    description: string,
    metric: IMetric,
    threshold: number,
    comparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  ): void {
    this.alarms.push(
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator,
        // No data is no trouble: a quiet API sends no metrics.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }
}

function graph(title: string, metrics: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left: metrics, width: 8 });
}
