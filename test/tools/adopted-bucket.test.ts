/**
 * Adopting the users' existing bucket and file, as the operator guide's teams
 * would, against the local S3 server: a bucket made beforehand (with or
 * without versioning, encryption, lifecycle rule, bucket policy) and a file an
 * earlier application wrote at the data key. `doctor` names each missing
 * setting with the command that sets it — the tests apply that very command
 * and run doctor again — names the import for a legacy file, and the restore
 * for a data object deleted while earlier versions exist. The functions keep
 * refusing a legacy file until it is imported, and then serve its records.
 */
import {
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, describe, expect, test, vi } from "vitest";
import { retentionRule } from "../../infra/data-bucket-rules.ts";
import type { StorageStrategy } from "../../lambda/config.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import { checkBucketPolicy } from "../../tools/cli/bucket-policy.ts";
import {
  ALL_SETTINGS,
  type BucketSetting,
  configureBucket,
} from "../../tools/local-s3/stack-like-bucket.ts";
import { type Api, apiOver } from "../support/api.ts";
import {
  actAsOperator,
  type CheckLine,
  checkNamed,
  checksOf,
  cli,
  operatorEnv,
} from "../support/cli-run.ts";
import { type IamServer, startIamServer } from "../support/iam-server.ts";
import {
  createBucket,
  localEndpoint,
  localS3Client,
  newEngine,
  sampleInput,
} from "../support/local-s3.ts";

/** The guide's second example: S3_BUCKET_NAME=interflow-rappatriements + a relative path. */
const JSON_KEY = "rappatriements/rappatriements.json";
/** The guide's first example: s3://foxon-mane-interflow/rappatriments.db. */
const SQLITE_KEY = "rappatriments.db";

actAsOperator();

/** The guide's relative form: S3_BUCKET_NAME plus a key. */
function relativeEnv(bucket: string, key = JSON_KEY) {
  return operatorEnv(bucket, key, { S3_RAPPATRIMENT_FILE_PATH: key, S3_BUCKET_NAME: bucket });
}

/** Records as the earlier application wrote them: pretty-printed, its own ids. */
const LEGACY_RECORDS = [
  {
    id: "r-1",
    reference: "RAP-2024-001",
    origin: "LYON-01",
    destination: "PARIS-02",
    status: "in_transit",
    lines: [{ sku: "PAL-EUR", quantity: 12, unit: "palette" }],
    createdAt: "2024-05-01T10:00:00Z",
  },
  {
    id: "r-2",
    reference: "RAP-2024-002",
    origin: "MARSEILLE-03",
    destination: "LYON-01",
    status: "requested",
    lines: [
      { sku: "CAR-40", quantity: 30 },
      { sku: "FIL-ETI", quantity: 2.5, unit: "rouleau" },
    ],
    requestedAt: "2024-05-02T08:00:00Z",
    comment: "Retour d'invendus",
    createdAt: "2024-05-02T07:30:00Z",
  },
  {
    id: "r-3",
    reference: "RAP-2024-003",
    origin: "PARIS-02",
    destination: "LILLE-04",
    status: "draft",
    lines: [{ sku: "PAL-EUR", quantity: 1 }],
    createdAt: "2024-05-03T16:45:00Z",
  },
];

const LEGACY_JSON = new TextEncoder().encode(`${JSON.stringify(LEGACY_RECORDS, null, 2)}\n`);

async function bytesOf(s3: S3Client, bucket: string, key: string, versionId?: string) {
  const object = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
  );
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}

async function putLegacy(s3: S3Client, bucket: string, key: string, body: Uint8Array) {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  return put.VersionId;
}

async function apiFor(bucket: string, key: string, strategy: StorageStrategy): Promise<Api> {
  return apiOver(await newEngine({ bucket, key, strategy }));
}

/** The import command doctor printed, as argv. */
function importArgv(fix: string | undefined): string[] {
  const command = /npx rapatriements (import s3:\/\/\S+)/.exec(fix ?? "")?.[1];
  if (command === undefined) throw new Error(`no import command in ${fix}`);
  return command.split(" ");
}

async function expectRefusedUnchanged(api: Api, s3: S3Client, bucket: string, key: string) {
  const before = await bytesOf(s3, bucket, key);
  const listed = await api("GET", "/rapatriements");
  expect(listed.status).toBe(500);
  expect(listed.json.code).toBe("STORAGE_UNREADABLE");
  const created = await api("POST", "/rapatriements", sampleInput(1));
  expect(created.status).toBe(500);
  expect(created.json.code).toBe("STORAGE_UNREADABLE");
  expect(await bytesOf(s3, bucket, key)).toEqual(before);
}

async function expectServed(api: Api) {
  const listed = await api("GET", "/rapatriements?limit=100");
  expect(listed.status).toBe(200);
  expect(listed.json.items.map((r: { reference: string }) => r.reference).sort()).toEqual(
    LEGACY_RECORDS.map((r) => r.reference),
  );
  const second = await api("GET", "/rapatriements/r-2");
  expect(second.status).toBe(200);
  expect(second.json).toMatchObject({
    reference: "RAP-2024-002",
    status: "requested",
    lines: LEGACY_RECORDS[1]?.lines,
    comment: "Retour d'invendus",
  });
  const moved = await api("PATCH", "/rapatriements/r-2", { status: "in_transit" });
  expect(moved.status).toBe(200);
}

describe("a file an earlier application wrote at the data key", () => {
  test("JSON list at rappatriements/rappatriements.json: refused by the functions, doctor names the import, the import converts it, the original stays a version, the API serves the records", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, JSON_KEY, ["encryption", "versioning", "lifecycle"]);
    const originalVersion = await putLegacy(s3, bucket, JSON_KEY, LEGACY_JSON);
    const api = await apiFor(bucket, JSON_KEY, "json");
    await expectRefusedUnchanged(api, s3, bucket, JSON_KEY);

    const env = relativeEnv(bucket);
    const doctor = await cli(["doctor"], env);
    expect(doctor.code).toBe(1);
    const data = checkNamed(checksOf(doctor.outLines), "données");
    expect(data.level).toBe("fail");
    expect(data.detail).toContain("ancienne application (json: [ … ], 3 enregistrements)");
    expect(data.detail).toContain("STORAGE_UNREADABLE");
    expect(data.fix).toBe(
      `importez-le : npx rapatriements import s3://${bucket}/${JSON_KEY} (le convertit sur place ; l'original reste une version antérieure de l'objet)`,
    );

    const imported = await cli(importArgv(data.fix), env);
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.out).toContain(
      `converti : 3 rapatriements au format json dans s3://${bucket}/${JSON_KEY}`,
    );
    expect(imported.out).toContain(`l'original reste la version ${originalVersion}`);
    expect(await bytesOf(s3, bucket, JSON_KEY, originalVersion)).toEqual(LEGACY_JSON);

    const after = checkNamed(checksOf((await cli(["doctor"], env)).outLines), "données");
    expect(after).toMatchObject({ level: "ok" });
    // An earlier application did not say who wrote them: unknown, and said so.
    expect(after.detail).toContain(
      "3 rapatriements (dont 3 sans auteur connu, écrits avant createdBy), json",
    );
    await expectServed(api);
  });

  test("on a bucket without versioning, the import first writes a copy of the original beside it", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await putLegacy(s3, bucket, JSON_KEY, LEGACY_JSON);
    const env = relativeEnv(bucket);
    const checks = checksOf((await cli(["doctor"], env)).outLines);
    expect(checkNamed(checks, "versionnement").level).toBe("warn");
    const data = checkNamed(checks, "données");
    expect(data.fix).toContain(
      `une copie de l'original est d'abord écrite à côté (${JSON_KEY}.avant-import-…), le bucket n'étant pas versionné`,
    );

    const imported = await cli(importArgv(data.fix), env);
    expect(imported.code).toBe(0);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: JSON_KEY }));
    const copies = (listed.Contents ?? [])
      .map((o) => o.Key ?? "")
      .filter((k) => k.startsWith(`${JSON_KEY}.avant-import-`));
    expect(copies).toHaveLength(1);
    const [copy = ""] = copies;
    expect(imported.out).toContain(`l'original est conservé dans s3://${bucket}/${copy}`);
    expect(await bytesOf(s3, bucket, copy)).toEqual(LEGACY_JSON);
    await expectServed(await apiFor(bucket, JSON_KEY, "json"));
  });

  test("the guide's first example: an old SQLite table at s3://…/rappatriments.db, imported the same way", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, SQLITE_KEY, ["versioning"]);
    const SQL = await loadSqlJs();
    const old = new SQL.Database();
    old.run(
      "CREATE TABLE rappatriements (id TEXT PRIMARY KEY, reference TEXT, origin TEXT, destination TEXT, status TEXT, lines TEXT, requested_at TEXT, comment TEXT, created_at TEXT)",
    );
    for (const r of LEGACY_RECORDS) {
      old.run("INSERT INTO rappatriements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
        r.id,
        r.reference,
        r.origin,
        r.destination,
        r.status,
        JSON.stringify(r.lines),
        r.requestedAt ?? null,
        r.comment ?? null,
        r.createdAt,
      ]);
    }
    const original = old.export();
    old.close();
    const originalVersion = await putLegacy(s3, bucket, SQLITE_KEY, original);
    const api = await apiFor(bucket, SQLITE_KEY, "sqlite");
    await expectRefusedUnchanged(api, s3, bucket, SQLITE_KEY);

    const env = operatorEnv(bucket, SQLITE_KEY, { STORAGE_STRATEGY: "sqlite" });
    const data = checkNamed(checksOf((await cli(["doctor"], env)).outLines), "données");
    expect(data.level).toBe("fail");
    expect(data.detail).toContain("sqlite: table rappatriements, 3 enregistrements");
    const imported = await cli(importArgv(data.fix), env);
    expect(imported.code).toBe(0);
    expect(await bytesOf(s3, bucket, SQLITE_KEY, originalVersion)).toEqual(original);
    await expectServed(api);
  });

  test("a legacy file with a bad record: the import refuses, names it, and changes nothing", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    const bad = [...LEGACY_RECORDS, { ...LEGACY_RECORDS[0], id: "r-4", reference: "bad ref" }];
    const body = new TextEncoder().encode(JSON.stringify(bad));
    await putLegacy(s3, bucket, JSON_KEY, body);
    const result = await cli(["import", `s3://${bucket}/${JSON_KEY}`], relativeEnv(bucket));
    expect(result.code).toBe(1);
    expect(result.err).toContain("id r-4 (ligne 1) : reference");
    expect(result.err).toContain("rien n'a été envoyé");
    expect(await bytesOf(s3, bucket, JSON_KEY)).toEqual(body);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([JSON_KEY]);
  });

  test("importing from another S3 object is a usage error; a file already in this format has nothing to convert", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    const env = relativeEnv(bucket);
    const elsewhere = await cli(["import", `s3://${bucket}/ailleurs.json`], env);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.err).toContain(`s3://${bucket}/${JSON_KEY}`);

    const api = await apiFor(bucket, JSON_KEY, "json");
    expect((await api("POST", "/rapatriements", sampleInput(1))).status).toBe(201);
    const before = await bytesOf(s3, bucket, JSON_KEY);
    const again = await cli(["import", `s3://${bucket}/${JSON_KEY}`], env);
    expect(again.code).toBe(0);
    expect(again.out).toContain("déjà au format de rapatriements-s3 (json) : rien à convertir");
    expect(await bytesOf(s3, bucket, JSON_KEY)).toEqual(before);
  });
});

/** Applies the `aws s3api …` command a fix prints, through the SDK, as the operator would run it. */
async function applyFix(s3: S3Client, fix: string | undefined): Promise<void> {
  const match = /aws s3api (\S+) --bucket (\S+) --\S+ (?:'(.*)'|(\S+))$/.exec(fix ?? "");
  if (match === null) throw new Error(`no aws s3api command in ${fix}`);
  const [, command, bucket, quoted, plain] = match;
  const json = quoted === undefined ? undefined : JSON.parse(quoted.replaceAll("'\\''", "'"));
  switch (command) {
    case "put-bucket-encryption":
      await s3.send(
        new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: json }),
      );
      return;
    case "put-bucket-versioning":
      expect(plain).toBe("Status=Enabled");
      await s3.send(
        new PutBucketVersioningCommand({
          Bucket: bucket,
          VersioningConfiguration: { Status: "Enabled" },
        }),
      );
      return;
    case "put-bucket-lifecycle-configuration":
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: json,
        }),
      );
      return;
    case "put-bucket-policy":
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(json) }));
      return;
    case "put-public-access-block":
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: json }),
      );
      return;
    case "put-bucket-notification-configuration":
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: json,
        }),
      );
      return;
    case "put-bucket-ownership-controls":
      await s3.send(
        new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: json }),
      );
      return;
    default:
      throw new Error(`unexpected command ${command}`);
  }
}

const SETTING_CHECKS: Record<BucketSetting, [string, string]> = {
  encryption: ["chiffrement", "aws s3api put-bucket-encryption --bucket "],
  versioning: ["versionnement", "aws s3api put-bucket-versioning --bucket "],
  lifecycle: ["cycle de vie", "aws s3api put-bucket-lifecycle-configuration --bucket "],
  publicAccess: ["accès public", "aws s3api put-public-access-block --bucket "],
  ownership: ["propriété des objets", "aws s3api put-bucket-ownership-controls --bucket "],
  eventBridge: ["notifications S3", "aws s3api put-bucket-notification-configuration --bucket "],
  tls: ["TLS seulement", "aws s3api put-bucket-policy --bucket "],
  conditionalWrites: ["écriture conditionnelle", "aws s3api put-bucket-policy --bucket "],
  deleteProtection: ["protection suppression", "aws s3api put-bucket-policy --bucket "],
};

function notOk(checks: CheckLine[]): CheckLine[] {
  return checks.filter((c) => c.level !== "ok");
}

/** A new bucket set up as the stack sets its own, but for `missing`. */
async function bucketWithout(...missing: BucketSetting[]) {
  const s3 = localS3Client();
  const bucket = await createBucket(s3);
  await configureBucket(
    s3,
    bucket,
    JSON_KEY,
    ALL_SETTINGS.filter((s) => !missing.includes(s)),
  );
  return { s3, bucket };
}

describe("doctor on an adopted bucket's own settings", () => {
  test.each(ALL_SETTINGS)(
    "without %s: one warning, with the exact command; after running it, all is in order",
    async (missing) => {
      const { s3, bucket } = await bucketWithout(missing);
      const env = relativeEnv(bucket);
      const result = await cli(["doctor"], env);
      expect(result.code).toBe(0);
      const [name, command] = SETTING_CHECKS[missing];
      const warnings = notOk(checksOf(result.outLines));
      expect(warnings.map((c) => [c.level, c.name])).toEqual([["warn", name]]);
      expect(warnings[0]?.fix).toContain(`${command}${bucket} `);
      expect(result.outLines.at(-1)).toContain("mais 1 avertissement :");

      await applyFix(s3, warnings[0]?.fix);
      const fixed = await cli(["doctor"], env);
      expect(notOk(checksOf(fixed.outLines))).toEqual([]);
      expect(fixed.outLines.at(-1)).toBe("Tout est en ordre (17 vérifications).");
    },
  );

  test("a bucket made by hand with none of them: eight warnings, exit 0, never 'Tout est en ordre'", async () => {
    const bucket = await createBucket(localS3Client());
    const result = await cli(["doctor"], relativeEnv(bucket));
    expect(result.code).toBe(0);
    const warnings = notOk(checksOf(result.outLines));
    expect(warnings.map((c) => [c.level, c.name])).toEqual(
      ALL_SETTINGS.map((setting) => ["warn", SETTING_CHECKS[setting][0]]),
    );
    expect(result.outLines.at(-1)).toBe(
      "Aucun échec sur 17 vérifications, mais 8 avertissements : appliquez les corrections indiquées (voir docs/configuration-s3.md).",
    );
    // The two missing statements: one command, printed on each line, adds both.
    const [writes = "", deletes = ""] = warnings.slice(-2).map((c) => c.fix ?? "");
    expect(writes).toContain(
      "(la même commande ajoute aussi DenyDeletingTheDataObject, qui manque aussi)",
    );
    expect(deletes).toContain(
      "(la même commande ajoute aussi RequireConditionalWritesOnTheDataObject, qui manque aussi)",
    );
    expect(writes.slice(writes.indexOf("aws s3api"))).toBe(
      deletes.slice(deletes.indexOf("aws s3api")),
    );
  });

  test("the team's own lifecycle rules, policy statements and notifications are kept by the printed commands", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, JSON_KEY, [
      "encryption",
      "versioning",
      "publicAccess",
      "ownership",
    ]);
    const teamRule = {
      ID: "logs-90-days",
      Status: "Enabled" as const,
      Filter: { Prefix: "logs/" },
      Expiration: { Days: 90 },
    };
    const teamStatement = {
      Sid: "TeamTlsOnly",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${bucket}/exports/*`,
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [teamRule] },
      }),
    );
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [teamStatement] }),
      }),
    );
    const teamNotification = {
      Id: "uploads-to-queue",
      QueueArn: "arn:aws:sqs:eu-west-1:123456789012:team-uploads",
      Events: ["s3:ObjectCreated:*" as const],
    };
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: { QueueConfigurations: [teamNotification] },
      }),
    );
    const env = relativeEnv(bucket);
    const warnings = notOk(checksOf((await cli(["doctor"], env)).outLines));
    expect(warnings.map((c) => c.name)).toEqual([
      "cycle de vie",
      "notifications S3",
      "écriture conditionnelle",
      "protection suppression",
    ]);
    expect(warnings[0]?.fix).toContain("la commande garde votre autre règle");
    expect(warnings[1]?.fix).toContain(
      "la commande remplace toute la configuration de notifications du bucket : elle reprend les siennes, QueueConfigurations",
    );
    expect(warnings[2]?.fix).toContain("la commande garde votre autre instruction");
    expect(warnings[3]?.fix).toContain("la commande garde votre autre instruction");
    for (const warning of warnings) await applyFix(s3, warning.fix);

    expect(notOk(checksOf((await cli(["doctor"], env)).outLines))).toEqual([]);
    const rules = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(rules.Rules?.map((r) => r.ID)).toEqual(["logs-90-days", "rapatriements-retention"]);
    const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    expect(JSON.parse(policy.Policy ?? "{}").Statement[0]).toEqual(teamStatement);
    const { $metadata: _, ...notifications } = await s3.send(
      new GetBucketNotificationConfigurationCommand({ Bucket: bucket }),
    );
    expect(notifications).toEqual({
      QueueConfigurations: [teamNotification],
      EventBridgeConfiguration: {},
    });
  });

  test("a lifecycle rule that would expire the data object itself is a failure", async () => {
    const { s3, bucket } = await bucketWithout("lifecycle");
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: "purge-all", Status: "Enabled", Filter: {}, Expiration: { Days: 365 } }],
        },
      }),
    );
    const result = await cli(["doctor"], relativeEnv(bucket));
    expect(result.code).toBe(1);
    const check = checkNamed(checksOf(result.outLines), "cycle de vie");
    expect(check.level).toBe("fail");
    expect(check.detail).toContain("« purge-all » fait expirer l'objet de données lui-même");
  });
});

describe("doctor on the protections an adopted bucket lacks (issue 26)", () => {
  const TEAM_STATEMENT = {
    Sid: "TeamReadOnlyExports",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:PutObject",
    Resource: "arn:aws:s3:::team-exports/*",
  };

  test("TLS only, checked as on AWS (no http:// endpoint): missing, then the printed command adds it for the data key and keeps the team's statement", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [TEAM_STATEMENT] }),
      }),
    );
    const location = { bucket, key: JSON_KEY };
    const [tls, writes, deletes] = await checkBucketPolicy(s3, location, undefined);
    expect(tls).toMatchObject({
      name: "TLS seulement",
      level: "warn",
      detail: `rien ne refuse une requête en HTTP simple sur ${JSON_KEY} : un client mal configuré lirait ou écrirait les données en clair sur le réseau`,
    });
    expect(tls?.fix).toMatch(
      /^Ajoutez l'instruction DenyPlainHttpToTheDataObject \(la même commande ajoute aussi RequireConditionalWritesOnTheDataObject et DenyDeletingTheDataObject, qui manquent aussi\) \(la commande garde votre autre instruction : elle remplace toute la politique\) : aws s3api put-bucket-policy /,
    );
    expect([writes?.level, deletes?.level]).toEqual(["warn", "warn"]);

    await applyFix(s3, tls?.fix);
    const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }));
    expect(JSON.parse(policy.Policy ?? "{}").Statement).toEqual([
      TEAM_STATEMENT,
      {
        Sid: "DenyPlainHttpToTheDataObject",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: `arn:aws:s3:::${bucket}/${JSON_KEY}*`,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "RequireConditionalWritesOnTheDataObject",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/${JSON_KEY}`,
        Condition: { Null: { "s3:if-match": "true", "s3:if-none-match": "true" } },
      },
      {
        Sid: "DenyDeletingTheDataObject",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        Resource: `arn:aws:s3:::${bucket}/${JSON_KEY}`,
      },
    ]);
    const after = await checkBucketPolicy(s3, location, undefined);
    expect(after.map((c) => [c.level, c.detail])).toEqual([
      ["ok", `refuse toute requête en HTTP simple sur ${JSON_KEY} (aws:SecureTransport false)`],
      ["ok", `refuse toute écriture de ${JSON_KEY} sans If-Match ni If-None-Match`],
      ["ok", `refuse s3:DeleteObject et s3:DeleteObjectVersion sur ${JSON_KEY}, à tous`],
    ]);
  });

  test("the stack's own statements are recognised in their CDK form: principal {AWS: *}, TLS on the whole bucket", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    const arn = `arn:aws:s3:::${bucket}`;
    await s3.send(
      new PutBucketPolicyCommand({
        Bucket: bucket,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Action: "s3:*",
              Condition: { Bool: { "aws:SecureTransport": "false" } },
              Effect: "Deny",
              Principal: { AWS: "*" },
              Resource: [arn, `${arn}/*`],
            },
            {
              Sid: "DenyDeletingTheDataObject",
              Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
              Effect: "Deny",
              Principal: { AWS: "*" },
              Resource: `${arn}/${JSON_KEY}`,
            },
            {
              Action: "s3:Delete*",
              Effect: "Deny",
              Principal: { AWS: "*" },
              Resource: `${arn}/nothing-to-do-with-it`,
            },
          ],
        }),
      }),
    );
    const checks = await checkBucketPolicy(s3, { bucket, key: JSON_KEY }, undefined);
    expect(checks.map((c) => c.level)).toEqual(["ok", "warn", "ok"]);
  });

  test("on an http:// endpoint, TLS does not apply; a TLS-only statement there would refuse the application, and doctor fails on it", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, JSON_KEY, [...ALL_SETTINGS, "tls"]);
    const result = await cli(["doctor"], relativeEnv(bucket));
    expect(result.code).toBe(1);
    const tls = checkNamed(checksOf(result.outLines), "TLS seulement");
    expect(tls).toMatchObject({
      level: "fail",
      detail: `la politique refuse le HTTP simple sur ${JSON_KEY}, mais AWS_ENDPOINT_URL_S3 est en HTTP (${localEndpoint()}) : chaque lecture et écriture de l'application serait refusée`,
    });
    // As it says: the local server refuses doctor's own object calls beside the data key.
    expect(checkNamed(checksOf(result.outLines), "permission écriture").level).toBe("fail");
  });

  test("no delete: once the printed statement is in place, deleting the data object is refused; doctor's scratch object beside it is still deleted", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, JSON_KEY, ["versioning"]);
    const api = await apiFor(bucket, JSON_KEY, "json");
    expect((await api("POST", "/rapatriements", sampleInput(1))).status).toBe(201);
    await configureBucket(
      s3,
      bucket,
      JSON_KEY,
      ALL_SETTINGS.filter((s) => s !== "deleteProtection"),
    );
    const env = relativeEnv(bucket);
    const warnings = notOk(checksOf((await cli(["doctor"], env)).outLines));
    expect(warnings.map((c) => [c.level, c.name])).toEqual([["warn", "protection suppression"]]);
    expect(warnings[0]?.detail).toContain(
      `rien n'empêche de supprimer ${JSON_KEY} : une suppression le cacherait derrière un marqueur`,
    );

    await applyFix(s3, warnings[0]?.fix);
    const refused = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: JSON_KEY })).then(
      () => 200,
      (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode,
    );
    expect(refused).toBe(403);
    const fixed = await cli(["doctor"], env);
    const checks = checksOf(fixed.outLines);
    expect(notOk(checks)).toEqual([]);
    expect(checkNamed(checks, "permission suppression").detail).toBe("s3:DeleteObject");
    expect(checkNamed(checks, "données").detail).toContain("1 rapatriement");
  });

  test("public access block and ownership partly set: the settings that are off are named", async () => {
    const { s3, bucket } = await bucketWithout("publicAccess", "ownership");
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      }),
    );
    await s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: "ObjectWriter" }] },
      }),
    );
    const checks = notOk(checksOf((await cli(["doctor"], relativeEnv(bucket))).outLines));
    expect(checks.map((c) => [c.level, c.name, c.detail])).toEqual([
      [
        "warn",
        "accès public",
        "inactifs : BlockPublicPolicy, RestrictPublicBuckets : une ACL ou une instruction de politique publique pourrait ouvrir l'objet de données à tout Internet",
      ],
      [
        "warn",
        "propriété des objets",
        "ObjectWriter : les ACL comptent encore ; une ACL pourrait donner l'objet de données à lire à un autre compte, et un objet écrit par un autre compte lui appartiendrait",
      ],
    ]);
  });

  test("a retention rule from before, which expires even the last earlier versions: a warning; the printed rule keeps the 10 newest", async () => {
    const { s3, bucket } = await bucketWithout("lifecycle");
    const { NoncurrentVersionExpiration, ...rest } = retentionRule(JSON_KEY);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [{ ...rest, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }],
        },
      }),
    );
    expect(NoncurrentVersionExpiration.NewerNoncurrentVersions).toBe(10);
    const env = relativeEnv(bucket);
    const [warning] = notOk(checksOf((await cli(["doctor"], env)).outLines));
    expect(warning).toMatchObject({
      level: "warn",
      name: "cycle de vie",
      detail: `aucune règle active sur ${JSON_KEY} ne fait : garde des dernières versions antérieures quel que soit leur âge (NewerNoncurrentVersions)`,
    });
    await applyFix(s3, warning?.fix);
    const lifecycle = checkNamed(checksOf((await cli(["doctor"], env)).outLines), "cycle de vie");
    expect(lifecycle).toMatchObject({
      level: "ok",
      detail:
        "versions antérieures gardées 30 jours (fenêtre de restore), les 10 plus récentes quel que soit leur âge, marqueurs de suppression orphelins retirés, envois incomplets abandonnés",
    });
  });
});

describe("a data object deleted while earlier versions exist", () => {
  test("doctor names the restore of the latest real version; running it brings the records back", async () => {
    const s3 = localS3Client();
    const bucket = await createBucket(s3);
    await configureBucket(s3, bucket, JSON_KEY, ["encryption", "versioning", "lifecycle"]);
    const api = await apiFor(bucket, JSON_KEY, "json");
    expect((await api("POST", "/rapatriements", sampleInput(1))).status).toBe(201);
    expect((await api("POST", "/rapatriements", sampleInput(2))).status).toBe(201);
    const latest = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: JSON_KEY }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: JSON_KEY }));

    const env = relativeEnv(bucket);
    const result = await cli(["doctor"], env);
    expect(result.code).toBe(1);
    const data = checkNamed(checksOf(result.outLines), "données");
    expect(data.level).toBe("fail");
    expect(data.detail).toContain("aucun objet actuel, mais 2 versions antérieures existent");
    expect(data.detail).toContain(
      "les fonctions refusent toute lecture et écriture (DATA_OBJECT_DELETED) jusqu'à la restauration",
    );
    expect(data.fix).toMatch(
      new RegExp(`: npx rapatriements restore ${latest.VersionId ?? "missing"}$`),
    );

    const argv = /npx rapatriements (restore \S+)$/.exec(data.fix ?? "")?.[1]?.split(" ") ?? [];
    const restored = await cli([...argv, "--yes"], env);
    expect(restored.code).toBe(0);
    const listed = await (await apiFor(bucket, JSON_KEY, "json"))("GET", "/rapatriements");
    expect(listed.json.items).toHaveLength(2);
    expect(checkNamed(checksOf((await cli(["doctor"], env)).outLines), "données").level).toBe("ok");
  });
});

describe("doctor with IAM enforced", () => {
  const BUCKET = "doctor-adopted";
  const guideActions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"];
  const policy = (actions: string[]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: actions,
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        },
      ],
    });
  // One server per test: moto turns IAM on for a whole server, with one policy per user here.
  const servers: IamServer[] = [];

  async function doctorAs(actions: string[]) {
    const iam = await startIamServer({
      buckets: [BUCKET],
      policy: policy(actions),
      prepare: (admin) => configureBucket(admin, BUCKET, JSON_KEY),
    });
    servers.push(iam);
    const { accessKeyId, secretAccessKey } = iam.user;
    vi.stubEnv("AWS_ACCESS_KEY_ID", accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", secretAccessKey);
    return cli(
      ["doctor"],
      operatorEnv(BUCKET, JSON_KEY, {
        AWS_ENDPOINT_URL_S3: iam.server.endpoint,
        AWS_ACCESS_KEY_ID: accessKeyId,
        AWS_SECRET_ACCESS_KEY: secretAccessKey,
      }),
    );
  }

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.server.stop()));
  });

  // The local server authorizes GetBucketEncryption, GetPublicAccessBlock and
  // GetBucketOwnershipControls as s3:ListBucket (AWS asks for
  // s3:GetEncryptionConfiguration, s3:GetBucketPublicAccessBlock and
  // s3:GetBucketOwnershipControls), so here those lines are read; the others
  // ask for the same permissions as on AWS. TLS does not apply to its
  // http:// endpoint, policy readable or not.
  test("with the guide's four permissions only, the settings it may not read are 'not verifiable', not failures", async () => {
    const result = await doctorAs(guideActions);
    expect(result.code).toBe(0);
    const unknown = notOk(checksOf(result.outLines));
    expect(unknown.map((c) => [c.level, c.name])).toEqual([
      ["unknown", "versionnement"],
      ["unknown", "cycle de vie"],
      ["unknown", "notifications S3"],
      ["unknown", "écriture conditionnelle"],
      ["unknown", "protection suppression"],
      ["unknown", "données"],
    ]);
    expect(unknown.map((c) => /accordez (\S+) sur/.exec(c.fix ?? "")?.[1])).toEqual([
      "s3:GetBucketVersioning",
      "s3:GetLifecycleConfiguration",
      "s3:GetBucketNotification",
      "s3:GetBucketPolicy",
      "s3:GetBucketPolicy",
      "s3:ListBucketVersions",
    ]);
    expect(result.outLines.at(-1)).toContain("mais 6 vérifications impossibles");
  }, 120_000);

  test("with the documented read-only extras for doctor, every check passes", async () => {
    const result = await doctorAs([
      ...guideActions,
      "s3:GetEncryptionConfiguration",
      "s3:GetBucketVersioning",
      "s3:GetLifecycleConfiguration",
      "s3:GetBucketPublicAccessBlock",
      "s3:GetBucketOwnershipControls",
      "s3:GetBucketNotification",
      "s3:GetBucketPolicy",
      "s3:ListBucketVersions",
    ]);
    expect(notOk(checksOf(result.outLines))).toEqual([]);
    expect(result.code).toBe(0);
  }, 120_000);
});
