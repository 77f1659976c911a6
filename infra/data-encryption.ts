/**
 * Infrastructure: how the data object is encrypted at rest. AES-256 (SSE-S3)
 * by default — the operator guide's promise — or, with context, a KMS key:
 * one the stack creates (`encryption=kms`) or one the team names
 * (`kmsKeyArn`). With a key, the bucket's default encryption uses it, the
 * functions' writes ask for it (S3_SSE_KMS_KEY_ID), and their roles may use
 * it for S3 and nothing else.
 */
import { Aws, CfnOutput, CfnRule, Fn, RemovalPolicy } from "aws-cdk-lib";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { type IKey, Key } from "aws-cdk-lib/aws-kms";
import { BucketEncryption, type BucketProps } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

/** AES-256, or a KMS key: named by its ARN, or created by the stack when none is named. */
export type DataEncryptionChoice = { kind: "aes256" } | { kind: "kms"; keyArn?: string };

/**
 * What a write of the data object needs on its key, and a read: S3 asks KMS
 * for a data key on PutObject and to decrypt it on GetObject. Nothing else
 * (no kms:Encrypt, no kms:ReEncrypt*, no kms:GenerateDataKey* wildcard).
 */
export const DATA_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"] as const;

const KEY_ARN =
  /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

/**
 * The context parameters `encryption` and `kmsKeyArn`, checked: a key ARN
 * (not an alias, which could later name another key) implies kms.
 */
export function dataEncryptionChoice(
  encryption: string | undefined,
  kmsKeyArn: string | undefined,
): DataEncryptionChoice {
  if (encryption !== undefined && encryption !== "aes256" && encryption !== "kms") {
    throw new Error(
      `context encryption must be aes256 (SSE-S3, the default) or kms (got "${encryption}")`,
    );
  }
  if (kmsKeyArn === undefined) return encryption === "kms" ? { kind: "kms" } : { kind: "aes256" };
  if (encryption === "aes256") {
    throw new Error(
      "context kmsKeyArn names a KMS key but encryption is aes256: drop encryption (the key implies kms), or drop kmsKeyArn",
    );
  }
  if (!KEY_ARN.test(kmsKeyArn)) {
    throw new Error(
      `context kmsKeyArn must be the ARN of a KMS key, arn:aws:kms:<region>:<account>:key/<key id> — not an alias, which could later name another key (got "${kmsKeyArn}")`,
    );
  }
  return { kind: "kms", keyArn: kmsKeyArn };
}

export class DataEncryption extends Construct {
  /** The key, when the data is encrypted with KMS. */
  readonly key: IKey | undefined;
  /** Whether the stack created the key (and keeps it when the stack is deleted). */
  readonly created: boolean;

  constructor(scope: Construct, id: string, choice: DataEncryptionChoice) {
    super(scope, id);
    this.created = choice.kind === "kms" && choice.keyArn === undefined;
    if (choice.kind === "aes256") {
      this.key = undefined;
    } else if (choice.keyArn === undefined) {
      this.key = new Key(this, "Key", {
        description: "Rapatriements: encrypts the data object (SSE-KMS).",
        enableKeyRotation: true,
        // The bucket is kept when the stack is deleted, and every version in it
        // needs this key to be read: deleting the key would lose the data.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    } else {
      this.key = Key.fromKeyArn(this, "Key", choice.keyArn);
      this.requireKeyInStackRegion(choice.keyArn);
    }
    if (this.key !== undefined) {
      new CfnOutput(scope, "DataKeyArn", {
        description: "The KMS key of the data object: S3_SSE_KMS_KEY_ID for the CLI",
        value: this.key.keyArn,
      });
    }
  }

  /** The bucket's default encryption; with a key, S3 Bucket Keys cut KMS calls to a few per bucket. */
  bucketProps(): Pick<BucketProps, "encryption" | "encryptionKey" | "bucketKeyEnabled"> {
    if (this.key === undefined) return { encryption: BucketEncryption.S3_MANAGED };
    return { encryption: BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true };
  }

  /** What the functions' writes ask for (lambda/config.ts); nothing for AES-256, the default. */
  environment(): Record<string, string> {
    return this.key === undefined ? {} : { S3_SSE_KMS_KEY_ID: this.key.keyArn };
  }

  /**
   * The functions' permission on the key: exactly what S3 needs to write and
   * read the data object with it, and only when S3 is the one asking
   * (kms:ViaService), so a role cannot decrypt anything else with it.
   */
  statements(): PolicyStatement[] {
    if (this.key === undefined) return [];
    return [
      new PolicyStatement({
        sid: "DataKeyThroughS3Only",
        effect: Effect.ALLOW,
        actions: [...DATA_KEY_ACTIONS],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { "kms:ViaService": `s3.${Aws.REGION}.amazonaws.com` } },
      }),
    ];
  }

  /** What an adopted bucket's default encryption should be, for the synth note. */
  describe(): string {
    if (this.key === undefined) return "AES256";
    return this.created
      ? "aws:kms with the key the stack creates (output DataKeyArn)"
      : `aws:kms with the key ${this.key.keyArn}`;
  }

  /**
   * S3 uses a KMS key only in the bucket's own region: a key from another
   * region would fail on the first write. Say so at deploy, before anything
   * is created, rather than in the functions' logs.
   */
  private requireKeyInStackRegion(keyArn: string): void {
    const region = KEY_ARN.exec(keyArn)?.[1] ?? "";
    new CfnRule(this, "KeyInStackRegion", {
      assertions: [
        {
          assert: Fn.conditionEquals(Aws.REGION, region),
          assertDescription: `kmsKeyArn names a key in ${region}: deploy the stack in ${region}, or name a key of the stack's region (S3 uses a KMS key only in its own region).`,
        },
      ],
    });
  }
}
