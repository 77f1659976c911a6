/**
 * Operators' CLI: `versions` lists the data object's versions (the bucket is
 * versioned); `restore VERSION_ID` shows what a restore would change, then
 * writes that version back conditionally, so a write that lands meanwhile is
 * never lost: the restore stops and says so.
 */
import { randomUUID } from "node:crypto";
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Rapatriement } from "../../lambda/rapatriements/model.ts";
import {
  carryOutbox,
  raiseRestoredVersions,
  recordSummary,
} from "../../lambda/rapatriements/outbox.ts";
import { count, listAll } from "../../lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { objectEncryption } from "../../lambda/storage/encryption.ts";
import { sealSave } from "../../lambda/storage/migrations.ts";
import { isNoSuchKey, isWriteConflict } from "../../lambda/storage/s3-errors.ts";
import type { Database } from "../../lambda/storage/sql-js.ts";
import { flattenLines } from "../data/csv-export.ts";
import { frenchNumber } from "../data/csv-french.ts";
import { operatorActor } from "../data/operator.ts";
import { plural } from "../data/plural.ts";
import { readVersioning, versioningFix } from "./bucket-settings.ts";
import { type Context, formatBytes, type Io, UsageError } from "./context.ts";

/** One version of the data object, or a delete marker. */
export interface KeyVersion {
  id: string;
  date: Date | undefined;
  /** Undefined for a delete marker. */
  size: number | undefined;
  latest: boolean;
}

/** Every version and delete marker of exactly `key`, newest first (needs s3:ListBucketVersions). */
export async function listKeyVersions(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<KeyVersion[]> {
  const rows: KeyVersion[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: key,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      if (v.Key !== key) continue;
      const row = { id: v.VersionId ?? "null", date: v.LastModified, latest: v.IsLatest === true };
      rows.push({ ...row, size: v.Size ?? 0 });
    }
    for (const m of page.DeleteMarkers ?? []) {
      if (m.Key !== key) continue;
      rows.push({
        id: m.VersionId ?? "null",
        date: m.LastModified,
        size: undefined,
        latest: m.IsLatest === true,
      });
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
  return rows.sort((a, b) => (b.date?.getTime() ?? 0) - (a.date?.getTime() ?? 0));
}

/** Versions whose records are counted (each one is downloaded); older ones show their size only. */
const COUNTED_VERSIONS = 20;

export async function listVersions(context: Context, io: Io): Promise<number> {
  const { config, s3 } = context;
  const [versions, versioning] = await Promise.all([
    listKeyVersions(s3, config.bucket, config.key),
    readVersioning(s3, config.bucket),
  ]);
  // Known to be off: each write replaced the object, whose one version, "null", is the current one.
  const off = versioning.ok && !versioning.enabled;
  if (off) {
    io.out(
      `le versionnement ${versioning.value?.Status === "Suspended" ? "est suspendu" : "n'a jamais été activé"} sur le bucket ${config.bucket} : chaque écriture remplace l'objet de données sans garder l'ancien.`,
    );
  }
  if (versions.length === 0) {
    io.out(`aucune version de s3://${config.bucket}/${config.key}`);
  } else {
    await listEach(context, io, versions);
  }
  // The current object is what a restore would replace, never a version to bring back.
  const restorable = versions.some((v) => v.size !== undefined && !v.latest);
  if (restorable) {
    io.out("restaurer une version : npx rapatriements restore VERSION_ID");
  } else if (versions.length > 0) {
    io.out("rien à restaurer : aucune version antérieure n'est gardée.");
  }
  if (off) {
    io.out(
      `pour garder les prochaines versions, activez le versionnement : ${versioningFix(config.bucket)}`,
    );
  }
  return 0;
}

async function listEach(context: Context, io: Io, versions: KeyVersion[]): Promise<void> {
  const { config } = context;
  io.out(`versions de s3://${config.bucket}/${config.key}, la plus récente d'abord :`);
  let counted = 0;
  for (const version of versions) {
    let what = "(suppression)";
    if (version.size !== undefined) {
      counted += 1;
      const records = counted <= COUNTED_VERSIONS ? await recordsIn(context, version.id) : "";
      what = `${formatBytes(version.size).padStart(10)}  ${records}`;
    }
    io.out(
      `  ${version.id.padEnd(36)}  ${version.date?.toISOString() ?? "?".padEnd(24)}  ${what}${version.latest ? "  ← actuelle" : ""}`,
    );
  }
  if (counted > COUNTED_VERSIONS) {
    io.out(`(rapatriements comptés pour les ${COUNTED_VERSIONS} versions les plus récentes)`);
  }
}

/** "12 rapatriements", or why that version could not be read, so an operator can pick one. */
async function recordsIn({ config, s3, sql }: Context, versionId: string): Promise<string> {
  try {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: config.bucket, Key: config.key, VersionId: versionId }),
    );
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    const db = codecFor(config.strategy).decode(bytes, sql, rapatriementsSchema);
    try {
      return plural(count(db), "rapatriement");
    } finally {
      db.close();
    }
  } catch (error) {
    return `illisible (${(error as { code?: string; name?: string }).code ?? (error as Error).name})`;
  }
}

export async function restoreVersion(
  context: Context,
  io: Io,
  versionId: string,
  options: { yes: boolean },
): Promise<number> {
  const { config, s3, sql } = context;
  const codec = codecFor(config.strategy);
  const location = { Bucket: config.bucket, Key: config.key };

  let wanted: Database;
  try {
    const object = await s3.send(new GetObjectCommand({ ...location, VersionId: versionId }));
    wanted = codec.decode(
      (await object.Body?.transformToByteArray()) ?? new Uint8Array(),
      sql,
      rapatriementsSchema,
    );
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (isNoSuchKey(error) || name === "NoSuchVersion" || name === "InvalidArgument") {
      throw new UsageError(
        `la version ${versionId} n'existe pas (voir npx rapatriements versions)`,
      );
    }
    throw error;
  }

  // The current data, kept open for its outbox: the restore carries it over.
  let currentDb: Database | undefined;
  try {
    let currentEtag: string | null = null;
    let current: Rapatriement[] = [];
    try {
      const object = await s3.send(new GetObjectCommand(location));
      currentEtag = object.ETag ?? null;
      const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
      try {
        currentDb = codec.decode(bytes, sql, rapatriementsSchema);
        current = listAll(currentDb);
      } catch (error) {
        io.out(
          `les données actuelles sont illisibles (${(error as Error).message}) ; la restauration les remplace, elles restent dans les versions.`,
        );
      }
    } catch (error) {
      if (!isNoSuchKey(error)) throw error;
    }

    const target = listAll(wanted);
    const changes = differences(current, target);
    io.out(
      `restaurer la version ${versionId} : ${target.length} rapatriements (actuellement ${current.length})`,
    );
    for (const [label, refs] of changes) {
      if (refs.length === 0) continue;
      if (label === "changent") {
        // One line each, naming the fields that change: the list alone would not say what.
        io.out(`  ${label} : ${refs.length}`);
        for (const line of refs.slice(0, 10)) io.out(`    ${line}`);
        if (refs.length > 10) io.out(`    … et ${plural(refs.length - 10, "autre", "autres")}`);
        continue;
      }
      io.out(
        `  ${label} : ${refs.length} — ${refs.slice(0, 10).join(", ")}${refs.length > 10 ? ", …" : ""}`,
      );
    }
    if (changes.every(([, refs]) => refs.length === 0) && currentEtag !== null) {
      io.out("rien à restaurer : les rapatriements sont identiques.");
      return 0;
    }
    if (!options.yes) {
      if (io.confirm === undefined) {
        // One line, not the usage: the command was right, only the answer is missing.
        io.err(
          "rapatriements : confirmez avec --yes (aucun terminal pour le demander) : rien n'a été restauré",
        );
        return 2;
      }
      if (!(await io.confirm("Restaurer cette version ?"))) {
        io.out("abandon : rien n'a été modifié.");
        return 1;
      }
    }

    // Written as a new save, with its own commit id and its event, on the
    // version shown above only. The events not yet published are the current
    // object's: they go on (see carryOutbox).
    const now = new Date();
    if (currentDb !== undefined) {
      carryOutbox(currentDb, wanted);
      raiseRestoredVersions(currentDb, wanted);
    }
    const [back, gone, changed] = changes.map(([, refs]) => refs.length);
    recordSummary(wanted, "restored", now, operatorActor(), {
      count: target.length,
      created: back ?? 0,
      updated: changed ?? 0,
      deleted: gone ?? 0,
      fromVersion: versionId,
    });
    sealSave(wanted, rapatriementsSchema, { commitId: `restore.${randomUUID()}`, now });
    const bytes = codec.encode(wanted, rapatriementsSchema);
    try {
      const put = await s3.send(
        new PutObjectCommand({
          ...location,
          Body: bytes,
          ContentType: codec.contentType,
          ...objectEncryption(config.sseKmsKeyId),
          ...(currentEtag === null ? { IfNoneMatch: "*" } : { IfMatch: currentEtag }),
        }),
      );
      io.out(
        `restauré : la version ${versionId} est de nouveau l'actuelle (nouvelle version ${put.VersionId ?? "?"}, ${formatBytes(bytes.length)}).`,
      );
      return 0;
    } catch (error) {
      if (!isWriteConflict(error)) throw error;
      io.err(
        "les données ont changé pendant la restauration : rien n'a été restauré et l'écriture concurrente est conservée. Relancez pour voir les nouvelles différences.",
      );
      return 1;
    }
  } finally {
    wanted.close();
    currentDb?.close();
  }
}

/** What a restore changes, by record id: comes back, goes away, changes (each with its fields). */
function differences(current: Rapatriement[], target: Rapatriement[]): [string, string[]][] {
  const now = new Map(current.map((r) => [r.id, r]));
  const then = new Map(target.map((r) => [r.id, r]));
  // By id, named with the reference: a record deleted then re-created under the
  // same reference is two records, one going away and one coming back.
  const back = target.filter((r) => !now.has(r.id)).map(label);
  const gone = current.filter((r) => !then.has(r.id)).map(label);
  const changed = target.flatMap((r) => change(now.get(r.id), r));
  return [
    ["reviennent", back],
    ["disparaissent", gone],
    ["changent", changed],
  ];
}

const label = (r: Rapatriement) => `${r.reference} [${r.id}]`;

/** The fields an operator reads, in French, in the order a restore shows them. */
const FIELD_NAMES: Readonly<Record<string, string>> = {
  reference: "référence",
  status: "statut",
  origin: "origine",
  destination: "destination",
  lines: "lignes",
  requestedAt: "demandé le",
  expectedAt: "attendu le",
  comment: "commentaire",
  createdAt: "créé le",
  createdBy: "créé par",
  updatedAt: "modifié le",
  updatedBy: "modifié par",
};

/**
 * A record the restore keeps but changes, in one line: its name, its version
 * now → restored when they differ, and each field as it is now → as the
 * restore makes it (`statut : received → in_transit`). None when it is the same.
 */
function change(was: Rapatriement | undefined, then: Rapatriement): string[] {
  if (was === undefined) return [];
  const fields = Object.entries(FIELD_NAMES)
    .filter(([field]) => shown(was, field) !== shown(then, field))
    .map(([field, name]) => `${name} : ${shown(was, field)} → ${shown(then, field)}`);
  if (fields.length === 0 && was.version === then.version) return [];
  const named = `${label(then)}${was.version === then.version ? "" : ` (v${was.version} → v${then.version})`}`;
  return [fields.length === 0 ? named : `${named} : ${fields.join(" ; ")}`];
}

/** A field's value as the restore shows it: lines as in the French CSV, long text cut, none as « (vide) ». */
function shown(record: Rapatriement, field: string): string {
  const value: unknown = (record as unknown as Record<string, unknown>)[field];
  if (value === undefined || value === null || value === "") return "(vide)";
  const text = field === "lines" ? flattenLines(record.lines, frenchNumber) : String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
