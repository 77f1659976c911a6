/**
 * Operators' CLI: `doctor`'s last check, the data object itself. Beyond "is it
 * readable in the configured format", it names the two states in which the
 * functions would not do what the operator expects: a file an earlier
 * application wrote at the key (refused until imported), and an object that
 * was deleted while earlier versions exist (the functions refuse everything,
 * DATA_OBJECT_DELETED, but cannot list versions with the guide's four
 * permissions: doctor names the version to restore).
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Config } from "../../lambda/config.ts";
import { count, countWithoutAuthor } from "../../lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { readPragma } from "../../lambda/storage/migrations.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import { plural } from "../data/plural.ts";
import { isOwnFormat, type RecordsFile, readRecordsBytes } from "../data/records-file.ts";
import { attempt, type Check, notVerifiable } from "./check.ts";
import { formatBytes } from "./context.ts";
import { listKeyVersions } from "./versions.ts";

const NAME = "données";

/** The exact command that converts a legacy file at the data key, and what it keeps. */
export function importCommand(config: Config, versioned: boolean | undefined): string {
  const keeps = versioned
    ? "l'original reste une version antérieure de l'objet"
    : `une copie de l'original est d'abord écrite à côté (${config.key}.avant-import-…)${versioned === false ? ", le bucket n'étant pas versionné" : ""}`;
  return `importez-le : npx rapatriements import s3://${config.bucket}/${config.key} (le convertit sur place ; ${keeps})`;
}

export async function checkData(
  s3: S3Client,
  config: Config,
  versioned: boolean | undefined,
): Promise<Check> {
  const location = `s3://${config.bucket}/${config.key}`;
  const got = await attempt(() =>
    s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key })),
  );
  if (!got.ok) {
    if (got.status === 404) return checkVanished(s3, config);
    return { name: NAME, level: "fail", detail: `${got.error} en lisant ${location}` };
  }
  const bytes = (await got.value?.Body?.transformToByteArray()) ?? new Uint8Array();
  const sql = await loadSqlJs();
  let unreadable: Error;
  try {
    const db = codecFor(config.strategy).decode(bytes, sql, rapatriementsSchema);
    const records = count(db);
    const unknown = countWithoutAuthor(db);
    const version = readPragma(db, "user_version");
    db.close();
    // Not a fault: who wrote a record before createdBy existed is not known.
    const authors =
      unknown === 0 ? "" : ` (dont ${unknown} sans auteur connu, écrits avant createdBy)`;
    return {
      name: NAME,
      level: "ok",
      detail: `${plural(records, "rapatriement")}${authors}, ${config.strategy}, schéma ${version}, ${formatBytes(bytes.length)}`,
    };
  } catch (error) {
    unreadable = error as Error;
  }
  const other = recognise(bytes, sql, location);
  if (other !== undefined && isOwnFormat(other)) {
    return {
      name: NAME,
      level: "fail",
      detail: `STORAGE_UNREADABLE : ${location} est un fichier rapatriements-s3 au format ${other.format}, pas ${config.strategy}`,
      fix: `Mettez STORAGE_STRATEGY=${other.format} (ou contexte storageStrategy=${other.format} de la pile).`,
    };
  }
  if (other !== undefined) {
    return {
      name: NAME,
      level: "fail",
      detail: `fichier d'une ancienne application (${other.source}, ${plural(other.records.length, "enregistrement")}) : les fonctions le refusent (STORAGE_UNREADABLE) et ne l'écrasent jamais`,
      fix: importCommand(config, versioned),
    };
  }
  return {
    name: NAME,
    level: "fail",
    detail: `STORAGE_UNREADABLE : ${unreadable.message}`,
    fix: "Vérifiez STORAGE_STRATEGY (sqlite ou json) ; sinon listez les versions (npx rapatriements versions) et restaurez la dernière bonne (npx rapatriements restore VERSION_ID).",
  };
}

/** The records of a file this engine cannot open, when it is one the import understands. */
function recognise(bytes: Uint8Array, sql: SqlJsStatic, location: string): RecordsFile | undefined {
  try {
    return readRecordsBytes(bytes, sql, location);
  } catch {
    return undefined;
  }
}

/** No current object: a first start, or a deletion that earlier versions would undo. */
async function checkVanished(s3: S3Client, config: Config): Promise<Check> {
  const listed = await attempt(() => listKeyVersions(s3, config.bucket, config.key));
  if (!listed.ok) {
    const refused = notVerifiable(NAME, listed, "s3:ListBucketVersions", config.bucket);
    return {
      ...refused,
      detail: `pas d'objet actuel ; des versions antérieures (objet supprimé) ne sont pas vérifiables : ${listed.error}`,
    };
  }
  const versions = listed.value ?? [];
  const latest = versions.find((v) => v.size !== undefined);
  if (latest === undefined) {
    return {
      name: NAME,
      level: "ok",
      detail: "pas encore de données : l'objet sera créé à la première écriture",
    };
  }
  const marker = versions.find((v) => v.size === undefined && v.latest);
  return {
    name: NAME,
    level: "fail",
    detail: `aucun objet actuel, mais ${plural(versions.filter((v) => v.size !== undefined).length, "version antérieure existe", "versions antérieures existent")}${marker?.date === undefined ? "" : ` (supprimé le ${marker.date.toISOString()})`} : les fonctions refusent toute lecture et écriture (DATA_OBJECT_DELETED) jusqu'à la restauration`,
    fix: `Restaurez la dernière version (${latest.date?.toISOString() ?? "?"}, ${formatBytes(latest.size ?? 0)}) : npx rapatriements restore ${latest.id}`,
  };
}
