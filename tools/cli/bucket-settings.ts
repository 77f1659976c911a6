/**
 * Operators' CLI: `doctor`'s checks of the bucket's own settings — default
 * encryption, versioning, the retention lifecycle rule, the public access
 * block, object ownership, notifications to EventBridge (the change events'
 * publisher runs on them) (the bucket policy's statements are in
 * bucket-policy.ts). The stack sets them all on a bucket it creates; on an
 * adopted bucket (or one made by hand) they are the team's to set, so each
 * missing one is a warning with the exact command that sets it. Reading them
 * needs permissions beyond the guide's four: a refusal makes the check "not
 * verifiable", never a failure.
 */
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  type LifecycleRule,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from "@aws-sdk/client-s3";
import { RETENTION_RULE_ID, retentionRule } from "../../infra/data-bucket-rules.ts";
import {
  eventBridgeNotificationsFix,
  PUBLISH_SCHEDULE_MINUTES,
} from "../../infra/event-bus-rules.ts";
import {
  defaultEncryption,
  objectEncryption,
  sameKmsKey,
} from "../../lambda/storage/encryption.ts";
import { attempt, type Check, notVerifiable, shellJson } from "./check.ts";

export interface Location {
  bucket: string;
  key: string;
}

/**
 * The command that gives the bucket the default encryption the application's
 * writes ask for, as the stack sets it: AES-256, or the configuration's KMS key.
 */
export function encryptionFix(bucket: string, kmsKeyId?: string): string {
  return `aws s3api put-bucket-encryption --bucket ${bucket} --server-side-encryption-configuration ${shellJson(defaultEncryption(objectEncryption(kmsKeyId)))}`;
}

export function versioningFix(bucket: string): string {
  return `aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`;
}

/**
 * The bucket's default encryption beside what the application's writes ask
 * for (each PUT names its own, which wins over the default): in order when
 * they agree — AES-256, or aws:kms with the very key S3_SSE_KMS_KEY_ID names.
 * A default that differs is a warning, not a failure: the data object is
 * encrypted either way, but not as the bucket's owner meant, or other tools'
 * objects are not encrypted as the data is.
 */
export async function checkEncryption(
  s3: S3Client,
  { bucket }: Location,
  /** The encryption S3 reported on doctor's own scratch object, when it could write one. */
  scratchEncryption: string | undefined,
  /** The configuration's S3_SSE_KMS_KEY_ID: what every write asks for (undefined: AES-256). */
  kmsKeyId?: string,
): Promise<Check> {
  const name = "chiffrement";
  const rule = await attempt(() => s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })));
  const byDefault =
    rule.value?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
  const scratch =
    scratchEncryption === undefined
      ? ""
      : ` ; l'objet de test écrit par doctor est chiffré (${scratchEncryption})`;
  const writes =
    kmsKeyId === undefined ? "AES256" : `SSE-KMS avec la clé ${kmsKeyId} (S3_SSE_KMS_KEY_ID)`;
  const algorithm = byDefault?.SSEAlgorithm;
  if (algorithm !== undefined) {
    const key = byDefault?.KMSMasterKeyID;
    const bucketSays = `chiffrement par défaut du bucket : ${algorithm}${algorithm.startsWith("aws:kms") ? ` avec la clé ${key ?? "gérée par AWS (aws/s3)"}` : ""}`;
    if (kmsKeyId === undefined && algorithm === "AES256") {
      return { name, level: "ok", detail: bucketSays };
    }
    if (
      kmsKeyId !== undefined &&
      algorithm === "aws:kms" &&
      key !== undefined &&
      sameKmsKey(key, kmsKeyId)
    ) {
      return {
        name,
        level: "ok",
        detail: `${bucketSays}, celle que nomme S3_SSE_KMS_KEY_ID : l'application écrit avec la même`,
      };
    }
    if (kmsKeyId === undefined) {
      return {
        name,
        level: "warn",
        detail: `${bucketSays}, mais S3_SSE_KMS_KEY_ID n'est pas défini : l'application demande AES256 à chaque écriture, et l'objet de données n'est donc pas chiffré avec la clé du bucket${scratch}`,
        fix: `Pour chiffrer les données avec cette clé, définissez S3_SSE_KMS_KEY_ID=${key ?? "<ARN de la clé>"} (et déployez la pile avec -c kmsKeyArn=${key ?? "<ARN de la clé>"}) ; pour garder AES-256 : ${encryptionFix(bucket)}`,
      };
    }
    return {
      name,
      level: "warn",
      detail: `${bucketSays}, mais l'application écrit en ${writes} : ce qu'un autre outil écrit dans le bucket n'est pas chiffré comme les données${scratch}`,
      fix: `Alignez le bucket sur la configuration : ${encryptionFix(bucket, kmsKeyId)}`,
    };
  }
  if (rule.code === "ServerSideEncryptionConfigurationNotFoundError") {
    return {
      name,
      level: "warn",
      detail: `pas de chiffrement par défaut sur le bucket : l'application demande ${writes} à chaque écriture, mais un autre outil pourrait y écrire en clair${scratch}`,
      fix: `Activez-le : ${encryptionFix(bucket, kmsKeyId)}`,
    };
  }
  const refused = notVerifiable(name, rule, "s3:GetEncryptionConfiguration", bucket);
  return { ...refused, detail: `${refused.detail}${scratch}` };
}

/** The bucket's versioning, as far as it can be read (s3:GetBucketVersioning may be refused). */
export async function readVersioning(s3: S3Client, bucket: string) {
  const got = await attempt(() => s3.send(new GetBucketVersioningCommand({ Bucket: bucket })));
  return { ...got, enabled: got.value?.Status === "Enabled" };
}

export async function checkVersioning(
  s3: S3Client,
  { bucket }: Location,
): Promise<{ check: Check; enabled: boolean | undefined }> {
  const name = "versionnement";
  const got = await readVersioning(s3, bucket);
  if (!got.ok) {
    return {
      check: notVerifiable(name, got, "s3:GetBucketVersioning", bucket),
      enabled: undefined,
    };
  }
  if (got.enabled) {
    return {
      check: {
        name,
        level: "ok",
        detail:
          "activé : chaque écriture garde la version précédente (npx rapatriements versions, restore)",
      },
      enabled: true,
    };
  }
  return {
    check: {
      name,
      level: "warn",
      detail: `${got.value?.Status === "Suspended" ? "suspendu" : "jamais activé"} : une version remplacée ou supprimée est perdue pour toujours (pas de restore ; un import --force effacerait les anciennes données sans retour)`,
      fix: `Activez-le : ${versioningFix(bucket)}`,
    },
    enabled: false,
  };
}

/** Whether an enabled rule covers the data key (a tag filter never matches: the object has no tags). */
function coversKey(rule: LifecycleRule, key: string): boolean {
  if (rule.Status !== "Enabled") return false;
  const filter = rule.Filter;
  if (filter?.Tag !== undefined || (filter?.And?.Tags?.length ?? 0) > 0) return false;
  const prefix = filter?.Prefix ?? filter?.And?.Prefix ?? rule.Prefix ?? "";
  return key.startsWith(prefix);
}

export async function checkLifecycle(s3: S3Client, { bucket, key }: Location): Promise<Check> {
  const name = "cycle de vie";
  const got = await attempt(() =>
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
  );
  if (!got.ok && got.code !== "NoSuchLifecycleConfiguration") {
    return notVerifiable(name, got, "s3:GetLifecycleConfiguration", bucket);
  }
  const rules = got.value?.Rules ?? [];
  const covering = rules.filter((rule) => coversKey(rule, key));
  const deleting = covering.find(
    (rule) => rule.Expiration?.Days !== undefined || rule.Expiration?.Date !== undefined,
  );
  if (deleting !== undefined) {
    return {
      name,
      level: "fail",
      detail: `la règle « ${deleting.ID ?? "sans nom"} » fait expirer l'objet de données lui-même (${deleting.Expiration?.Days === undefined ? `le ${deleting.Expiration?.Date?.toISOString()}` : `après ${deleting.Expiration.Days} jours`}) : les rapatriements disparaîtraient`,
      fix: `Restreignez le filtre de cette règle pour qu'il ne couvre plus ${key} (voir aws s3api get-bucket-lifecycle-configuration --bucket ${bucket}).`,
    };
  }
  const expiring = covering.filter((rule) => rule.NoncurrentVersionExpiration !== undefined);
  const days = expiring
    .map((rule) => rule.NoncurrentVersionExpiration?.NoncurrentDays)
    .filter((d): d is number => d !== undefined);
  // Every rule that expires earlier versions must spare the newest few, or it
  // expires them all once the object goes a while without a write (or after a
  // deletion): nothing would be left to restore.
  const newest = Math.min(
    ...expiring.map((rule) => rule.NoncurrentVersionExpiration?.NewerNoncurrentVersions ?? 0),
  );
  const missing = [
    ...(days.length === 0 ? ["expiration des versions antérieures"] : []),
    ...(days.length > 0 && newest === 0
      ? [
          "garde des dernières versions antérieures quel que soit leur âge (NewerNoncurrentVersions)",
        ]
      : []),
    ...(covering.some((rule) => rule.Expiration?.ExpiredObjectDeleteMarker === true)
      ? []
      : ["retrait des marqueurs de suppression orphelins"]),
    ...(covering.some((rule) => rule.AbortIncompleteMultipartUpload !== undefined)
      ? []
      : ["abandon des envois incomplets"]),
  ];
  if (missing.length === 0) {
    return {
      name,
      level: "ok",
      detail: `versions antérieures gardées ${Math.min(...days)} jours (fenêtre de restore), les ${newest} plus récentes quel que soit leur âge, marqueurs de suppression orphelins retirés, envois incomplets abandonnés`,
    };
  }
  // put-bucket-lifecycle-configuration replaces the whole configuration: keep the team's rules.
  const kept = rules.filter((rule) => rule.ID !== RETENTION_RULE_ID);
  return {
    name,
    level: "warn",
    detail: `${rules.length === 0 ? "aucune règle : les versions antérieures sont gardées pour toujours" : `aucune règle active sur ${key} ne fait : ${missing.join(", ")}`}`,
    fix: `Ajoutez la règle ${RETENTION_RULE_ID}${keeping(kept.length, "règle", "règles", "toute la configuration")} : aws s3api put-bucket-lifecycle-configuration --bucket ${bucket} --lifecycle-configuration ${shellJson({ Rules: [...kept, retentionRule(key)] })}`,
  };
}

/** Says that the printed command keeps what the team already has, since it replaces the whole. */
export function keeping(count: number, one: string, many: string, whole: string): string {
  if (count === 0) return "";
  const yours = count === 1 ? `votre autre ${one}` : `vos ${count} autres ${many}`;
  return ` (la commande garde ${yours} : elle remplace ${whole})`;
}

/** The public access block as the stack sets it: all four on. */
const BLOCK_ALL: Required<
  Pick<
    PublicAccessBlockConfiguration,
    "BlockPublicAcls" | "IgnorePublicAcls" | "BlockPublicPolicy" | "RestrictPublicBuckets"
  >
> = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

export function publicAccessFix(bucket: string): string {
  return `aws s3api put-public-access-block --bucket ${bucket} --public-access-block-configuration ${shellJson(BLOCK_ALL)}`;
}

export async function checkPublicAccessBlock(s3: S3Client, { bucket }: Location): Promise<Check> {
  const name = "accès public";
  const got = await attempt(() => s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })));
  if (!got.ok && got.code !== "NoSuchPublicAccessBlockConfiguration") {
    return notVerifiable(name, got, "s3:GetBucketPublicAccessBlock", bucket);
  }
  const set = got.value?.PublicAccessBlockConfiguration ?? {};
  const off = (Object.keys(BLOCK_ALL) as (keyof typeof BLOCK_ALL)[]).filter((k) => set[k] !== true);
  if (off.length === 0) {
    return { name, level: "ok", detail: "les quatre blocages de l'accès public sont actifs" };
  }
  return {
    name,
    level: "warn",
    detail: `${off.length === 4 ? "aucun blocage de l'accès public" : `inactifs : ${off.join(", ")}`} : une ACL ou une instruction de politique publique pourrait ouvrir l'objet de données à tout Internet`,
    fix: `Activez les quatre (vérifiez avant qu'aucun autre objet du bucket ne doit rester public) : ${publicAccessFix(bucket)}`,
  };
}

export function ownershipFix(bucket: string): string {
  return `aws s3api put-bucket-ownership-controls --bucket ${bucket} --ownership-controls ${shellJson({ Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] })}`;
}

export async function checkObjectOwnership(s3: S3Client, { bucket }: Location): Promise<Check> {
  const name = "propriété des objets";
  const got = await attempt(() =>
    s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })),
  );
  if (!got.ok && got.code !== "OwnershipControlsNotFoundError") {
    return notVerifiable(name, got, "s3:GetBucketOwnershipControls", bucket);
  }
  const ownership = got.value?.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
  if (ownership === "BucketOwnerEnforced") {
    return {
      name,
      level: "ok",
      detail: "BucketOwnerEnforced : ACL désactivées, le compte du bucket possède chaque objet",
    };
  }
  return {
    name,
    level: "warn",
    detail: `${ownership ?? "aucun réglage"} : les ACL comptent encore ; une ACL pourrait donner l'objet de données à lire à un autre compte, et un objet écrit par un autre compte lui appartiendrait`,
    fix: `Désactivez les ACL (vérifiez avant qu'aucun outil ne dépend d'une ACL sur ce bucket) : ${ownershipFix(bucket)}`,
  };
}

/**
 * The bucket's notifications to EventBridge: S3's `Object Created` event of
 * the data key is what runs the change events' publisher at each write.
 * Without it the publisher still runs on its schedule: events leave late,
 * none is lost — a warning. The command printed keeps the bucket's other
 * notifications, since it replaces the whole configuration.
 */
export async function checkEventBridgeNotifications(
  s3: S3Client,
  { bucket, key }: Location,
): Promise<Check> {
  const name = "notifications S3";
  const got = await attempt(() =>
    s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket })),
  );
  if (!got.ok) return notVerifiable(name, got, "s3:GetBucketNotification", bucket);
  const { $metadata: _, ...configuration } = got.value ?? { $metadata: {} };
  if (configuration.EventBridgeConfiguration !== undefined) {
    return {
      name,
      level: "ok",
      detail: `envoyées à EventBridge : chaque écriture de ${key} déclenche la publication des événements de changement`,
    };
  }
  const others = Object.keys(configuration).filter(
    (field) => (configuration as Record<string, unknown[] | undefined>)[field]?.length,
  );
  return {
    name,
    level: "warn",
    detail: `non envoyées à EventBridge : les événements de changement ne partent qu'au passage planifié du publieur (toutes les ${PUBLISH_SCHEDULE_MINUTES} minutes), pas à chaque écriture`,
    fix: `Activez-les${others.length === 0 ? "" : ` (la commande remplace toute la configuration de notifications du bucket : elle reprend les siennes, ${others.join(", ")})`} : ${eventBridgeNotificationsFix(bucket, configuration)}`,
  };
}
