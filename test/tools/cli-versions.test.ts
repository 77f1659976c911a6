/**
 * `npx rapatriements versions` and `restore` as the operator types them, on
 * the local S3 server: a restore names each field it changes, with its value
 * now and restored; without a terminal it asks for --yes in one line (run
 * through the CLI's door, stdin not a terminal); on a bucket that is not
 * versioned, `versions` says so, how to turn it on, and offers no restore of
 * the current object.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { HeadObjectCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import type { CliEnvironment } from "../../tools/cli/context.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import { createBucket, localS3Client } from "../support/local-s3.ts";
import { runProcess } from "../support/process-run.ts";

actAsOperator();

const KEY = "rapatriements/rapatriements.db";
const DOOR = join(PROJECT_ROOT, "tools", "cli", "rapatriements.mjs");

const envFor = (bucket: string): CliEnvironment => operatorEnv(bucket, KEY);

async function bucket(versioning?: "Enabled" | "Suspended"): Promise<string> {
  const client = localS3Client();
  const name = await createBucket(client);
  if (versioning !== undefined) await setVersioning(name, versioning);
  return name;
}

async function setVersioning(name: string, status: "Enabled" | "Suspended"): Promise<void> {
  await localS3Client().send(
    new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }),
  );
}

async function currentVersionId(name: string): Promise<string> {
  const head = await localS3Client().send(new HeadObjectCommand({ Bucket: name, Key: KEY }));
  return head.VersionId ?? "";
}

/** Two records as an operator's JSON file, RAP-2024-002 with the status given. */
function file(status: string, comment?: string): string {
  const path = join(freshDir(), "rapatriements.json");
  const dates = { createdAt: "2024-05-01T10:00:00.000Z", updatedAt: "2024-05-01T10:00:00.000Z" };
  const records = [
    {
      id: "1",
      reference: "RAP-2024-001",
      origin: "LYON-01",
      destination: "PARIS-02",
      status: "requested",
      lines: [{ sku: "PAL", quantity: 41.5 }],
      ...dates,
    },
    {
      id: "2",
      reference: "RAP-2024-002",
      origin: "LYON-01",
      destination: "PARIS-02",
      status,
      lines: [{ sku: "PAL", quantity: 2 }],
      ...(comment === undefined ? {} : { comment }),
      ...dates,
    },
  ];
  writeFileSync(path, JSON.stringify(records));
  return path;
}

async function imported(env: CliEnvironment, path: string, ...options: string[]): Promise<void> {
  const run = await cli(["import", path, ...options], env);
  expect(run.err).toBe("");
  expect(run.code).toBe(0);
}

/** A versioned bucket where RAP-2024-002 was in transit (the returned version), then received. */
async function receivedAfterInTransit(): Promise<{ name: string; inTransit: string }> {
  const name = await bucket("Enabled");
  await imported(envFor(name), file("in_transit"));
  const inTransit = await currentVersionId(name);
  await imported(envFor(name), file("received", "arrivé le 3"), "--force");
  return { name, inTransit };
}

describe("restore", () => {
  test("names each field that changes, as it is now → as the restore makes it", async () => {
    const { name, inTransit } = await receivedAfterInTransit();

    const restored = await cli(["restore", inTransit, "--yes"], envFor(name));
    expect(restored.err).toBe("");
    expect(restored.code).toBe(0);
    expect(restored.outLines.slice(0, 3)).toEqual([
      `restaurer la version ${inTransit} : 2 rapatriements (actuellement 2)`,
      "  changent : 1",
      "    RAP-2024-002 [2] : statut : received → in_transit ; commentaire : arrivé le 3 → (vide)",
    ]);
    expect(restored.out).toContain(`restauré : la version ${inTransit} est de nouveau l'actuelle`);

    // Restored: the status is back, and the same restore now has nothing to do.
    const again = await cli(["restore", inTransit, "--yes"], envFor(name));
    expect(again.out).toContain("rien à restaurer : les rapatriements sont identiques.");
    expect(again.out).not.toContain("changent");
  });

  test("without a terminal and without --yes: one line asking for --yes, and nothing restored", async () => {
    const { name, inTransit } = await receivedAfterInTransit();
    const before = await currentVersionId(name);
    const { processEnv } = envFor(name);

    // As typed in a script: the door, stdin and stderr not terminals.
    const run = await runProcess(process.execPath, [DOOR, "restore", inTransit], {
      cwd: freshDir(),
      env: { ...processEnv, PATH: process.env.PATH ?? "" },
    });
    expect(run.stderr).toBe(
      "rapatriements : confirmez avec --yes (aucun terminal pour le demander) : rien n'a été restauré\n",
    );
    expect(run.code).toBe(2);
    // What the restore would change is shown first, as with a terminal.
    expect(run.stdout).toContain("RAP-2024-002 [2] : statut : received → in_transit");
    expect(await currentVersionId(name)).toBe(before);
  });
});

describe("versions", () => {
  test("on a bucket never versioned: says so, offers no restore, and gives the command that turns it on", async () => {
    const name = await bucket();
    await imported(envFor(name), file("in_transit"));

    const listed = await cli(["versions"], envFor(name));
    expect(listed.err).toBe("");
    expect(listed.code).toBe(0);
    const [first, header, current, ...rest] = listed.outLines;
    expect(first).toBe(
      `le versionnement n'a jamais été activé sur le bucket ${name} : chaque écriture remplace l'objet de données sans garder l'ancien.`,
    );
    expect(header).toBe(`versions de s3://${name}/${KEY}, la plus récente d'abord :`);
    expect(current).toMatch(/^ {2}null\s.*2 rapatriements {2}← actuelle$/);
    expect(rest).toEqual([
      "rien à restaurer : aucune version antérieure n'est gardée.",
      `pour garder les prochaines versions, activez le versionnement : aws s3api put-bucket-versioning --bucket ${name} --versioning-configuration Status=Enabled`,
    ]);
    expect(listed.out).not.toContain("restore VERSION_ID");

    // The advice followed (the same call as that command): the next write keeps this one.
    await setVersioning(name, "Enabled");
    await imported(envFor(name), file("received"), "--force");
    const after = await cli(["versions"], envFor(name));
    expect(after.out).not.toContain("versionnement");
    expect(after.outLines.at(-1)).toBe(
      "restaurer une version : npx rapatriements restore VERSION_ID",
    );
  });

  test("on a suspended bucket: says so, and offers the versions kept before", async () => {
    const { name, inTransit } = await receivedAfterInTransit();
    await setVersioning(name, "Suspended");

    const listed = await cli(["versions"], envFor(name));
    expect(listed.code).toBe(0);
    expect(listed.outLines[0]).toBe(
      `le versionnement est suspendu sur le bucket ${name} : chaque écriture remplace l'objet de données sans garder l'ancien.`,
    );
    expect(listed.out).toContain(inTransit);
    expect(listed.outLines.slice(-2)).toEqual([
      "restaurer une version : npx rapatriements restore VERSION_ID",
      `pour garder les prochaines versions, activez le versionnement : aws s3api put-bucket-versioning --bucket ${name} --versioning-configuration Status=Enabled`,
    ]);
  });

  test("on a versioned bucket: no word of versioning, and the earlier version offered", async () => {
    const { name, inTransit } = await receivedAfterInTransit();
    const listed = await cli(["versions"], envFor(name));
    expect(listed.outLines[0]).toBe(`versions de s3://${name}/${KEY}, la plus récente d'abord :`);
    expect(listed.outLines.find((l) => l.includes(inTransit))).not.toContain("← actuelle");
    expect(listed.outLines.at(-1)).toBe(
      "restaurer une version : npx rapatriements restore VERSION_ID",
    );
  });
});
