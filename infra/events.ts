/**
 * Infrastructure: the change events' path. The stack's own EventBridge bus
 * (commands arrive on it too) with a resource policy that says who may send
 * what; an archive of the change events for replay; the publisher function
 * with exactly the permissions it needs, run by the data object's `Object
 * Created` notification and by a schedule that catches anything missed; and,
 * as an option, a rule forwarding commands still sent to the default bus.
 */
import { Duration, Stack } from "aws-cdk-lib";
import {
  Archive,
  type CfnEventBus,
  EventBus,
  type EventPattern,
  Rule,
  RuleTargetInput,
  Schedule,
} from "aws-cdk-lib/aws-events";
import { EventBus as EventBusTarget, LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import {
  AccountPrincipal,
  AnyPrincipal,
  ArnPrincipal,
  Effect,
  type IPrincipal,
  PolicyDocument,
  PolicyStatement,
} from "aws-cdk-lib/aws-iam";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { DataEncryption } from "./data-encryption.ts";
import {
  DEFAULT_EVENT_BUS_NAME,
  EVENT_BUS_NAME_VARIABLE,
  EVENT_DETAIL_TYPES,
  EVENTS_SOURCE,
  eventBusNameProblem,
  PUBLISH_SCHEDULE_MINUTES,
} from "./event-bus-rules.ts";
import { RapatriementsFunction } from "./rapatriements-function.ts";

/** The handler module of the publisher, in lambda/handlers/. */
export const PUBLISHER_MODULE = "publish-events";
/** A publication run: a load of the data object, a few PutEvents of 10, one PUT of the position. */
const PUBLISHER_TIMEOUT_SECONDS = 60;
/**
 * How long Lambda keeps a notification's invocation it could not run yet
 * (one run at a time: the others wait). Older than two schedule periods, a
 * waiting run has nothing left to do: the schedule has published since.
 */
const PUBLISHER_MAX_EVENT_AGE = Duration.minutes(2 * PUBLISH_SCHEDULE_MINUTES);

/** Who may send commands on the bus: an account (all its principals it allows) or one role. */
export type CommandProducer = { account: string } | { roleArn: string };

/** The bus policy's statements, by Sid. */
export const BUS_POLICY_SID = {
  producers: "CommandProducersMaySendCommands",
  publisher: "PublisherMaySendChangeEvents",
  onlyPublisher: "NobodyElseMaySendChangeEvents",
} as const;

/** The change events' context parameters, as the stack takes them. */
export interface ChangeEventsChoice {
  eventBusName?: string;
  eventArchiveDays?: number;
  commandProducers?: CommandProducer[];
  forwardDefaultBusCommands?: boolean;
  publicationLagAlarmSeconds?: number;
}

/**
 * The context parameters `eventBusName`, `eventArchiveDays`,
 * `commandProducers`, `forwardDefaultBusCommands` and
 * `publicationLagAlarmSeconds`, checked; unset ones are left out (the
 * stack's defaults apply). `text` reads one, undefined when unset.
 */
export function changeEventsChoice(text: (name: string) => string | undefined): ChangeEventsChoice {
  const choice: ChangeEventsChoice = {};
  const busName = text("eventBusName");
  if (busName !== undefined) {
    const problem = eventBusNameProblem(busName);
    if (problem !== undefined) {
      throw new Error(
        `context eventBusName must be an EventBridge bus name: ${problem} (got "${busName}")`,
      );
    }
    choice.eventBusName = busName;
  }
  const days = text("eventArchiveDays");
  if (days !== undefined) {
    if (!/^\d{1,5}$/.test(days) || Number(days) < 1) {
      throw new Error(
        `context eventArchiveDays must be a whole number of days, at least 1: how long the archive keeps the change events for replay (got "${days}")`,
      );
    }
    choice.eventArchiveDays = Number(days);
  }
  const producers = text("commandProducers");
  if (producers !== undefined) choice.commandProducers = commandProducers(producers);
  const forward = text("forwardDefaultBusCommands");
  if (forward !== undefined) {
    if (forward !== "true" && forward !== "false") {
      throw new Error(
        `context forwardDefaultBusCommands must be true or false (got "${forward}"): true adds a rule on the default bus that forwards commands to the ${busName ?? DEFAULT_EVENT_BUS_NAME} bus`,
      );
    }
    choice.forwardDefaultBusCommands = forward === "true";
  }
  const lag = text("publicationLagAlarmSeconds");
  if (lag !== undefined) {
    if (!/^\d{1,6}$/.test(lag) || Number(lag) < MIN_LAG_ALARM_SECONDS) {
      throw new Error(
        `context publicationLagAlarmSeconds must be a whole number of seconds, at least ${MIN_LAG_ALARM_SECONDS} (a publisher's cold start alone takes seconds) (got "${lag}")`,
      );
    }
    choice.publicationLagAlarmSeconds = Number(lag);
  }
  return choice;
}

const MIN_LAG_ALARM_SECONDS = 60;
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** `commandProducers`: account ids and role ARNs, separated by commas. */
function commandProducers(list: string): CommandProducer[] {
  const items = list.split(",").map((item) => item.trim());
  const producers: CommandProducer[] = [];
  for (const item of items) {
    if (ACCOUNT_ID.test(item)) producers.push({ account: item });
    else if (ROLE_ARN.test(item)) producers.push({ roleArn: item });
    else {
      throw new Error(
        `context commandProducers must list AWS account ids (12 digits) or IAM role ARNs (arn:aws:iam::<account>:role/<name>), separated by commas: "${item}" is neither`,
      );
    }
  }
  return producers;
}

export interface ChangeEventsProps {
  busName: string;
  archiveDays: number;
  /** Default: the stack's own account. */
  commandProducers: readonly CommandProducer[];
  bucket: IBucket;
  dataKey: string;
  positionKey: string;
  /** The data object's variables, as every function has them. */
  environment: Record<string, string>;
  encryption: DataEncryption;
  logRetention: RetentionDays;
}

export class ChangeEvents extends Construct {
  readonly bus: EventBus;
  /**
   * The bus's ARN, written from its name: the bus's policy names the
   * publisher's role, whose policy names the bus — through the bus's own
   * attribute, that would be a circular dependency.
   */
  readonly busArn: string;
  readonly archive: Archive;
  readonly publisher: RapatriementsFunction;
  readonly objectCreatedRule: Rule;
  readonly scheduleRule: Rule;

  constructor(scope: Construct, id: string, props: ChangeEventsProps) {
    super(scope, id);
    this.bus = new EventBus(this, "Bus", {
      eventBusName: props.busName,
      description: "Rapatriements: change events out (source rapatriements), commands in",
    });
    this.busArn = Stack.of(this).formatArn({
      service: "events",
      resource: "event-bus",
      resourceName: props.busName,
    });
    // Only the change events: replaying them rebuilds a consumer. Commands
    // are not kept — a replay must never apply a command a second time.
    this.archive = new Archive(this, "Archive", {
      sourceEventBus: this.bus,
      description: `Change events (source ${EVENTS_SOURCE}) for replay`,
      eventPattern: { source: [EVENTS_SOURCE] },
      retention: Duration.days(props.archiveDays),
    });

    this.publisher = new RapatriementsFunction(scope, "PublishEvents", {
      module: PUBLISHER_MODULE,
      description: `Change events: from the data object's outbox to the ${props.busName} bus`,
      environment: {
        ...props.environment,
        [EVENT_BUS_NAME_VARIABLE]: this.bus.eventBusName,
        EVENTS_POSITION_KEY: props.positionKey,
      },
      access: { statements: this.publisherStatements(props) },
      logRetention: props.logRetention,
      timeout: Duration.seconds(PUBLISHER_TIMEOUT_SECONDS),
      // One run at a time: two would publish the same events and race on the position.
      reservedConcurrency: 1,
      maxEventAge: PUBLISHER_MAX_EVENT_AGE,
    });
    const role = this.publisher.role;
    if (role === undefined) throw new Error("the publisher function has no role");
    this.addBusPolicy(props.commandProducers, role.roleArn);

    // S3 sends the bucket's events to the account's default bus, never to ours.
    this.objectCreatedRule = new Rule(this, "DataObjectCreated", {
      description: `A new version of ${props.dataKey}: publish its outbox`,
      eventPattern: {
        source: ["aws.s3"],
        detailType: ["Object Created"],
        detail: {
          bucket: { name: [props.bucket.bucketName] },
          object: { key: [props.dataKey] },
        },
      },
      targets: [new LambdaFunction(this.publisher)],
    });
    this.scheduleRule = new Rule(this, "PublishSchedule", {
      description: `Every ${PUBLISH_SCHEDULE_MINUTES} minutes: publish what a notification missed`,
      schedule: Schedule.rate(Duration.minutes(PUBLISH_SCHEDULE_MINUTES)),
      targets: [new LambdaFunction(this.publisher, { event: RuleTargetInput.fromObject({}) })],
    });
  }

  /**
   * A rule on the account's default bus that sends the commands pattern on
   * to our bus: for producers that still put commands there. What it cannot
   * deliver goes to `deadLetters`, as the commands rule's does.
   */
  forwardDefaultBusCommands(pattern: EventPattern, deadLetters: IQueue): Rule {
    return new Rule(this, "ForwardDefaultBusCommands", {
      description: `Commands still sent to the default bus: forwarded to ${this.bus.eventBusName}`,
      eventPattern: pattern,
      targets: [new EventBusTarget(this.bus, { deadLetterQueue: deadLetters })],
    });
  }

  /**
   * What the publisher does, and nothing more: read the data object (Get,
   * and Head, which GetObject covers) and its own position object, write
   * only the position; put only change events, only on our bus.
   */
  private publisherStatements(props: ChangeEventsProps): PolicyStatement[] {
    return [
      new PolicyStatement({
        sid: "ReadTheDataAndThePosition",
        effect: Effect.ALLOW,
        actions: ["s3:GetObject"],
        resources: [
          props.bucket.arnForObjects(props.dataKey),
          props.bucket.arnForObjects(props.positionKey),
        ],
      }),
      new PolicyStatement({
        sid: "WriteThePositionOnly",
        effect: Effect.ALLOW,
        actions: ["s3:PutObject"],
        resources: [props.bucket.arnForObjects(props.positionKey)],
      }),
      // Without it S3 answers a missing object (the position before the
      // first run, the data before the first write) 403, not 404 NoSuchKey.
      new PolicyStatement({
        sid: "MissingObjectsAreNotFound",
        effect: Effect.ALLOW,
        actions: ["s3:ListBucket"],
        resources: [props.bucket.bucketArn],
      }),
      new PolicyStatement({
        sid: "PutChangeEventsOnTheBus",
        effect: Effect.ALLOW,
        actions: ["events:PutEvents"],
        resources: [this.busArn],
        conditions: {
          StringEquals: {
            "events:source": EVENTS_SOURCE,
            "events:detail-type": [...EVENT_DETAIL_TYPES],
          },
        },
      }),
      ...props.encryption.statements(),
    ];
  }

  /**
   * Sending commands is a grant on this bus: the producers named (by
   * default the stack's own account) may put any event but a change event;
   * the publisher's role may put change events; and nobody else may, whatever
   * their IAM policies allow (an explicit deny), so a consumer can trust
   * `source: rapatriements`. One document on the bus itself (its Policy),
   * rather than one resource per statement: the policy changes as a whole.
   */
  private addBusPolicy(producers: readonly CommandProducer[], publisherRoleArn: string): void {
    const principals: IPrincipal[] = producers.map((p) =>
      "account" in p ? new AccountPrincipal(p.account) : new ArnPrincipal(p.roleArn),
    );
    const policy = new PolicyDocument();
    policy.addStatements(
      new PolicyStatement({
        sid: BUS_POLICY_SID.producers,
        effect: Effect.ALLOW,
        principals,
        actions: ["events:PutEvents"],
        resources: [this.busArn],
        conditions: { StringNotEquals: { "events:source": EVENTS_SOURCE } },
      }),
      new PolicyStatement({
        sid: BUS_POLICY_SID.publisher,
        effect: Effect.ALLOW,
        principals: [new ArnPrincipal(publisherRoleArn)],
        actions: ["events:PutEvents"],
        resources: [this.busArn],
        conditions: { StringEquals: { "events:source": EVENTS_SOURCE } },
      }),
      new PolicyStatement({
        sid: BUS_POLICY_SID.onlyPublisher,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["events:PutEvents"],
        resources: [this.busArn],
        conditions: {
          StringEquals: { "events:source": EVENTS_SOURCE },
          ArnNotEquals: { "aws:PrincipalArn": publisherRoleArn },
        },
      }),
    );
    (this.bus.node.defaultChild as CfnEventBus).policy = policy;
  }
}
