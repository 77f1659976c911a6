/**
 * The operators' CLI as an operator runs it: `main(argv, env, io)` in-process,
 * against the local S3 server, with an explicit environment and a fresh working
 * directory (no `.env` unless a test writes one). Output is collected line by
 * line and checked for what the operator reads: the guide's messages, the
 * failing check and its fix, the records that come back out.
 *
 * The CLI hands credentials found in the environment to the AWS SDK's default
 * chain, which reads the real process environment; in a real run both are the
 * same object, so each test also puts the keys it uses into process.env.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { currentVersion } from "../../lambda/storage/migrations.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import type { CliEnvironment } from "../../tools/cli/context.ts";
import { readRecordsFile } from "../../tools/data/records-file.ts";
import { configureBucket } from "../../tools/local-s3/stack-like-bucket.ts";
import {
  actAsOperator,
  checkNamed,
  checksOf,
  cli,
  freshDir,
  operatorEnv,
  type Variables,
} from "../support/cli-run.ts";
import { type IamServer, startIamServer } from "../support/iam-server.ts";
import { readSqliteRows, writeSqliteFile } from "../support/legacy-sqlite.ts";
import {
  createBucket,
  etagOf,
  localS3Client,
  newEngine,
  REGION,
  sampleInput,
  type Target,
  uniqueBucketName,
} from "../support/local-s3.ts";

const KEY = "rapatriements/rapatriements.db";
const STATUSES = ["draft", "requested", "in_transit", "received", "cancelled"];
const CHECKS = [
  "configuration",
  "identifiants",
  "bucket et région",
  "permission écriture",
  "permission lecture",
  "permission liste",
  "permission suppression",
  "chiffrement",
  "versionnement",
  "cycle de vie",
  "accès public",
  "propriété des objets",
  "notifications S3",
  "TLS seulement",
  "écriture conditionnelle",
  "protection suppression",
  "données",
];

let SQL: SqlJsStatic;

beforeAll(async () => {
  SQL = await loadSqlJs();
});

actAsOperator();

// ---------------------------------------------------------------------------
// Harness

/** The environment of an operator whose data is s3://bucket/KEY on the local server. */
function envFor(bucket: string, overrides: Variables = {}, cwd = freshDir()): CliEnvironment {
  return operatorEnv(bucket, KEY, overrides, cwd);
}

function targetOf(bucket: string): Target {
  return { bucket, key: KEY, strategy: "sqlite" };
}

async function headOrAbsent(bucket: string): Promise<string | undefined> {
  try {
    return await etagOf(targetOf(bucket));
  } catch (error) {
    if ((error as { name?: string }).name === "NotFound") return undefined;
    throw error;
  }
}

async function currentVersionId(bucket: string): Promise<string> {
  const head = await localS3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }));
  if (head.VersionId === undefined) throw new Error("the object has no version id");
  return head.VersionId;
}

async function versionedBucket(): Promise<string> {
  const client = localS3Client();
  const bucket = await createBucket(client);
  await client.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
  return bucket;
}

interface Summary {
  id: string;
  reference: string;
  origin: string;
  destination: string;
  status: string;
  lines: unknown;
  createdAt: string;
}

/** What an operator compares between two files: the records' fields, by id. */
function summarise(records: unknown[]): Summary[] {
  return records
    .map((raw) => {
      const r = raw as Record<string, unknown>;
      return {
        id: String(r.id),
        reference: String(r.reference),
        origin: String(r.origin),
        destination: String(r.destination),
        status: String(r.status),
        lines: r.lines,
        createdAt: String(r.createdAt),
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

async function exportedRecords(bucket: string, name: string): Promise<unknown[]> {
  const file = join(freshDir(), name);
  const exported = await cli(["export", file], envFor(bucket));
  expect(exported.err).toBe("");
  expect(exported.code).toBe(0);
  return (await readRecordsFile(file, SQL)).records;
}

/** `count` records as an operator's JSON list; `tag` keeps ids and references apart. */
function jsonRecords(count: number, tag: string): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${tag.toLowerCase()}-${String(i).padStart(4, "0")}`,
    reference: `${tag}-${i}`,
    origin: `SITE-${i % 7}`,
    destination: "PARIS-02",
    status: STATUSES[i % STATUSES.length],
    lines: [
      { sku: `SKU-${i}`, quantity: (i % 9) + 1, unit: "carton" },
      { sku: `SKU-${i}-B`, quantity: 2.5 },
    ],
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  }));
}

function writeJson(records: unknown): string {
  const file = join(freshDir(), "rapatriements.json");
  writeFileSync(file, JSON.stringify(records));
  return file;
}

// ---------------------------------------------------------------------------

describe("doctor", () => {
  test("every check passes on a bucket set up as the stack sets its own, one line per check", async () => {
    const bucket = await createBucket(localS3Client());
    await configureBucket(localS3Client(), bucket, KEY);
    const result = await cli(["doctor"], envFor(bucket));
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    const checks = checksOf(result.outLines);
    expect(checks.map((c) => c.name)).toEqual(CHECKS);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.out).not.toContain("ÉCHEC");
    expect(result.out).not.toContain("→");
    expect(checkNamed(checks, "configuration").detail).toContain(
      `AWS_REGION=${REGION}, s3://${bucket}/${KEY}`,
    );
    expect(checkNamed(checks, "bucket et région").detail).toContain(bucket);
    expect(result.outLines.at(-1)).toBe(`Tout est en ordre (${CHECKS.length} vérifications).`);
  });

  test("counts the records whose author is not known (written before createdBy), without failing", async () => {
    const bucket = await createBucket(localS3Client());
    const { service } = await newEngine(targetOf(bucket));
    await service.import([sampleInput("older-1"), sampleInput("older-2")]);
    await service.create(sampleInput("signed-1"), {
      actor: "8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d",
    });
    // Settings last: the local server refuses data PUTs once the bucket policy is set.
    await configureBucket(localS3Client(), bucket, KEY);
    const result = await cli(["doctor"], envFor(bucket));
    expect(result.code).toBe(0);
    const data = checkNamed(checksOf(result.outLines), "données");
    expect(data.ok).toBe(true);
    const opening = `3 rapatriements (dont 2 sans auteur connu, écrits avant createdBy), sqlite, schéma ${currentVersion(rapatriementsSchema)}, `;
    expect(data.detail.slice(0, opening.length)).toBe(opening);
  });

  test("passes with the guide's second format: a relative path and S3_BUCKET_NAME", async () => {
    const bucket = await createBucket(localS3Client());
    const result = await cli(
      ["doctor"],
      envFor(bucket, {
        S3_RAPPATRIMENT_FILE_PATH: "rapatriements/rapatriements.json",
        S3_BUCKET_NAME: bucket,
      }),
    );
    expect(result.code).toBe(0);
    expect(checkNamed(checksOf(result.outLines), "configuration").detail).toContain(
      `s3://${bucket}/rapatriements/rapatriements.json, STORAGE_STRATEGY=json`,
    );
  });

  test.each([
    ["AWS_REGION", { AWS_REGION: undefined }],
    ["S3_RAPPATRIMENT_FILE_PATH", { S3_RAPPATRIMENT_FILE_PATH: undefined }],
    [
      "S3_BUCKET_NAME",
      { S3_RAPPATRIMENT_FILE_PATH: "rapatriements/rapatriements.json", S3_BUCKET_NAME: undefined },
    ],
  ] as const)(
    "without %s: the guide's ValueError, and a non-zero exit",
    async (variable, overrides) => {
      const result = await cli(["doctor"], envFor(uniqueBucketName(), overrides));
      expect(result.code).not.toBe(0);
      const checks = checksOf(result.outLines);
      expect(checks).toHaveLength(1);
      const [configuration] = checks;
      expect(configuration?.name).toBe("configuration");
      expect(configuration?.ok).toBe(false);
      expect(configuration?.detail).toBe(`ValueError: ${variable} est obligatoire`);
      expect(configuration?.fix).toContain(".env");
    },
  );

  test("a missing variable stops the other commands too, with the guide's message", async () => {
    const result = await cli(
      ["export", join(freshDir(), "out.json")],
      envFor(uniqueBucketName(), { AWS_REGION: undefined }),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain("ValueError: AWS_REGION est obligatoire");
    expect(result.err).toContain("npx rapatriements doctor");
  });

  test("a bucket in another region: the failing check names the region to set", async () => {
    const elsewhere = "us-west-2";
    const bucket = uniqueBucketName();
    await localS3Client(elsewhere).send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: elsewhere },
      }),
    );
    const result = await cli(["doctor"], envFor(bucket, { AWS_REGION: "eu-west-1" }));
    expect(result.code).not.toBe(0);
    const checks = checksOf(result.outLines);
    const failed = checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(["bucket et région"]);
    expect(failed[0]?.detail).toContain(elsewhere);
    expect(failed[0]?.fix).toContain(`AWS_REGION=${elsewhere}`);
  });

  test("a missing bucket: the fix is the guide's aws s3 mb", async () => {
    const bucket = uniqueBucketName();
    const result = await cli(["doctor"], envFor(bucket));
    expect(result.code).not.toBe(0);
    const check = checkNamed(checksOf(result.outLines), "bucket et région");
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`${bucket} n'existe pas`);
    expect(check.fix).toContain(`aws s3 mb s3://${bucket} --region ${REGION}`);
  });

  test("a .env file in the working directory supplies the variables", async () => {
    const bucket = await createBucket(localS3Client());
    const cwd = freshDir();
    writeFileSync(
      join(cwd, ".env"),
      [
        "STORAGE_STRATEGY=sqlite",
        `AWS_REGION=${REGION}`,
        `S3_RAPPATRIMENT_FILE_PATH=s3://${bucket}/${KEY}`,
        "",
      ].join("\n"),
    );
    const env = envFor(
      bucket,
      { AWS_REGION: undefined, S3_RAPPATRIMENT_FILE_PATH: undefined },
      cwd,
    );
    const result = await cli(["doctor"], env);
    expect(result.code).toBe(0);
    expect(checkNamed(checksOf(result.outLines), "configuration").detail).toContain(
      `AWS_REGION=${REGION}, s3://${bucket}/${KEY}, STORAGE_STRATEGY=sqlite`,
    );
  });

  test("the environment wins over .env", async () => {
    const bucket = await createBucket(localS3Client());
    const cwd = freshDir();
    writeFileSync(
      join(cwd, ".env"),
      [
        "AWS_REGION=us-west-2",
        `S3_RAPPATRIMENT_FILE_PATH=s3://${uniqueBucketName("absent")}/${KEY}`,
        "",
      ].join("\n"),
    );
    const result = await cli(["doctor"], envFor(bucket, {}, cwd));
    expect(result.code).toBe(0);
    expect(checkNamed(checksOf(result.outLines), "configuration").detail).toContain(
      `AWS_REGION=${REGION}, s3://${bucket}/${KEY}`,
    );
  });

  test("keys in .env are used when the environment has none", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", undefined);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", undefined);
    const bucket = await createBucket(localS3Client());
    const cwd = freshDir();
    writeFileSync(
      join(cwd, ".env"),
      ["AWS_ACCESS_KEY_ID=DOTENVKEY", "AWS_SECRET_ACCESS_KEY=dotenvsecret", ""].join("\n"),
    );
    const env = envFor(
      bucket,
      { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined },
      cwd,
    );
    const result = await cli(["doctor"], env);
    expect(result.code).toBe(0);
    expect(checkNamed(checksOf(result.outLines), "identifiants").detail).toContain("clé DOTE…");
  });

  test("no keys anywhere: the guide's NoCredentialsError and where to set them", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", undefined);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", undefined);
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", join(freshDir(), "credentials"));
    vi.stubEnv("AWS_CONFIG_FILE", join(freshDir(), "config"));
    const result = await cli(
      ["doctor"],
      envFor(uniqueBucketName(), {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
      }),
    );
    expect(result.code).not.toBe(0);
    const check = checkNamed(checksOf(result.outLines), "identifiants");
    expect(check.ok).toBe(false);
    expect(check.detail).toContain("NoCredentialsError: Unable to locate credentials");
    expect(check.fix).toContain("AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY");
  });

  describe("with IAM enforced and a policy lacking s3:PutObject", () => {
    const BUCKET = "doctor-no-put";
    let iam: IamServer;

    beforeAll(async () => {
      // The guide's policy without s3:PutObject.
      iam = await startIamServer({
        buckets: [BUCKET],
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["s3:GetObject", "s3:DeleteObject", "s3:ListBucket"],
              Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
            },
          ],
        }),
      });
    }, 120_000);

    afterAll(() => iam?.server.stop());

    test("names the failing write permission and its fix; read, list and delete pass", async () => {
      const { accessKeyId, secretAccessKey } = iam.user;
      vi.stubEnv("AWS_ACCESS_KEY_ID", accessKeyId);
      vi.stubEnv("AWS_SECRET_ACCESS_KEY", secretAccessKey);
      const result = await cli(
        ["doctor"],
        envFor(BUCKET, {
          AWS_ENDPOINT_URL_S3: iam.server.endpoint,
          AWS_ACCESS_KEY_ID: accessKeyId,
          AWS_SECRET_ACCESS_KEY: secretAccessKey,
        }),
      );
      expect(result.code).not.toBe(0);
      const checks = checksOf(result.outLines);
      expect(checkNamed(checks, "bucket et région").ok).toBe(true);
      const write = checkNamed(checks, "permission écriture");
      expect(write.ok).toBe(false);
      expect(write.detail).toContain("AccessDenied");
      expect(write.fix).toMatch(/^Accordez s3:PutObject sur arn:aws:s3:::doctor-no-put\/\*/);
      for (const name of ["permission lecture", "permission liste", "permission suppression"]) {
        expect(checkNamed(checks, name), name).toMatchObject({ ok: true });
      }
    });
  });
});

// ---------------------------------------------------------------------------

describe("import and export", () => {
  /** A file of the old local storage, written by SQLite, with `count` rows. */
  function legacySqliteFile(count: number): string {
    const file = join(freshDir(), "rappatriements.db");
    writeSqliteFile(
      file,
      `CREATE TABLE rappatriements (
         id TEXT PRIMARY KEY, reference TEXT NOT NULL, origin TEXT NOT NULL,
         destination TEXT NOT NULL, status TEXT NOT NULL, lines TEXT NOT NULL,
         created_at TEXT NOT NULL);
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
       INSERT INTO rappatriements
       SELECT printf('legacy-%04d', i), printf('OLD-%04d', i), 'LYON-' || (i % 5),
              'PARIS-02',
              json_extract('${JSON.stringify(STATUSES)}', '$[' || (i % 5) || ']'),
              json_array(json_object('sku', 'SKU-' || i, 'quantity', (i % 7) + 1, 'unit', 'palette'),
                         json_object('sku', 'SKU-X', 'quantity', 1)),
              strftime('%Y-%m-%dT%H:%M:%SZ', '2025-06-01', '+' || i || ' minutes')
       FROM n;`,
    );
    return file;
  }

  /** The rows as SQLite itself reads them, not as the import does. */
  function legacyRows(file: string): Summary[] {
    const rows = readSqliteRows(
      file,
      "SELECT id, reference, origin, destination, status, lines, created_at FROM rappatriements",
    ) as Record<string, string>[];
    return summarise(
      rows.map((row) => ({
        ...row,
        lines: JSON.parse(row.lines ?? ""),
        createdAt: row.created_at,
      })),
    );
  }

  test("a 1,000-row SQLite file of the old storage comes back out identical, as .db and .json", async () => {
    const source = legacySqliteFile(1000);
    const expected = legacyRows(source);
    expect(expected).toHaveLength(1000);
    expect(new Set(expected.map((r) => r.status))).toEqual(new Set(STATUSES));

    const bucket = await createBucket(localS3Client());
    const imported = await cli(["import", source], envFor(bucket));
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("1000 enregistrements trouvés (sqlite: table rappatriements)");
    expect(imported.out).toContain("importé 1000 rapatriements");

    expect(summarise(await exportedRecords(bucket, "export.db"))).toEqual(expected);
    expect(summarise(await exportedRecords(bucket, "export.json"))).toEqual(expected);
  });

  test("a JSON list of 1,000 records comes back out identical, as .db and .json", async () => {
    const records = jsonRecords(1000, "JSN");
    const source = writeJson(records);
    const bucket = await createBucket(localS3Client());
    const imported = await cli(["import", source], envFor(bucket));
    expect(imported.err).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.out).toContain("importé 1000 rapatriements");

    const expected = summarise(records);
    expect(summarise(await exportedRecords(bucket, "export.db"))).toEqual(expected);
    expect(summarise(await exportedRecords(bucket, "export.json"))).toEqual(expected);
  });

  test("an export file in JSON imports again elsewhere, unchanged", async () => {
    const records = jsonRecords(50, "RND");
    const first = await createBucket(localS3Client());
    expect((await cli(["import", writeJson(records)], envFor(first))).code).toBe(0);
    const file = join(freshDir(), "backup.json");
    expect((await cli(["export", file, "--format", "json"], envFor(first))).code).toBe(0);
    const second = await createBucket(localS3Client());
    const again = await cli(["import", file], envFor(second));
    expect(again.code).toBe(0);
    expect(again.out).toContain("(json: rapatriements-s3)");
    expect(summarise(await exportedRecords(second, "copy.db"))).toEqual(summarise(records));
  });

  test("one bad record among 1,000 refuses the whole file and leaves S3 unchanged", async () => {
    const records = jsonRecords(1000, "BAD");
    const bad = records[500] as { lines: { quantity: number }[] };
    (bad.lines[0] as { quantity: number }).quantity = 0;
    const file = writeJson(records);

    // Nothing there yet: nothing is created.
    const bucket = await createBucket(localS3Client());
    const refused = await cli(["import", file], envFor(bucket));
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("refusé : 1 enregistrement invalide dans");
    expect(refused.err).toContain("(1 erreur)");
    expect(refused.err).toContain("rien n'a été envoyé");
    // Named by its id and the line where it starts (the file is one line of JSON).
    expect(refused.err).toContain(
      "id bad-0500 (ligne 1) : lines[0].quantity : doit être un nombre supérieur à 0",
    );
    expect(await headOrAbsent(bucket)).toBeUndefined();

    // Existing data: even with --force it stays as it was.
    expect((await cli(["import", writeJson(jsonRecords(10, "OK"))], envFor(bucket))).code).toBe(0);
    const before = await headOrAbsent(bucket);
    expect(before).toBeDefined();
    const forced = await cli(["import", file, "--force"], envFor(bucket));
    expect(forced.code).toBe(1);
    expect(forced.err).toContain("id bad-0500 (ligne 1) : lines[0].quantity");
    expect(await headOrAbsent(bucket)).toBe(before);
    expect(summarise(await exportedRecords(bucket, "after.json"))).toEqual(
      summarise(jsonRecords(10, "OK")),
    );
  });

  test("import over existing data is refused without --force, and replaces with it", async () => {
    const bucket = await versionedBucket();
    const first = jsonRecords(1000, "FIRST");
    expect((await cli(["import", writeJson(first)], envFor(bucket))).code).toBe(0);
    const before = await headOrAbsent(bucket);

    const second = jsonRecords(20, "SECOND");
    const refused = await cli(["import", writeJson(second)], envFor(bucket));
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("1000 rapatriements");
    expect(refused.err).toContain("--force");
    expect(await headOrAbsent(bucket)).toBe(before);
    expect(summarise(await exportedRecords(bucket, "kept.json"))).toEqual(summarise(first));

    const forced = await cli(["import", writeJson(second), "--force"], envFor(bucket));
    expect(forced.err).toBe("");
    expect(forced.code).toBe(0);
    expect(forced.out).toContain("importé 20 rapatriements (remplacent les 1000 précédents)");
    expect(await headOrAbsent(bucket)).not.toBe(before);
    expect(summarise(await exportedRecords(bucket, "replaced.db"))).toEqual(summarise(second));
  });
});

// ---------------------------------------------------------------------------

describe("versions and restore", () => {
  const V1 = jsonRecords(3, "V1");
  const V2 = jsonRecords(2, "V2");

  /** A versioned bucket holding V1, then V2 over it; returns both version ids. */
  async function twoVersions(): Promise<{ bucket: string; v1: string; v2: string }> {
    const bucket = await versionedBucket();
    expect((await cli(["import", writeJson(V1)], envFor(bucket))).code).toBe(0);
    const v1 = await currentVersionId(bucket);
    expect((await cli(["import", writeJson(V2), "--force"], envFor(bucket))).code).toBe(0);
    const v2 = await currentVersionId(bucket);
    expect(v2).not.toBe(v1);
    return { bucket, v1, v2 };
  }

  async function references(bucket: string): Promise<string[]> {
    const { service } = await newEngine(targetOf(bucket));
    return (await service.listAll()).map((r) => r.reference).sort();
  }

  const refsOf = (records: Record<string, unknown>[]) =>
    records.map((r) => String(r.reference)).sort();

  test("lists both versions, then restores the first with --yes", async () => {
    const { bucket, v1, v2 } = await twoVersions();

    const listed = await cli(["versions"], envFor(bucket));
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(v1);
    expect(listed.out).toContain(v2);
    expect(listed.outLines.find((l) => l.includes(v2))).toContain("← actuelle");
    expect(listed.outLines.find((l) => l.includes(v1))).not.toContain("← actuelle");

    const restored = await cli(["restore", v1, "--yes"], envFor(bucket));
    expect(restored.err).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.out).toContain("3 rapatriements (actuellement 2)");
    expect(restored.out).toContain("reviennent : 3");
    expect(restored.out).toContain("disparaissent : 2");
    expect(restored.out).toContain(`restauré : la version ${v1} est de nouveau l'actuelle`);

    expect(summarise(await exportedRecords(bucket, "restored.json"))).toEqual(summarise(V1));
    expect(await references(bucket)).toEqual(refsOf(V1));
  });

  test("a write that lands while the operator confirms is kept; nothing is restored", async () => {
    const { bucket, v1 } = await twoVersions();
    const questions: string[] = [];
    const raced = await cli(["restore", v1], envFor(bucket), async (question) => {
      questions.push(question);
      const { service } = await newEngine(targetOf(bucket));
      await service.create(sampleInput("RACE"));
      return true;
    });
    expect(questions).toEqual(["Restaurer cette version ?"]);
    expect(raced.code).toBe(1);
    expect(raced.err).toContain("rien n'a été restauré");
    expect(raced.err).toContain("l'écriture concurrente est conservée");
    expect(raced.out).not.toContain("restauré :");
    expect(await references(bucket)).toEqual([...refsOf(V2), "RAP-RACE"].sort());
  });

  test("an unknown version id is a usage error that changes nothing", async () => {
    const { bucket } = await twoVersions();
    const before = await headOrAbsent(bucket);
    const result = await cli(["restore", "no-such-version", "--yes"], envFor(bucket));
    expect(result.code).toBe(2);
    expect(result.err).toContain("la version no-such-version n'existe pas");
    expect(await headOrAbsent(bucket)).toBe(before);
  });

  test("restoring the current version has nothing to do", async () => {
    const { bucket, v2 } = await twoVersions();
    const before = await headOrAbsent(bucket);
    const result = await cli(["restore", v2, "--yes"], envFor(bucket));
    expect(result.code).toBe(0);
    expect(result.out).toContain("rien à restaurer");
    expect(await headOrAbsent(bucket)).toBe(before);
  });

  test("answering no to the question changes nothing", async () => {
    const { bucket, v1 } = await twoVersions();
    const before = await headOrAbsent(bucket);
    const declined = await cli(["restore", v1], envFor(bucket), async () => false);
    expect(declined.code).toBe(1);
    expect(declined.out).toContain("abandon : rien n'a été modifié.");
    expect(await headOrAbsent(bucket)).toBe(before);
    expect(await references(bucket)).toEqual(refsOf(V2));
  });

  test("without --yes and nobody to ask, restore is a usage error and changes nothing", async () => {
    const { bucket, v1 } = await twoVersions();
    const before = await headOrAbsent(bucket);
    const result = await cli(["restore", v1], envFor(bucket));
    expect(result.code).toBe(2);
    expect(result.err).toContain("--yes");
    expect(result.out).not.toContain("restauré :");
    expect(await headOrAbsent(bucket)).toBe(before);
    expect(await references(bucket)).toEqual(refsOf(V2));
  });
});

// ---------------------------------------------------------------------------

describe("bad arguments", () => {
  const env = () => envFor(uniqueBucketName());

  test.each([
    ["no command", [], "commande manquante"],
    ["an unknown command", ["frobnicate"], "commande inconnue « frobnicate »"],
    ["import without FILE", ["import"], "import attend FICHIER"],
    ["export without FILE", ["export"], "export attend FICHIER"],
    ["restore without VERSION_ID", ["restore"], "restore attend VERSION_ID"],
    ["an extra argument", ["versions", "extra"], "versions ne prend pas d'argument (reçu : extra)"],
    ["a second FILE", ["import", "a.db", "b.db"], "import attend FICHIER"],
    ["--force on doctor", ["doctor", "--force"], "--force ne s'applique pas à doctor"],
    ["--yes on export", ["export", "a.db", "--yes"], "--yes ne s'applique pas à export"],
    ["an unknown option", ["doctor", "--verbose"], "--verbose"],
  ])("%s: exit 2 with the problem and the usage on err", async (_, argv, problem) => {
    const result = await cli(argv, env());
    expect(result.code).toBe(2);
    expect(result.err).toContain(problem);
    expect(result.err).toContain("usage : npx rapatriements <commande>");
    expect(result.out).toBe("");
  });

  test("--format xml: exit 2, the allowed formats named, no file written", async () => {
    const file = join(freshDir(), "out.xml");
    const result = await cli(["export", file, "--format", "xml"], env());
    expect(result.code).toBe(2);
    expect(result.err).toContain('--format doit valoir sqlite, json ou csv (reçu : "xml")');
    expect(existsSync(file)).toBe(false);
  });

  test("export over an existing file without --force: exit 2, the file untouched", async () => {
    const bucket = await createBucket(localS3Client());
    expect((await cli(["import", writeJson(jsonRecords(5, "EX"))], envFor(bucket))).code).toBe(0);
    const file = join(freshDir(), "precious.json");
    writeFileSync(file, "keep me");
    const result = await cli(["export", file], envFor(bucket));
    expect(result.code).toBe(2);
    expect(result.err).toContain(`${file} existe déjà`);
    expect(result.err).toContain("--force");
    expect(readFileSync(file, "utf8")).toBe("keep me");

    const forced = await cli(["export", file, "--force"], envFor(bucket));
    expect(forced.code).toBe(0);
    expect(summarise((await readRecordsFile(file, SQL)).records)).toEqual(
      summarise(jsonRecords(5, "EX")),
    );
  });

  test("export with no data yet: exit 1, no file written", async () => {
    const bucket = await createBucket(localS3Client());
    const file = join(freshDir(), "empty.db");
    const result = await cli(["export", file], envFor(bucket));
    expect(result.code).toBe(1);
    expect(result.err).toContain("aucune donnée à exporter");
    expect(existsSync(file)).toBe(false);
  });

  test("import of a file that does not exist: exit 1 and the path named", async () => {
    const bucket = await createBucket(localS3Client());
    const file = join(freshDir(), "missing.db");
    const result = await cli(["import", file], envFor(bucket));
    expect(result.code).toBe(1);
    expect(result.err).toContain(file);
    expect(await headOrAbsent(bucket)).toBeUndefined();
  });
});
