/**
 * Replacing the data knowing what can come back, against the local S3 server:
 * `import --force` on a bucket without versioning would destroy the current
 * records for good, so it asks on a terminal, takes `--yes` in a script, and
 * otherwise refuses; `versions` shows how many records each version holds so
 * the operator can pick one; `restore` names what changes by record id.
 */
// @ts-nocheck

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { HeadObjectCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import { createBucket, localS3Client, newEngine, sampleInput } from "../support/local-s3.ts";

const KEY = "rapatriements/rapatriements.db";

actAsOperator();

function recordsFile(count: number, tag: string): string {
  const file = join(freshDir(), `${tag}.json`);
  const records = Array.from({ length: count }, (_, i) => ({
    reference: `${tag}-${i}`,
    origin: "LYON-01",
    destination: "PARIS-02",
    lines: [{ sku: `SKU-${i}`, quantity: i + 1 }],
  }));
  writeFileSync(file, JSON.stringify(records));
  return file;
}

async function bucketWith(records: number, versioned: boolean) {
  const s3 = localS3Client();
  const bucket = await createBucket(s3);
  if (versioned) {
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: bucket,
        VersioningConfiguration: { Status: "Enabled" },
      }),
    );
  }
  const env = operatorEnv(bucket, KEY);
  if (records > 0) expect((await cli(["import", recordsFile(records, "OLD")], env)).code).toBe(0);
  const etag = async () =>
    (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).ETag;
  return { bucket, env, etag };
}

describe("import --force on a bucket without versioning", () => {
  test("with no terminal and no --yes: refused, naming both ways to keep the data; nothing changes", async () => {
    const { bucket, env, etag } = await bucketWith(3, false);
    const before = await etag();
    const result = await cli(["import", recordsFile(2, "NEW"), "--force"], env);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      "refusé : --force remplacerait les 3 rapatriements actuels sans aucun moyen de les restaurer (le bucket n'est pas versionné)",
    );
    expect(result.err).toContain(
      `aws s3api put-bucket-versioning --bucket ${bucket} --versioning-configuration Status=Enabled`,
    );
    expect(result.err).toContain("npx rapatriements export sauvegarde.db");
    expect(await etag()).toBe(before);
  });

  test("on a terminal the operator is asked: no keeps everything, yes replaces", async () => {
    const { env, etag } = await bucketWith(1, false);
    const before = await etag();
    const questions: string[] = [];
    const no = await cli(["import", recordsFile(2, "NEW"), "--force"], env, async (q) => {
      questions.push(q);
      return false;
    });
    expect(no.code).toBe(1);
    expect(questions).toEqual([
      "--force remplacerait l'unique rapatriement actuel sans aucun moyen de le restaurer (le bucket n'est pas versionné). Remplacer quand même ?",
    ]);
    expect(no.out).toContain("abandon : rien n'a été modifié.");
    expect(await etag()).toBe(before);

    const yes = await cli(["import", recordsFile(2, "NEW"), "--force"], env, async () => true);
    expect(yes.code).toBe(0);
    expect(yes.out).toContain("importé 2 rapatriements (remplace l'unique précédent)");
  });

  test("--yes replaces in a script, saying what was given up", async () => {
    const { env } = await bucketWith(3, false);
    const result = await cli(["import", recordsFile(2, "NEW"), "--force", "--yes"], env);
    expect(result.code).toBe(0);
    expect(result.out).toContain("confirmé par --yes");
  });

  test("with no data yet there is nothing to lose: no question", async () => {
    const { env } = await bucketWith(0, false);
    const result = await cli(["import", recordsFile(2, "NEW"), "--force"], env, async () => {
      throw new Error("asked for nothing to lose");
    });
    expect(result.code).toBe(0);
  });
});

describe("versions and restore on a versioned bucket", () => {
  test("versions shows how many records each version holds", async () => {
    const { env } = await bucketWith(3, true);
    expect((await cli(["import", recordsFile(5, "NEW"), "--force"], env)).code).toBe(0);
    const listed = await cli(["versions"], env);
    expect(listed.code).toBe(0);
    const rows = listed.outLines.filter((line) => line.startsWith("  "));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/ 5 rapatriements {2}← actuelle$/);
    expect(rows[1]).toMatch(/ 3 rapatriements$/);
  });

  test("restore compares by id: a record re-created under the same reference goes away and comes back", async () => {
    const { bucket, env } = await bucketWith(0, true);
    const { service } = await newEngine({ bucket, key: KEY, strategy: "sqlite" });
    const first = await service.create(sampleInput("same"));
    const s3 = localS3Client();
    const version = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: KEY }))).VersionId;
    await service.delete(first.id);
    const second = await service.create(sampleInput("same"));
    expect(second.reference).toBe(first.reference);

    const restored = await cli(["restore", version ?? "", "--yes"], env);
    expect(restored.code).toBe(0);
    expect(restored.out).toContain(`reviennent : 1 — ${first.reference} [${first.id}]`);
    expect(restored.out).toContain(`disparaissent : 1 — ${second.reference} [${second.id}]`);
  });
});
