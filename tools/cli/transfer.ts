/**
 * Operators' CLI: `import FILE` uploads an existing local file of
 * rapatriements after validating every record, and refuses to replace
 * existing data unless `--force` (it still writes conditionally); `import
 * s3://bucket/key` (the data object itself) converts in place a file an
 * earlier application wrote there; `export FILE` downloads the current data
 * as SQLite or JSON.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import type { StorageStrategy } from "../../lambda/config.ts";
import { ImportRefusedError, ValidationError } from "../../lambda/errors.ts";
import { count } from "../../lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { codecFor } from "../../lambda/storage/codecs.ts";
import { emptyReport } from "../../lambda/storage/database-object.ts";
import { isNoSuchKey, isWriteConflict } from "../../lambda/storage/s3-errors.ts";
import { createDatabase, recordCommit } from "../../lambda/storage/schema.ts";
import { type RecordsFile, readRecordsBytes, readRecordsFile } from "../data/records-file.ts";
import { versioningFix } from "./bucket-settings.ts";
import { attempt, plural } from "./check.ts";
import { type Context, formatBytes, type Io, UsageError } from "./context.ts";

const SHOWN_ERRORS = 20;

export async function importFile(
  context: Context,
  io: Io,
  file: string,
  options: { force: boolean; yes?: boolean },
): Promise<number> {
  if (file.startsWith("s3://")) return importInPlace(context, io, file);
  const { config, store, sql } = context;
  const started = performance.now();
  io.out(`lecture de ${file}…`);
  const read = await readRecordsFile(file, sql);
  const apply = validated(context, io, read, file, { replace: options.force });
  if (apply === undefined) return 1;
  if (options.force && !(await mayReplaceForGood(context, io, options.yes === true))) return 1;
  io.out(
    `validation : ${read.records.length} enregistrements valides ; envoi vers s3://${config.bucket}/${config.key}…`,
  );
  const report = emptyReport();
  try {
    const result = await store.write(apply, { report });
    const put = report.s3Calls.filter((c) => c.command === "PutObject").at(-1);
    io.out(
      `importé ${plural(result.imported, "rapatriement")}${result.replaced === 0 ? "" : result.replaced === 1 ? " (remplace l'unique précédent)" : ` (remplacent les ${result.replaced} précédents)`} en ${Math.round(performance.now() - started)} ms${put === undefined ? "" : ` (écriture conditionnelle : ${Math.round(put.ms)} ms)`}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ImportRefusedError) {
      io.err(
        `refusé : ${error.message.replace("replace them explicitly to import", "relancez avec --force pour les remplacer")}`,
      );
      return 1;
    }
    throw error;
  }
}

/**
 * `--force` replaces the current records. On a versioned bucket they stay an
 * earlier version (restore brings them back); otherwise they would be gone for
 * good, so the operator must say so: a question on a terminal, `--yes` in a
 * script, else a refusal naming the two ways to keep them.
 */
async function mayReplaceForGood(context: Context, io: Io, yes: boolean): Promise<boolean> {
  const { config, s3, store } = context;
  const versioning = await attempt(() =>
    s3.send(new GetBucketVersioningCommand({ Bucket: config.bucket })),
  );
  if (versioning.value?.Status === "Enabled") return true;
  const existing = await store.read((db) => count(db));
  if (existing === 0) return true;
  const why = versioning.ok
    ? "le bucket n'est pas versionné"
    : "le versionnement du bucket n'a pas pu être lu (s3:GetBucketVersioning)";
  const current =
    existing === 1 ? "l'unique rapatriement actuel" : `les ${existing} rapatriements actuels`;
  const loss = `--force remplacerait ${current} sans aucun moyen de ${existing === 1 ? "le" : "les"} restaurer (${why})`;
  if (yes) {
    io.out(`attention : ${loss} ; confirmé par --yes.`);
    return true;
  }
  if (io.confirm !== undefined) {
    if (await io.confirm(`${loss}. Remplacer quand même ?`)) return true;
    io.out("abandon : rien n'a été modifié.");
    return false;
  }
  io.err(
    `refusé : ${loss}. Activez le versionnement (${versioningFix(config.bucket)}) ou exportez-les d'abord (npx rapatriements export sauvegarde.db), puis relancez ; --yes pour remplacer quand même.`,
  );
  return false;
}

/** Every record validated; undefined (the errors printed, nothing sent) when one is bad. */
function validated(
  { service }: Context,
  io: Io,
  read: RecordsFile,
  file: string,
  options: { replace: boolean },
): ReturnType<Context["service"]["prepareImport"]> | undefined {
  io.out(
    `${plural(read.records.length, "enregistrement")} trouvé${read.records.length >= 2 ? "s" : ""} (${read.source})`,
  );
  try {
    return service.prepareImport(read.records, options);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const errors = error.errors ?? [];
    io.err(`refusé : ${errors.length} erreur(s) dans ${file} ; rien n'a été envoyé.`);
    for (const e of errors.slice(0, SHOWN_ERRORS)) io.err(`  ${e.path} : ${e.message}`);
    if (errors.length > SHOWN_ERRORS) io.err(`  … et ${errors.length - SHOWN_ERRORS} autre(s)`);
    return undefined;
  }
}

/**
 * Converts the file an earlier application wrote at the data key into this
 * engine's format, at the same key. The original stays an earlier version of
 * the object; when the bucket is not versioned (or its versioning cannot be
 * read) a copy is written beside it first. The conversion is written only if
 * the object is still the one read (If-Match), so a concurrent write is kept.
 */
async function importInPlace(context: Context, io: Io, url: string): Promise<number> {
  const { config, s3, sql } = context;
  const here = `s3://${config.bucket}/${config.key}`;
  if (url !== here) {
    throw new UsageError(
      `depuis S3, seul l'objet de données configuré se convertit sur place : ${here} (reçu : ${url})`,
    );
  }
  const location = { Bucket: config.bucket, Key: config.key };
  io.out(`lecture de ${here}…`);
  let object: GetObjectCommandOutput;
  try {
    object = await s3.send(new GetObjectCommand(location));
  } catch (error) {
    if (!isNoSuchKey(error)) throw error;
    io.err(`rien à importer : ${here} n'existe pas (voir npx rapatriements doctor)`);
    return 1;
  }
  const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  const codec = codecFor(config.strategy);
  try {
    codec.decode(bytes, sql, rapatriementsSchema).close();
    io.out(
      `${here} est déjà au format de rapatriements-s3 (${config.strategy}) : rien à convertir.`,
    );
    return 0;
  } catch {
    // Not this engine's file: the earlier application's, converted below.
  }
  const read = readRecordsBytes(bytes, sql, here);
  const apply = validated(context, io, read, here, { replace: true });
  if (apply === undefined) return 1;
  const db = createDatabase(sql, rapatriementsSchema);
  let converted: Uint8Array;
  let imported: number;
  try {
    imported = apply(db).imported;
    recordCommit(db, `import.${randomUUID()}`, new Date());
    converted = codec.encode(db, rapatriementsSchema);
  } finally {
    db.close();
  }

  const versioning = await attempt(() =>
    s3.send(new GetBucketVersioningCommand({ Bucket: config.bucket })),
  );
  const versioned = versioning.value?.Status === "Enabled";
  let copy: string | undefined;
  if (!versioned) {
    copy = `${config.key}.avant-import-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: copy,
        Body: bytes,
        ContentType: object.ContentType,
        ServerSideEncryption: "AES256",
        IfNoneMatch: "*",
      }),
    );
    io.out(
      `copie de l'original : s3://${config.bucket}/${copy} (${versioning.ok ? "le bucket n'est pas versionné" : "versionnement non lisible sans s3:GetBucketVersioning"})`,
    );
  }
  try {
    const put = await s3.send(
      new PutObjectCommand({
        ...location,
        Body: converted,
        ContentType: codec.contentType,
        ServerSideEncryption: "AES256",
        ...(object.ETag === undefined ? { IfNoneMatch: "*" } : { IfMatch: object.ETag }),
      }),
    );
    io.out(
      `converti : ${plural(imported, "rapatriement")} au format ${config.strategy} dans ${here} (${formatBytes(converted.length)}${put.VersionId === undefined ? "" : `, version ${put.VersionId}`}).`,
    );
  } catch (error) {
    if (!isWriteConflict(error)) throw error;
    io.err(
      `${here} a changé pendant l'import : rien n'a été converti et l'écriture concurrente est conservée. Relancez.`,
    );
    return 1;
  }
  io.out(
    copy === undefined
      ? `l'original reste la version ${object.VersionId ?? "précédente"} de l'objet ; pour le relire : aws s3api get-object --bucket ${config.bucket} --key ${config.key} --version-id ${object.VersionId ?? "VERSION_ID"} original`
      : `l'original est conservé dans s3://${config.bucket}/${copy}`,
  );
  return 0;
}

export async function exportFile(
  context: Context,
  io: Io,
  file: string,
  options: { format?: string; force: boolean },
): Promise<number> {
  const { config, s3, sql } = context;
  const format = exportFormat(file, options.format, config.strategy);
  if (existsSync(file) && !options.force) {
    throw new UsageError(
      `${file} existe déjà : choisissez un autre nom ou ajoutez --force pour l'écraser`,
    );
  }
  io.out(`téléchargement de s3://${config.bucket}/${config.key}…`);
  let bytes: Uint8Array;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key }));
    bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (error) {
    if (isNoSuchKey(error)) {
      io.err(`aucune donnée à exporter : s3://${config.bucket}/${config.key} n'existe pas encore`);
      return 1;
    }
    throw error;
  }
  io.out(`${formatBytes(bytes.length)} reçus ; conversion en ${format}…`);
  const db = codecFor(config.strategy).decode(bytes, sql, rapatriementsSchema);
  try {
    const out = codecFor(format).encode(db, rapatriementsSchema);
    await writeFile(file, out);
    io.out(
      `exporté ${count(db)} rapatriements dans ${file} (${format}, ${formatBytes(out.length)})`,
    );
  } finally {
    db.close();
  }
  return 0;
}

function exportFormat(
  file: string,
  requested: string | undefined,
  configured: StorageStrategy,
): StorageStrategy {
  if (requested !== undefined) {
    if (requested !== "sqlite" && requested !== "json") {
      throw new UsageError(`--format doit valoir sqlite ou json (reçu : "${requested}")`);
    }
    return requested;
  }
  if (/\.json$/i.test(file)) return "json";
  if (/\.(db|sqlite3?)$/i.test(file)) return "sqlite";
  return configured;
}
