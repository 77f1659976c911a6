/**
 * Infrastructure: the stack `RapatriementsStack`. The bucket that holds the one
 * data object (encrypted, versioned, private, TLS only, conditional writes
 * required and deletes refused on the data key), the operator guide's IAM
 * policy, one function for every HTTP route (a router over the routes'
 * modules) and one for commands, the HTTP API with authorization on every
 * route, and the change events' bus and publisher (events.ts).
 */
import {
  Annotations,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  type HttpMethod,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Rule } from "aws-cdk-lib/aws-events";
import { SqsQueue } from "aws-cdk-lib/aws-events-targets";
import { AnyPrincipal, Effect, ManagedPolicy, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  BlockPublicAccess,
  Bucket,
  type CfnBucket,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { COMMANDS_DEFAULTS, type StorageStrategy } from "../lambda/config.ts";
import {
  type Access,
  COMMAND_DETAIL_TYPE,
  COMMAND_SOURCE,
  COMMANDS_BATCH_SIZE,
  COMMANDS_MODULE,
  DEFAULT_SCOPES,
  HTTP_FUNCTION_MODULE,
  HTTP_ROUTES,
  type HttpRoute,
  routeKey,
  type Scopes,
} from "../lambda/handlers/routes.ts";
import { DEFAULT_RECORD_DROP_ALARM_PERCENT, RapatriementsAlarms } from "./alarms.ts";
import { AuditTrail } from "./audit.ts";
import { corsPreflight } from "./cors.ts";
import {
  ABORT_INCOMPLETE_UPLOAD_DAYS,
  CONDITIONAL_WRITES_CONDITION,
  CONDITIONAL_WRITES_SID,
  DELETE_PROTECTION_ACTIONS,
  DELETE_PROTECTION_SID,
  KEPT_NONCURRENT_VERSIONS,
  RETENTION_RULE_ID,
  TLS_ONLY_SID,
} from "./data-bucket-rules.ts";
import { DataEncryption, type DataEncryptionChoice } from "./data-encryption.ts";
import {
  DEFAULT_EVENT_ARCHIVE_DAYS,
  DEFAULT_EVENT_BUS_NAME,
  DEFAULT_PUBLICATION_LAG_ALARM_SECONDS,
  eventBridgeNotificationsFix,
  eventsPositionKey,
  PUBLISH_SCHEDULE_MINUTES,
} from "./event-bus-rules.ts";
import { ChangeEvents, type CommandProducer } from "./events.ts";
import { accessLogFields, DEFAULT_LOG_RETENTION_DAYS } from "./logs.ts";
import { RapatriementsFunction } from "./rapatriements-function.ts";

export interface RapatriementsStackProps extends StackProps {
  /** A fixed bucket name; default: one CloudFormation generates. */
  bucketName?: string;
  /**
   * Adopt this existing bucket instead of creating one. The stack cannot set
   * an adopted bucket's own settings: it says so at synth, and `doctor` checks them.
   */
  existingBucketName?: string;
  /** The data object's key in the bucket; default `dataKey(storageStrategy)`. */
  dataKey?: string;
  /** Days an earlier version of the data object stays restorable (the lifecycle rule). */
  noncurrentVersionDays: number;
  storageStrategy: StorageStrategy;
  /** Both given: a JWT authorizer on every route. Otherwise IAM (SigV4) on every route. */
  jwtIssuer?: string;
  jwtAudience?: string[];
  /** The JWT scopes of read and write routes; default `DEFAULT_SCOPES`. */
  jwtScopes?: Scopes;
  throttleRateLimit: number;
  throttleBurstLimit: number;
  /** The HTTP function's reserved concurrency; undefined: none. See httpReservedConcurrencyFor. */
  httpReservedConcurrency?: number | undefined;
  /** The commands function's reserved concurrency; undefined: none. See COMMANDS_RESERVED_CONCURRENCY. */
  commandsReservedConcurrency?: number | undefined;
  /** Origins a browser may call the API from; none (no CORS) by default. */
  allowedOrigins?: string[];
  /** Given: the alarms e-mail this address through an SNS topic. */
  alarmEmail?: string;
  /** How the data object is encrypted at rest; default AES-256 (SSE-S3), the guide's promise. */
  dataEncryption?: DataEncryptionChoice;
  /** How long every log group keeps its lines; default a year. */
  logRetention?: RetentionDays;
  /** A CloudTrail trail of the data object's reads and writes and the functions' invocations. */
  audit?: boolean;
  /** One save removing more than this percent of the records alarms; default 50. */
  recordDropAlarmPercent?: number;
  /** The custom bus's name; default `rapatriements`. */
  eventBusName?: string;
  /** Days the archive keeps the change events; default 90. */
  eventArchiveDays?: number;
  /** Who may send commands on the bus; default the stack's own account. */
  commandProducers?: readonly CommandProducer[];
  /** Also forward the commands still sent to the account's default bus. */
  forwardDefaultBusCommands?: boolean;
  /** Publication lag, in seconds, past which the PublicationLag alarm fires; default 900. */
  publicationLagAlarmSeconds?: number;
}

/** Deliveries of a command message before it moves to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = COMMANDS_DEFAULTS.maxReceiveCount;
const COMMANDS_TIMEOUT_SECONDS = 30;
/** Six times the function's timeout, as Lambda's SQS integration advises. */
const COMMANDS_VISIBILITY_TIMEOUT_SECONDS = COMMANDS_DEFAULTS.visibilityTimeoutSeconds;

/**
 * How the commands function reads its queue. Every consumer contends on the
 * one data object, so more containers only add conflicts: at most
 * COMMANDS_MAX_CONCURRENCY of them (2, the least SQS allows) read at once, and
 * a burst makes the batches grow instead — up to COMMANDS_BATCH_SIZE commands
 * gathered for up to COMMANDS_BATCH_WINDOW_SECONDS, applied as one load and
 * one PUT. A batch of 100 applies in well under a second at 10,000 records,
 * far inside the 30 s timeout (see docs/performance.md, "The commands burst").
 */
export const COMMANDS_MAX_CONCURRENCY = 2;
export { COMMANDS_BATCH_SIZE };
export const COMMANDS_BATCH_WINDOW_SECONDS = 2;

/**
 * The commands function's reserved concurrency by default: its queue's
 * consumers, which must always find room (Lambda throttles the queue's
 * deliveries when the reservation is below the mapping's maximum
 * concurrency), and 3 more for direct invocations; and the ceiling that keeps
 * a flood of direct invocations from taking the account's pool.
 */
export const COMMANDS_RESERVED_CONCURRENCY = COMMANDS_MAX_CONCURRENCY + 3;

/**
 * The HTTP function's reserved concurrency by default: as many executions as
 * the stage's throttle can keep busy at once. API Gateway lets in at most
 * `burst` requests at one instant, then `rate` per second; a warm invocation
 * lasts well under a second and a cold one about a second
 * (docs/performance.md, "Cold start"), so `burst + rate` covers a full burst of cold starts. With
 * fewer, Lambda would refuse requests the stage accepted, and an HTTP API
 * answers a Lambda throttle with a 500, where the stage's own refusal is a
 * 429 a client knows to retry. The reservation also caps what reaches the
 * function outside the stage's throttle (a direct invocation, another
 * integration) and keeps the account's other functions from starving it.
 */
export function httpReservedConcurrencyFor(throttle: { rate: number; burst: number }): number {
  return Math.ceil(throttle.burst + throttle.rate);
}

/**
 * How long EventBridge keeps trying to put a command on the queue before it
 * sends it to the rule's dead-letter queue: an hour, not its default day.
 * Only SQS's passing failures (throttling, 5xx) are retried, and they pass in
 * seconds or minutes; a refusal (policy, missing queue) goes to the
 * dead-letter queue at once. Meanwhile a retried command is seen by no
 * alarm, so a shorter wait brings a lasting failure to one sooner.
 */
export const RULE_MAX_EVENT_AGE_SECONDS = 3600;
/** EventBridge's most; within the hour, the age above is what ends the retries. */
export const RULE_RETRY_ATTEMPTS = 185;

/** The commands path's parts that the alarms watch. */
export interface CommandsPath {
  queue: Queue;
  /** Commands the function refused for good, or that failed their last delivery. */
  deadLetters: Queue;
  rule: Rule;
  /** The bus the rule is on. */
  busName: string;
  /** Commands EventBridge could not put on the queue, or forward from the default bus. */
  undelivered: Queue;
  /** With forwardDefaultBusCommands: the default bus's rule that sends commands on to ours. */
  forwarding?: Rule;
}

/**
 * The scopes a route accepts, any one of which lets a token in (API Gateway
 * needs one match): a write token may also read, a read token may not write.
 */
/** The queue policy's statement that lets no one but the EventBridge rule send to the commands queue, or to the rule's dead-letter queue. */
export const COMMANDS_FROM_RULE_ONLY_SID = "CommandsFromTheRuleOnly";
/** The queue policy's statement that lets no one but the commands function's role receive from it. */
export const COMMANDS_READ_BY_FUNCTION_ONLY_SID = "CommandsReadByTheFunctionOnly";

export function routeScopes(access: Access, scopes: Scopes): string[] {
  return access === "read" ? [scopes.read, scopes.write] : [scopes.write];
}

/** The data object's key inside the bucket. */
export function dataKey(strategy: StorageStrategy): string {
  return `rapatriements/rapatriements.${strategy === "json" ? "json" : "db"}`;
}

export class RapatriementsStack extends Stack {
  readonly bucket: IBucket;
  /** Set when the stack created the bucket; undefined for an adopted bucket. */
  readonly ownBucket: Bucket | undefined;
  readonly dataKey: string;
  readonly dataPolicy: ManagedPolicy;
  /** With IAM: what an administrator attaches to a caller who only reads, or reads and writes. */
  readonly callerPolicies: { read: ManagedPolicy; readWrite: ManagedPolicy } | undefined;
  readonly api: HttpApi;
  readonly functions: RapatriementsFunction[] = [];
  readonly commandsQueue: Queue;
  readonly changeEvents: ChangeEvents;
  readonly alarms: RapatriementsAlarms;

  constructor(scope: Construct, id: string, props: RapatriementsStackProps) {
    super(scope, id, props);
    const key = props.dataKey ?? dataKey(props.storageStrategy);
    this.dataKey = key;
    const encryption = new DataEncryption(
      this,
      "DataEncryption",
      props.dataEncryption ?? { kind: "aes256" },
    );

    if (props.existingBucketName === undefined) {
      this.ownBucket = this.createBucket(props, key, encryption);
      this.bucket = this.ownBucket;
    } else {
      this.ownBucket = undefined;
      this.bucket = Bucket.fromBucketName(this, "DataBucket", props.existingBucketName);
      Annotations.of(this).addWarningV2(
        "rapatriements:adopted-bucket",
        adoptedBucketNote(
          props.existingBucketName,
          key,
          props.noncurrentVersionDays,
          encryption.describe(),
          props.eventBusName ?? DEFAULT_EVENT_BUS_NAME,
        ),
      );
    }

    // Exactly the operator guide's statement; not grantReadWrite, which grants
    // more. With a KMS key, beside it, the key's statement: what the app needs.
    this.dataPolicy = new ManagedPolicy(this, "DataAccessPolicy", {
      description: `Rapatriements data: the four S3 actions of the operator guide, on the bucket only${encryption.key === undefined ? "" : "; the data key, through S3 only"}.`,
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"],
          resources: [this.bucket.bucketArn, this.bucket.arnForObjects("*")],
        }),
        ...encryption.statements(),
      ],
    });

    const environment = {
      S3_RAPPATRIMENT_FILE_PATH: `s3://${this.bucket.bucketName}/${key}`,
      STORAGE_STRATEGY: props.storageStrategy,
      ...encryption.environment(),
    };

    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION_DAYS;
    // Kept when the stack is deleted: the record of who was refused outlives the API.
    const accessLogs = new LogGroup(this, "ApiAccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const authorizer: IHttpRouteAuthorizer =
      props.jwtIssuer !== undefined && props.jwtAudience !== undefined
        ? new HttpJwtAuthorizer("JwtAuthorizer", props.jwtIssuer, {
            jwtAudience: props.jwtAudience,
          })
        : new HttpIamAuthorizer();
    const jwt = authorizer instanceof HttpJwtAuthorizer;
    const scopes = props.jwtScopes ?? DEFAULT_SCOPES;
    this.api = new HttpApi(this, "HttpApi", {
      apiName: "rapatriements",
      description: "Rapatriements: returns of stock between sites.",
      defaultAuthorizer: authorizer,
      createDefaultStage: false,
      corsPreflight: corsPreflight(props.allowedOrigins ?? []),
    });
    this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRateLimit, burstLimit: props.throttleBurstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(accessLogFields(jwt ? "jwt" : "iam"))),
      },
    });

    // One function for every route: one warm pool and one cached copy of the
    // data object, where five functions would each go cold and download the
    // object after the others' writes far more often (docs/architecture.md,
    // "Why one HTTP function").
    const http = new RapatriementsFunction(this, functionId(HTTP_FUNCTION_MODULE), {
      module: HTTP_FUNCTION_MODULE,
      description: `HTTP API: ${HTTP_ROUTES.map(routeKey).join(", ")}`,
      // The function refuses any event whose requestContext.apiId is not this
      // API's: a mistaken direct invocation writes nothing (http-router.ts).
      environment: { ...environment, HTTP_API_ID: this.api.apiId },
      access: { dataPolicy: this.dataPolicy },
      logRetention,
      reservedConcurrency: props.httpReservedConcurrency,
    });
    this.functions.push(http);
    // CDK gives each route's path its own invoke permission on the function.
    const integration = new HttpLambdaIntegration(
      `${functionId(HTTP_FUNCTION_MODULE)}Integration`,
      http,
    );
    for (const route of HTTP_ROUTES) {
      this.api.addRoutes({
        path: route.path,
        methods: [route.method as HttpMethod],
        integration,
        // API Gateway refuses scopes on a route that IAM authorizes.
        ...(jwt ? { authorizationScopes: routeScopes(route.access, scopes) } : {}),
      });
    }
    this.callerPolicies = jwt ? undefined : this.addCallerPolicies();

    this.changeEvents = new ChangeEvents(this, "ChangeEvents", {
      busName: props.eventBusName ?? DEFAULT_EVENT_BUS_NAME,
      archiveDays: props.eventArchiveDays ?? DEFAULT_EVENT_ARCHIVE_DAYS,
      commandProducers: props.commandProducers ?? [{ account: this.account }],
      bucket: this.bucket,
      dataKey: key,
      positionKey: eventsPositionKey(key),
      environment,
      encryption,
      logRetention,
    });
    this.functions.push(this.changeEvents.publisher);

    const commands = this.addCommands(environment, logRetention, {
      reservedConcurrency: props.commandsReservedConcurrency,
      forwardDefaultBus: props.forwardDefaultBusCommands === true,
    });
    this.commandsQueue = commands.queue;

    this.alarms = new RapatriementsAlarms(this, "Alarms", {
      functions: this.functions,
      api: this.api,
      deadLetterQueue: commands.deadLetters,
      recordDropAlarmPercent: props.recordDropAlarmPercent ?? DEFAULT_RECORD_DROP_ALARM_PERCENT,
      commands,
      publication: {
        publisher: this.changeEvents.publisher,
        lagAlarmSeconds: props.publicationLagAlarmSeconds ?? DEFAULT_PUBLICATION_LAG_ALARM_SECONDS,
      },
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });
    if (props.alarmEmail === undefined) {
      Annotations.of(this).addWarningV2(
        "rapatriements:no-alarm-destination",
        noAlarmDestinationNote(this.alarms.alarms.length),
      );
    }

    if (props.audit === true) {
      new AuditTrail(this, "Audit", {
        dataBucket: this.bucket,
        dataKey: key,
        functions: this.functions,
        retention: logRetention,
      });
    }

    new CfnOutput(this, "ApiUrl", { value: this.api.apiEndpoint });
    // What an SCP or permission boundary names to deny direct invocation
    // (docs/deploy.md, "Security").
    new CfnOutput(this, "HttpFunctionName", { value: http.functionName });
    new CfnOutput(this, "DataObject", { value: `s3://${this.bucket.bucketName}/${key}` });
    new CfnOutput(this, "DataPolicyArn", { value: this.dataPolicy.managedPolicyArn });
    new CfnOutput(this, "EventBusName", { value: this.changeEvents.bus.eventBusName });
    new CfnOutput(this, "EventBusArn", { value: this.changeEvents.bus.eventBusArn });
    new CfnOutput(this, "EventArchiveName", { value: this.changeEvents.archive.archiveName });
    // What an operator invokes to publish at once (the French guide, « Alarme PublicationLag »).
    new CfnOutput(this, "PublisherFunctionName", {
      value: this.changeEvents.publisher.functionName,
    });

    this.acknowledgeNagFindings();
  }

  /**
   * With IAM authorization, two managed policies for the API's callers, so
   * that an administrator attaches one to a role or group and never writes
   * an execute-api ARN by hand: read-only (the GET routes) and read-write
   * (every route). Both are read from HTTP_ROUTES, as the routes are.
   */
  private addCallerPolicies(): { read: ManagedPolicy; readWrite: ManagedPolicy } {
    const apiId = `<${this.getLogicalId(this.api.node.defaultChild as CfnElement)}>`;
    const policy = (id: string, description: string, routes: readonly HttpRoute[]) => {
      const caller = new ManagedPolicy(this, id, {
        description,
        statements: [
          new PolicyStatement({
            effect: Effect.ALLOW,
            actions: ["execute-api:Invoke"],
            // Stage * (the API has one, $default); a path parameter is * (any id).
            resources: routes.map((r) => this.api.arnForExecuteApi(r.method, iamPath(r), "*")),
          }),
        ],
      });
      new CfnOutput(this, `${id}Arn`, { value: caller.managedPolicyArn });
      for (const route of routes) {
        Validations.of(caller).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiId}/*/${route.method}${iamPath(route)}]`,
          reason:
            "One route of this API: the stage is * (the API has one stage, $default) and a path parameter such as {id} is * (any record), as execute-api ARNs write them; no other API or route is reachable.",
        });
      }
      return caller;
    };
    return {
      read: policy(
        "ApiReadPolicy",
        "Rapatriements API: read only (GET routes). Attach to whoever only looks.",
        HTTP_ROUTES.filter((route) => route.access === "read"),
      ),
      readWrite: policy(
        "ApiReadWritePolicy",
        "Rapatriements API: read and write (every route). Attach to planners.",
        HTTP_ROUTES,
      ),
    };
  }

  /**
   * The data bucket: encrypted, versioned, private, TLS only, kept when the
   * stack is deleted; earlier versions expire after the restore window, the
   * newest few excepted; the data object can be neither deleted nor purged.
   */
  private createBucket(
    props: RapatriementsStackProps,
    key: string,
    encryption: DataEncryption,
  ): Bucket {
    const bucket = new Bucket(this, "DataBucket", {
      ...(props.bucketName === undefined ? {} : { bucketName: props.bucketName }),
      ...encryption.bucketProps(),
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Every write keeps the previous object as a version: without this rule
      // the bucket grows with traffic, forever. Same rule as `doctor` checks.
      lifecycleRules: [
        {
          id: RETENTION_RULE_ID,
          prefix: key,
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays),
          // Whatever their age: there is always something to restore.
          noncurrentVersionsToRetain: KEPT_NONCURRENT_VERSIONS,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_UPLOAD_DAYS),
        },
      ],
    });
    // The publisher runs on each new version of the data object: S3 tells
    // EventBridge. Set on the bucket's own resource, not through CDK's
    // notifications custom resource (a function of its own, with
    // s3:PutBucketNotification on every bucket).
    (bucket.node.defaultChild as CfnBucket).notificationConfiguration = {
      eventBridgeConfiguration: { eventBridgeEnabled: true },
    };
    // A PUT of the data object without If-Match or If-None-Match could
    // overwrite a write it never saw: refuse it, whoever sends it.
    bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: CONDITIONAL_WRITES_SID,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ["s3:PutObject"],
        resources: [bucket.arnForObjects(key)],
        conditions: CONDITIONAL_WRITES_CONDITION,
      }),
    );
    // One delete would hide the data behind a delete marker; one delete of a
    // version would erase a restore point: refused on the data key, whoever asks.
    bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: DELETE_PROTECTION_SID,
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: DELETE_PROTECTION_ACTIONS,
        resources: [bucket.arnForObjects(key)],
      }),
    );
    Validations.of(bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "One object, written only by these functions; versioning keeps every version, and the audit option (context audit=true) records every read and write of it as CloudTrail data events, naming the caller. Server access logs would need a second bucket, and S3 delivers them on a best-effort basis, where the trail's files are complete and signed (log file validation).",
    });
    return bucket;
  }

  /**
   * Commands from events: an EventBridge rule on the stack's bus feeds an
   * encrypted queue; its messages reach the commands function in batches, each
   * batch one transaction on the data object. A command that can never pass,
   * or fails its last delivery, is sent by the function to the dead-letter
   * queue with its reason; a message the function never answered
   * MAX_RECEIVE_COUNT times is moved there by SQS. A command EventBridge
   * could not put on the queue goes to the rule's own dead-letter queue.
   *
   * Only the rule may send to the queue and only the function's role may
   * receive from it, whatever IAM policies the account holds (explicit
   * denies): so a message's EventBridge envelope is EventBridge's, and a
   * receipt handle exists only in a delivery the event source mapping made,
   * which is what the function asks SQS to confirm before it applies a record.
   *
   * With `forwardDefaultBus`, a rule on the account's default bus sends the
   * same commands on to the stack's bus, for producers not yet moved.
   */
  private addCommands(
    environment: Record<string, string>,
    logRetention: RetentionDays,
    options: { reservedConcurrency: number | undefined; forwardDefaultBus: boolean },
  ): CommandsPath {
    const deadLetters = this.deadLetterQueue("CommandsDeadLetterQueue");
    // What EventBridge could not put on the queue (its policy refused, the
    // queue was gone, SQS kept failing past the retry policy) lands here with
    // EventBridge's error, instead of being dropped.
    const undelivered = this.deadLetterQueue("CommandsRuleDeadLetterQueue");
    Validations.of(undelivered).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is a dead-letter queue: the EventBridge rule's target sends it what it could not deliver (the target's DeadLetterConfig, which cdk-nag does not recognise as SQS's own redrive). A dead-letter queue needs none of its own; its first message raises an alarm.",
    });
    const queue = new Queue(this, "CommandsQueue", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(COMMANDS_VISIBILITY_TIMEOUT_SECONDS),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const fn = new RapatriementsFunction(this, "ApplyCommands", {
      module: COMMANDS_MODULE,
      description: "Commands from the EventBridge rule's queue, or by direct invocation",
      environment: {
        ...environment,
        COMMANDS_QUEUE_URL: queue.queueUrl,
        COMMANDS_QUEUE_ARN: queue.queueArn,
        COMMANDS_DEAD_LETTER_QUEUE_URL: deadLetters.queueUrl,
        COMMANDS_MAX_RECEIVE_COUNT: String(MAX_RECEIVE_COUNT),
        COMMANDS_VISIBILITY_TIMEOUT_SECONDS: String(COMMANDS_VISIBILITY_TIMEOUT_SECONDS),
      },
      access: { dataPolicy: this.dataPolicy },
      logRetention,
      timeout: Duration.seconds(COMMANDS_TIMEOUT_SECONDS),
      reservedConcurrency: options.reservedConcurrency,
    });
    this.functions.push(fn);
    deadLetters.grantSendMessages(fn);
    fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: COMMANDS_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(COMMANDS_BATCH_WINDOW_SECONDS),
        maxConcurrency: COMMANDS_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );
    const pattern = { source: [COMMAND_SOURCE], detailType: [COMMAND_DETAIL_TYPE] };
    const rule = new Rule(this, "CommandsRule", {
      description: `Rapatriement commands: source ${COMMAND_SOURCE}, detail-type ${COMMAND_DETAIL_TYPE}`,
      eventBus: this.changeEvents.bus,
      eventPattern: pattern,
      targets: [
        new SqsQueue(queue, {
          deadLetterQueue: undelivered,
          retryAttempts: RULE_RETRY_ATTEMPTS,
          maxEventAge: Duration.seconds(RULE_MAX_EVENT_AGE_SECONDS),
        }),
      ],
    });
    const forwarding = options.forwardDefaultBus
      ? this.changeEvents.forwardDefaultBusCommands(pattern, undelivered)
      : undefined;
    // Whatever else IAM allows: a message there is the rule's, so an operator
    // who puts it back on the bus lends their authority to nobody else's command.
    denyAllBut(queue, COMMANDS_FROM_RULE_ONLY_SID, "sqs:SendMessage", {
      "aws:SourceArn": rule.ruleArn,
    });
    denyAllBut(undelivered, COMMANDS_FROM_RULE_ONLY_SID, "sqs:SendMessage", {
      "aws:SourceArn": forwarding === undefined ? rule.ruleArn : [rule.ruleArn, forwarding.ruleArn],
    });
    const consumer = fn.role;
    if (consumer === undefined) throw new Error("the commands function has no role");
    denyAllBut(queue, COMMANDS_READ_BY_FUNCTION_ONLY_SID, "sqs:ReceiveMessage", {
      "aws:PrincipalArn": consumer.roleArn,
    });
    new CfnOutput(this, "CommandsQueueUrl", { value: queue.queueUrl });
    new CfnOutput(this, "CommandsDeadLetterQueueUrl", { value: deadLetters.queueUrl });
    new CfnOutput(this, "CommandsRuleDeadLetterQueueUrl", { value: undelivered.queueUrl });
    new CfnOutput(this, "CommandsFunctionName", { value: fn.functionName });
    return {
      queue,
      deadLetters,
      rule,
      busName: this.changeEvents.bus.eventBusName,
      undelivered,
      ...(forwarding ? { forwarding } : {}),
    };
  }

  /** A dead-letter queue: encrypted, TLS only, its messages kept 14 days (SQS's most). */
  private deadLetterQueue(id: string): Queue {
    return new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /** cdk-nag's AwsSolutions findings that are choices, each acknowledged with its reason. */
  private acknowledgeNagFindings(): void {
    const bucketArn =
      this.ownBucket === undefined
        ? `arn:<AWS::Partition>:s3:::${this.bucket.bucketName}`
        : "<DataBucketE3889A50.Arn>";
    Validations.of(this.dataPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
      reason:
        "The operator guide's documented policy: the data object's key is configuration, so the statement covers bucket/* as the guide says; no other bucket is reachable.",
    });
  }
}

/** What synth says when the alarms have no destination: they would fire unseen. */
export function noAlarmDestinationNote(alarms: number): string {
  return [
    `No alarm destination: the ${alarms} alarms change state in CloudWatch and notify no one,`,
    "so a command dead-lettered or never delivered, a crash or a throttle goes unseen.",
    "Give -c alarmEmail=ops@example.org (an encrypted SNS topic e-mails every alarm and its return to OK),",
    "or send the alarms to your own paging.",
  ].join(" ");
}

/** What the team must check on a bucket the stack adopts but cannot configure. */
export function adoptedBucketNote(
  bucket: string,
  key: string,
  noncurrentDays: number,
  defaultEncryption = "AES256",
  eventBusName = DEFAULT_EVENT_BUS_NAME,
): string {
  return [
    `Adopted bucket ${bucket}: the stack neither creates nor changes it, so its own settings stay as they are.`,
    `Check them (npx rapatriements doctor does, and prints the command that fixes each):`,
    `default encryption (${defaultEncryption});`,
    `versioning Enabled (restore needs it);`,
    `the lifecycle rule ${RETENTION_RULE_ID} on ${key} (earlier versions expire after ${noncurrentDays} days, the ${KEPT_NONCURRENT_VERSIONS} newest whatever their age, expired delete markers removed, incomplete uploads aborted);`,
    `all four public access blocks on; object ownership BucketOwnerEnforced;`,
    `the bucket policy statements ${TLS_ONLY_SID} (refuses plain HTTP on ${key}*), ${CONDITIONAL_WRITES_SID} (refuses a PUT of ${key} with neither If-Match nor If-None-Match) and ${DELETE_PROTECTION_SID} (refuses s3:DeleteObject and s3:DeleteObjectVersion on ${key}: one delete would otherwise hide the data behind a delete marker).`,
    `Notifications to EventBridge on (the change events' publisher runs on each new version of ${key}; without them only its ${PUBLISH_SCHEDULE_MINUTES}-minute schedule does, later): ${eventBridgeNotificationsFix(bucket)}, which replaces the bucket's whole notification configuration (keep the team's own in the same document). Change events go to the ${eventBusName} bus.`,
    `A data file an earlier application wrote at ${key} is refused by the functions until it is converted: npx rapatriements import s3://${bucket}/${key}.`,
  ].join(" ");
}

/**
 * An explicit deny of `action` on `queue` to everyone but the ARN `only`
 * names: no IAM policy in the account can lift it.
 */
function denyAllBut(
  queue: Queue,
  sid: string,
  action: string,
  only: Record<string, string | string[]>,
): void {
  queue.addToResourcePolicy(
    new PolicyStatement({
      sid,
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: [action],
      resources: [queue.queueArn],
      conditions: { ArnNotEquals: only },
    }),
  );
}

/** A route's path as an execute-api ARN matches it: `{id}` is `*`. */
function iamPath(route: HttpRoute): string {
  return route.path.replace(/\{[^}]+\}/g, "*");
}

function functionId(module: string): string {
  return module
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
}
