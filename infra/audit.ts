/**
 * Infrastructure: the audit trail (context `audit=true`; off by default, for
 * its cost). A CloudTrail trail of data events only: every read and write of
 * the data object (S3 GetObject, PutObject, DeleteObject, HeadObject… on the
 * data key and the names that start with it), and every invocation of the
 * functions (Lambda Invoke, whoever calls: API Gateway, the queue's event
 * source mapping, or a person invoking one directly). Each event names the
 * caller, their address and the time; management events are left to the
 * account's own trail, which most organisations already have.
 *
 * The events go to a bucket of the trail's own — private, TLS only,
 * versioned, kept when the stack is deleted, written by this trail only,
 * each file covered by CloudTrail's signed digests (log file validation) —
 * and to a CloudWatch Logs group, where Logs Insights answers "who read or
 * changed the data" in one query. Both keep `logRetentionDays`.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { ReadWriteType, Trail } from "aws-cdk-lib/aws-cloudtrail";
import { Effect, PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/** The trail bucket's statement that lets no other trail (of any account) deliver into it. */
export const ONLY_THIS_TRAIL_SID = "OnlyThisTrailDelivers";

/** The context parameter `audit`, checked: on or off, nothing else. */
export function auditChoice(text: string | undefined): boolean {
  if (text === undefined || text === "false") return false;
  if (text === "true") return true;
  throw new Error(
    `context audit must be true (a CloudTrail trail of the data object's reads and writes and of the functions' invocations) or false, the default (got "${text}")`,
  );
}

export interface AuditTrailProps {
  /** The bucket of the data object. */
  dataBucket: IBucket;
  /** The data object's key: events on it and on names that start with it are recorded. */
  dataKey: string;
  /** Every function of the stack: their invocations are recorded. */
  functions: readonly IFunction[];
  /** How long the trail's files and log events are kept. */
  retention: RetentionDays;
}

export class AuditTrail extends Construct {
  readonly trail: Trail;
  readonly bucket: Bucket;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: AuditTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // A name known before the trail exists: the bucket policy must name the
    // trail's ARN, and the trail can only be created once that policy is in
    // place, so its ARN cannot come from the trail itself.
    const trailName = `${stack.stackName}-audit`;
    const trailArn = stack.formatArn({
      service: "cloudtrail",
      resource: "trail",
      resourceName: trailName,
    });

    this.bucket = new Bucket(this, "Bucket", {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: "audit-retention",
          expiration: Duration.days(props.retention),
          // A file deleted before its time stays restorable for as long.
          noncurrentVersionExpiration: Duration.days(props.retention),
        },
        { id: "audit-expired-delete-markers", expiredObjectDeleteMarker: true },
      ],
    });
    // CDK's own statements let cloudtrail.amazonaws.com write here for any
    // trail; this one keeps out every trail but ours (the confused deputy).
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: ONLY_THIS_TRAIL_SID,
        effect: Effect.DENY,
        principals: [new ServicePrincipal("cloudtrail.amazonaws.com")],
        actions: ["s3:PutObject", "s3:GetBucketAcl"],
        resources: [this.bucket.bucketArn, this.bucket.arnForObjects("*")],
        conditions: { ArnNotEquals: { "aws:SourceArn": trailArn } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: "AwsSolutions-S1",
      reason:
        "The audit trail's own log bucket: only CloudTrail writes to it. Server access logs would need a third bucket, and data events on it would record their own delivery in a loop; tampering is detected instead by CloudTrail's signed digest files (log file validation), and versioning keeps what is deleted.",
    });

    this.logGroup = new LogGroup(this, "Logs", {
      retention: props.retention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.trail = new Trail(this, "Trail", {
      trailName,
      bucket: this.bucket,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
      enableFileValidation: true,
      managementEvents: ReadWriteType.NONE,
      includeGlobalServiceEvents: false,
      isMultiRegionTrail: false,
    });
    this.trail.addS3EventSelector([{ bucket: props.dataBucket, objectPrefix: props.dataKey }], {
      readWriteType: ReadWriteType.ALL,
      includeManagementEvents: false,
    });
    this.trail.addLambdaEventSelector([...props.functions], { includeManagementEvents: false });

    new CfnOutput(stack, "AuditLogGroupName", {
      description:
        "CloudWatch Logs group of the audit trail (Logs Insights: who read or changed the data)",
      value: this.logGroup.logGroupName,
    });
    new CfnOutput(stack, "AuditBucketName", {
      description: "Bucket of the audit trail's files and digests",
      value: this.bucket.bucketName,
    });
  }
}
