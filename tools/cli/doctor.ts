/**
 * Operators' CLI: `rapatriements doctor` runs the operator guide's
 * troubleshooting in order — configuration, credentials, bucket and region,
 * each documented permission, the bucket's own settings (encryption,
 * versioning, lifecycle rule, public access block, object ownership,
 * notifications to EventBridge, and the
 * bucket policy's TLS-only, conditional-write and no-delete statements), the
 * data object — one line per
 * check with the fix to apply. Exit code 0 when nothing failed: a warning (a
 * missing protection) or a check doctor was not allowed to make is reported,
 * not failed.
 */
import { randomUUID } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type Config, configProblems, loadConfig } from "../../lambda/config.ts";
import { type Environment, nearMisses, readEnvironment } from "../../lambda/environment.ts";
import { MissingVariableError, ValueError } from "../../lambda/errors.ts";
import { objectEncryption } from "../../lambda/storage/encryption.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { plural } from "../data/plural.ts";
import { checkBucketPolicy } from "./bucket-policy.ts";
import {
  checkEncryption,
  checkEventBridgeNotifications,
  checkLifecycle,
  checkObjectOwnership,
  checkPublicAccessBlock,
  checkVersioning,
} from "./bucket-settings.ts";
import { attempt, type Check, LEVEL_LABELS } from "./check.ts";
import type { CliEnvironment, Io } from "./context.ts";
import { checkData } from "./data-check.ts";
import { frenchError } from "./french.ts";

const GUIDE = "docs/configuration-s3.md";

export async function doctor(env: CliEnvironment, io: Io): Promise<number> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    io.out(`${LEVEL_LABELS[check.level].padEnd(10)} ${check.name.padEnd(24)} ${check.detail}`);
    if (check.level !== "ok" && check.fix !== undefined) io.out(`           → ${check.fix}`);
  };
  const done = () => {
    const counted = (level: Check["level"]) => checks.filter((c) => c.level === level).length;
    const [failed, warned, unknown] = [counted("fail"), counted("warn"), counted("unknown")];
    const others = [
      ...(warned > 0 ? [plural(warned, "avertissement")] : []),
      ...(unknown > 0
        ? [plural(unknown, "vérification impossible", "vérifications impossibles")]
        : []),
    ].join(" et ");
    if (failed > 0) {
      io.out(
        `\n${plural(failed, "vérification", "vérifications")} en échec sur ${checks.length}${others === "" ? "" : ` (et ${others})`} : corrigez dans l'ordre, puis relancez npx rapatriements doctor (voir ${GUIDE}).`,
      );
    } else if (others !== "") {
      io.out(
        `\nAucun échec sur ${plural(checks.length, "vérification", "vérifications")}, mais ${others} : appliquez les corrections indiquées (voir ${GUIDE}).`,
      );
    } else {
      io.out(`\nTout est en ordre (${checks.length} vérifications).`);
    }
    return failed === 0 ? 0 : 1;
  };

  const config = checkConfiguration(env, report);
  if (config === undefined) return done();
  const { bucket, key, region } = config;
  report({
    name: "configuration",
    level: "ok",
    detail: `AWS_REGION=${region}, s3://${bucket}/${key}, STORAGE_STRATEGY=${config.strategy}${config.s3Endpoint === undefined ? "" : `, AWS_ENDPOINT_URL_S3=${config.s3Endpoint}`}${config.sseKmsKeyId === undefined ? "" : `, S3_SSE_KMS_KEY_ID=${config.sseKmsKeyId}`}`,
  });

  const s3 = createS3Client(config, { maxAttempts: 2 });
  try {
    const credentials = await s3.config.credentials();
    report({
      name: "identifiants",
      level: "ok",
      detail: `clé ${credentials.accessKeyId.slice(0, 4)}… (chaîne par défaut du SDK AWS)`,
    });
  } catch (error) {
    report({
      name: "identifiants",
      level: "fail",
      detail: `NoCredentialsError: Unable to locate credentials (${(error as Error).message})`,
      fix: "Définissez AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY (environnement ou .env), ou un profil dans ~/.aws/credentials, ou exécutez avec un rôle IAM.",
    });
    return done();
  }

  const bucketCheck = await checkBucket(s3, config);
  report(bucketCheck);
  if (bucketCheck.level !== "ok") return done();

  // Named after the data key, so the retention rule (on the key's prefix)
  // also expires the version and delete marker each run leaves behind.
  const scratch = `${key}.doctor-${randomUUID()}`;
  const arn = `arn:aws:s3:::${bucket}`;
  // With a KMS key, a write also needs kms:GenerateDataKey and a read kms:Decrypt on it.
  const keyToo =
    config.sseKmsKeyId === undefined
      ? ""
      : ` Avec S3_SSE_KMS_KEY_ID, il faut aussi kms:GenerateDataKey et kms:Decrypt sur ${config.sseKmsKeyId}.`;
  const permission = (action: string, resource: string, key = "") =>
    `Accordez ${action} sur ${resource} à l'utilisateur ou au rôle (politique du guide : s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket sur ${arn} et ${arn}/*).${key}`;

  const wrote = await attempt(() =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: scratch,
        Body: "rapatriements doctor",
        IfNoneMatch: "*",
        // As the application writes: this also proves the key's permissions.
        ...objectEncryption(config.sseKmsKeyId),
      }),
    ),
  );
  report({
    name: "permission écriture",
    level: wrote.ok ? "ok" : "fail",
    detail: wrote.ok ? `s3:PutObject sur ${scratch}` : `${wrote.error} (s3:PutObject)`,
    fix: permission("s3:PutObject", `${arn}/*`, keyToo),
  });

  const read = await attempt(() =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: wrote.ok ? scratch : key })),
  );
  const readOk = read.ok || read.status === 404;
  report({
    name: "permission lecture",
    level: readOk ? "ok" : "fail",
    detail: readOk ? "s3:GetObject" : `${read.error} (s3:GetObject)`,
    fix: permission("s3:GetObject", `${arn}/*`, keyToo),
  });

  const listed = await attempt(() =>
    s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: scratch, MaxKeys: 1 })),
  );
  report({
    name: "permission liste",
    level: listed.ok ? "ok" : "fail",
    detail: listed.ok ? "s3:ListBucket" : `${listed.error} (s3:ListBucket)`,
    fix: permission("s3:ListBucket", arn),
  });

  const deleted = await attempt(() =>
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: scratch })),
  );
  report({
    name: "permission suppression",
    level: deleted.ok ? "ok" : "fail",
    detail: deleted.ok ? "s3:DeleteObject" : `${deleted.error} (s3:DeleteObject)`,
    fix: permission("s3:DeleteObject", `${arn}/*`),
  });

  const location = { bucket, key };
  report(
    await checkEncryption(
      s3,
      location,
      wrote.ok ? read.value?.ServerSideEncryption : undefined,
      config.sseKmsKeyId,
    ),
  );
  const versioning = await checkVersioning(s3, location);
  report(versioning.check);
  report(await checkLifecycle(s3, location));
  report(await checkPublicAccessBlock(s3, location));
  report(await checkObjectOwnership(s3, location));
  report(await checkEventBridgeNotifications(s3, location));
  for (const check of await checkBucketPolicy(s3, location, config.s3Endpoint)) report(check);
  report(await checkData(s3, config, versioning.enabled));
  return done();
}

/**
 * Every configuration problem at once, each with the fix that fits it, and
 * the misspelt names of optional variables (silently ignored otherwise).
 * Undefined when the configuration does not load.
 */
function checkConfiguration(env: CliEnvironment, report: (check: Check) => void) {
  let variables: Environment;
  try {
    variables = readEnvironment(env.processEnv, env.cwd);
  } catch (error) {
    report({
      name: "configuration",
      level: "fail",
      detail: frenchError(error),
      fix: configFix(error),
    });
    return undefined;
  }
  const problems = configProblems(variables, env.processEnv);
  for (const problem of problems) {
    report({
      name: "configuration",
      level: "fail",
      detail: frenchError(problem),
      fix: configFix(problem),
    });
  }
  const named = new Set(
    problems.map((p) => (p instanceof MissingVariableError ? p.nearMiss : undefined)),
  );
  for (const { given, meant } of nearMisses(variables)) {
    if (named.has(given)) continue;
    report({
      name: "configuration",
      level: "warn",
      detail: `${given} est définie mais ignorée : vouliez-vous dire ${meant} ?`,
      fix: `Renommez ${given} en ${meant} (dans l'environnement ou le fichier .env à la racine du projet).`,
    });
  }
  return problems.length > 0 ? undefined : loadConfig(variables, env.processEnv);
}

const WHERE = "dans l'environnement ou dans le fichier .env à la racine du projet";

function configFix(error: unknown): string | undefined {
  if (error instanceof MissingVariableError) {
    const { variable, nearMiss } = error;
    if (nearMiss !== undefined) return `Renommez ${nearMiss} en ${variable} (${WHERE}).`;
    if (variable === "S3_BUCKET_NAME") {
      return `S3_RAPPATRIMENT_FILE_PATH est un chemin relatif : définissez S3_BUCKET_NAME ${WHERE}, ou donnez un chemin complet s3://bucket/clé.`;
    }
    const example =
      variable === "AWS_REGION"
        ? "AWS_REGION=eu-west-1"
        : "S3_RAPPATRIMENT_FILE_PATH=s3://interflow-rappatriements/rapatriements/rapatriements.db";
    return `Définissez ${variable} ${WHERE} (exemple : ${example}).`;
  }
  if (error instanceof ValueError) {
    return `Corrigez la valeur : le message nomme la variable et la valeur reçue (voir ${GUIDE}, « Erreur de configuration invalide »).`;
  }
  return undefined;
}

async function checkBucket(s3: S3Client, config: Config): Promise<Check> {
  const { bucket, region } = config;
  const head = await attempt(() => s3.send(new HeadBucketCommand({ Bucket: bucket })));
  const actual = head.ok ? head.value?.BucketRegion : head.bucketRegion;
  if (actual !== undefined && actual !== region) {
    return {
      name: "bucket et région",
      level: "fail",
      detail: `IllegalLocationConstraintException : le bucket ${bucket} est dans la région ${actual}, pas dans AWS_REGION=${region}`,
      fix: `Mettez AWS_REGION=${actual}, ou indiquez un bucket de la région ${region}.`,
    };
  }
  if (head.ok) {
    return { name: "bucket et région", level: "ok", detail: `${bucket} existe, région ${region}` };
  }
  if (head.status === 403) {
    // HeadBucket needs s3:ListBucket on AWS; some S3-compatible servers (moto)
    // ask for more. A listing, which the guide's policy allows, still proves the bucket.
    const listed = await attempt(() =>
      s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 })),
    );
    if (listed.ok) {
      return {
        name: "bucket et région",
        level: "ok",
        detail: `${bucket} existe (région non confirmée : HeadBucket refusé, la liste est permise)`,
      };
    }
  }
  if (head.status === 404) {
    return {
      name: "bucket et région",
      level: "fail",
      detail: `le bucket ${bucket} n'existe pas`,
      fix: `Créez-le : aws s3 mb s3://${bucket} --region ${region} (la première écriture le crée aussi si l'utilisateur a s3:CreateBucket).`,
    };
  }
  return {
    name: "bucket et région",
    level: "fail",
    detail: `${head.error} sur le bucket ${bucket}`,
    fix:
      head.status === 403
        ? `AccessDenied : accordez s3:ListBucket sur arn:aws:s3:::${bucket} (politique du guide).`
        : "Vérifiez AWS_REGION, AWS_ENDPOINT_URL_S3 et l'accès réseau à S3.",
  };
}
