/**
 * Operators' CLI: `rapatriements doctor` runs the operator guide's
 * troubleshooting in order — configuration, credentials, bucket and region,
 * each documented permission, encryption, the data object — one line per
 * check with the fix to apply. Exit code 0 only when every check passes.
 */
import { randomUUID } from "node:crypto";
import {
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Config } from "../../lambda/config.ts";
import { ValueError } from "../../lambda/errors.ts";
import { count } from "../../lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { codecFor } from "../../lambda/storage/codecs.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { httpStatusOf } from "../../lambda/storage/s3-errors.ts";
import { readPragma } from "../../lambda/storage/schema.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import { type CliEnvironment, formatBytes, type Io, readConfig } from "./context.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const GUIDE = "docs/configuration-s3.md";

export async function doctor(env: CliEnvironment, io: Io): Promise<number> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    io.out(`${check.ok ? "OK   " : "ÉCHEC"} ${check.name.padEnd(24)} ${check.detail}`);
    if (!check.ok && check.fix !== undefined) io.out(`      → ${check.fix}`);
  };
  const done = () => {
    const failed = checks.filter((c) => !c.ok).length;
    io.out(
      failed === 0
        ? `\nTout est en ordre (${checks.length} vérifications).`
        : `\n${failed} vérification(s) en échec sur ${checks.length} : corrigez dans l'ordre, puis relancez npx rapatriements doctor (voir ${GUIDE}).`,
    );
    return failed === 0 ? 0 : 1;
  };

  let config: Config;
  try {
    config = readConfig(env);
  } catch (error) {
    report({
      name: "configuration",
      ok: false,
      detail: String(error),
      fix:
        error instanceof ValueError
          ? "Vérifiez que les variables AWS_REGION et S3_RAPPATRIMENT_FILE_PATH (et S3_BUCKET_NAME avec un chemin relatif) sont définies dans l'environnement ou dans le fichier .env à la racine du projet."
          : undefined,
    });
    return done();
  }
  const { bucket, key, region } = config;
  report({
    name: "configuration",
    ok: true,
    detail: `AWS_REGION=${region}, s3://${bucket}/${key}, STORAGE_STRATEGY=${config.strategy}${config.s3Endpoint === undefined ? "" : `, AWS_ENDPOINT_URL_S3=${config.s3Endpoint}`}`,
  });

  const s3 = createS3Client(config, { maxAttempts: 2 });
  try {
    const credentials = await s3.config.credentials();
    report({
      name: "identifiants",
      ok: true,
      detail: `clé ${credentials.accessKeyId.slice(0, 4)}… (chaîne par défaut du SDK AWS)`,
    });
  } catch (error) {
    report({
      name: "identifiants",
      ok: false,
      detail: `NoCredentialsError: Unable to locate credentials (${(error as Error).message})`,
      fix: "Définissez AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY (environnement ou .env), ou un profil dans ~/.aws/credentials, ou exécutez avec un rôle IAM.",
    });
    return done();
  }

  const bucketCheck = await checkBucket(s3, config);
  report(bucketCheck);
  if (!bucketCheck.ok) return done();

  const scratch = `${key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : ""}.doctor-${randomUUID()}`;
  const arn = `arn:aws:s3:::${bucket}`;
  const permission = (action: string, resource: string) =>
    `Accordez ${action} sur ${resource} à l'utilisateur ou au rôle (politique du guide : s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket sur ${arn} et ${arn}/*).`;

  const wrote = await attempt(() =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: scratch,
        Body: "rapatriements doctor",
        IfNoneMatch: "*",
        ServerSideEncryption: "AES256",
      }),
    ),
  );
  report({
    name: "permission écriture",
    ok: wrote.ok,
    detail: wrote.ok ? `s3:PutObject sur ${scratch}` : `${wrote.error} (s3:PutObject)`,
    fix: permission("s3:PutObject", `${arn}/*`),
  });

  const read = await attempt(() =>
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: wrote.ok ? scratch : key })),
  );
  const readOk = read.ok || read.status === 404;
  report({
    name: "permission lecture",
    ok: readOk,
    detail: readOk ? "s3:GetObject" : `${read.error} (s3:GetObject)`,
    fix: permission("s3:GetObject", `${arn}/*`),
  });

  const listed = await attempt(() =>
    s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: scratch, MaxKeys: 1 })),
  );
  report({
    name: "permission liste",
    ok: listed.ok,
    detail: listed.ok ? "s3:ListBucket" : `${listed.error} (s3:ListBucket)`,
    fix: permission("s3:ListBucket", arn),
  });

  const deleted = await attempt(() =>
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: scratch })),
  );
  report({
    name: "permission suppression",
    ok: deleted.ok,
    detail: deleted.ok ? "s3:DeleteObject" : `${deleted.error} (s3:DeleteObject)`,
    fix: permission("s3:DeleteObject", `${arn}/*`),
  });

  report(
    await checkEncryption(
      s3,
      config,
      wrote.ok ? read.value?.ServerSideEncryption : undefined,
      wrote.ok,
    ),
  );
  report(await checkData(s3, config));
  return done();
}

async function checkBucket(s3: S3Client, config: Config): Promise<Check> {
  const { bucket, region } = config;
  const head = await attempt(() => s3.send(new HeadBucketCommand({ Bucket: bucket })));
  const actual = head.ok ? head.value?.BucketRegion : head.bucketRegion;
  if (actual !== undefined && actual !== region) {
    return {
      name: "bucket et région",
      ok: false,
      detail: `IllegalLocationConstraintException : le bucket ${bucket} est dans la région ${actual}, pas dans AWS_REGION=${region}`,
      fix: `Mettez AWS_REGION=${actual}, ou indiquez un bucket de la région ${region}.`,
    };
  }
  if (head.ok) {
    return { name: "bucket et région", ok: true, detail: `${bucket} existe, région ${region}` };
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
        ok: true,
        detail: `${bucket} existe (région non confirmée : HeadBucket refusé, la liste est permise)`,
      };
    }
  }
  if (head.status === 404) {
    return {
      name: "bucket et région",
      ok: false,
      detail: `le bucket ${bucket} n'existe pas`,
      fix: `Créez-le : aws s3 mb s3://${bucket} --region ${region} (la première écriture le crée aussi si l'utilisateur a s3:CreateBucket).`,
    };
  }
  return {
    name: "bucket et région",
    ok: false,
    detail: `${head.error} sur le bucket ${bucket}`,
    fix:
      head.status === 403
        ? `AccessDenied : accordez s3:ListBucket sur arn:aws:s3:::${bucket} (politique du guide).`
        : "Vérifiez AWS_REGION, AWS_ENDPOINT_URL_S3 et l'accès réseau à S3.",
  };
}

async function checkEncryption(
  s3: S3Client,
  config: Config,
  scratchEncryption: string | undefined,
  canWrite: boolean,
): Promise<Check> {
  const name = "chiffrement";
  const rule = await attempt(() =>
    s3.send(new GetBucketEncryptionCommand({ Bucket: config.bucket })),
  );
  const algorithm =
    rule.value?.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
      ?.SSEAlgorithm;
  const objectEncryption =
    scratchEncryption ??
    (await attempt(() => s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key }))))
      .value?.ServerSideEncryption;
  if (algorithm !== undefined) {
    return { name, ok: true, detail: `chiffrement par défaut du bucket : ${algorithm}` };
  }
  if (objectEncryption !== undefined) {
    const why = rule.status === 403 ? "non lisible sans s3:GetEncryptionConfiguration" : "absent";
    return {
      name,
      ok: true,
      detail: `objets chiffrés (${objectEncryption}) ; chiffrement par défaut du bucket ${why}, chaque écriture demande AES256`,
    };
  }
  if (!canWrite) {
    return {
      name,
      ok: false,
      detail: "non vérifiable : aucun objet n'a pu être écrit ni lu",
      fix: "Corrigez d'abord la permission d'écriture, puis relancez.",
    };
  }
  return {
    name,
    ok: false,
    detail: "aucun chiffrement vérifiable (ni par défaut sur le bucket, ni sur un objet)",
    fix: `Activez-le : aws s3api put-bucket-encryption --bucket ${config.bucket} --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'`,
  };
}

async function checkData(s3: S3Client, config: Config): Promise<Check> {
  const name = "données";
  const got = await attempt(() =>
    s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key })),
  );
  if (!got.ok) {
    if (got.status === 404) {
      return {
        name,
        ok: true,
        detail: "pas encore de données : l'objet sera créé à la première écriture",
      };
    }
    return {
      name,
      ok: false,
      detail: `${got.error} en lisant s3://${config.bucket}/${config.key}`,
    };
  }
  const bytes = (await got.value?.Body?.transformToByteArray()) ?? new Uint8Array();
  try {
    const db = codecFor(config.strategy).decode(bytes, await loadSqlJs(), rapatriementsSchema);
    const records = count(db);
    const version = readPragma(db, "user_version");
    db.close();
    return {
      name,
      ok: true,
      detail: `${records} rapatriements, ${config.strategy}, schéma ${version}, ${formatBytes(bytes.length)}`,
    };
  } catch (error) {
    return {
      name,
      ok: false,
      detail: `STORAGE_UNREADABLE : ${(error as Error).message}`,
      fix: "Vérifiez STORAGE_STRATEGY (sqlite ou json) ; sinon listez les versions (npx rapatriements versions) et restaurez la dernière bonne (npx rapatriements restore VERSION_ID).",
    };
  }
}

interface Attempt<T> {
  ok: boolean;
  value?: T;
  status?: number;
  error?: string;
  bucketRegion?: string;
}

async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      $response?: { headers?: Record<string, string> };
    };
    const result: Attempt<T> = {
      ok: false,
      error: `${e.name ?? "Error"}: ${e.message ?? String(error)}`,
    };
    const status = httpStatusOf(error);
    if (status !== undefined) result.status = status;
    const region = e.$response?.headers?.["x-amz-bucket-region"];
    if (region !== undefined) result.bucketRegion = region;
    return result;
  }
}
