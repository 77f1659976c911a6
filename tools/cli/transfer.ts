/**
 * Operators' CLI: `import FILE` uploads an existing local file of
 * rapatriements after validating every record (`--dry-run` reads and checks
 * the file alone: no configuration, no request), and refuses to replace existing data unless `--force`
 * (it still writes conditionally); `import s3://bucket/key` (the data object
 * itself) converts in place a file an earlier application wrote there;
 * `export FILE` downloads the current data as SQLite, JSON or CSV. Long runs
 * show a progress line on a terminal.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { StorageStrategy } from "../../lambda/config.ts";
import { ImportRefusedError } from "../../lambda/errors.ts";
import { count, listAll } from "../../lambda/rapatriements/repository.ts";
import { RapatriementService } from "../../lambda/rapatriements/service.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/tables.ts";
import { codecFor } from "../../lambda/storage/codec-for-strategy.ts";
import { objectEncryption } from "../../lambda/storage/encryption.ts";
import { createDatabase, sealSave } from "../../lambda/storage/migrations.ts";
import { isNoSuchKey, isWriteConflict } from "../../lambda/storage/s3-errors.ts";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import { emptyReport } from "../../lambda/storage/transaction-options.ts";
import { type CsvOptions, SEPARATORS, toCsv } from "../data/csv-export.ts";
import { FRENCH_CSV_TIME_ZONE } from "../data/csv-french.ts";
import { fileReport } from "../data/file-report.ts";
import { plural } from "../data/plural.ts";
import {
  type ApplyImport,
  type Importer,
  InvalidRecordsError,
  invalidRecordsReport,
  nameOf,
  prepareFileImport,
} from "../data/record-errors.ts";
import {
  DEFAULT_TIME_ZONE,
  type RecordsFile,
  readRecordsBytes,
  readRecordsFile,
} from "../data/records-file.ts";
import { isTimeZone } from "../data/time-zone.ts";
import { readVersioning, versioningFix } from "./bucket-settings.ts";
import { type Context, formatBytes, type Io, UsageError } from "./context.ts";
import { frenchError } from "./french.ts";
import { type Progress, progressOn } from "./progress.ts";

const SHOWN_IN_DRY_RUN = 5;

export interface ImportOptions {
  force: boolean;
  /** Replaces data that could not be restored (an unversioned bucket) without asking. */
  yes?: boolean;
  /** IANA zone of zone-less dates; DEFAULT_TIME_ZONE when not given. */
  timeZone?: string;
}

export async function importFile(
  context: Context,
  io: Io,
  file: string,
  options: ImportOptions,
): Promise<number> {
  const timeZone = checkedTimeZone(options.timeZone);
  if (file.startsWith("s3://")) return importInPlace(context, io, file, timeZone);
  const { config, service, store, sql, s3 } = context;
  const started = performance.now();
  const progress = progressOn(io);
  const checked = await readAndCheck(io, progress, file, sql, service, timeZone, options.force);
  if (checked === undefined) return 1;
  const { found, apply } = checked;
  if (options.force && !(await mayReplaceForGood(context, io, options.yes === true))) return 1;
  const target = `s3://${config.bucket}/${config.key}`;
  io.out(
    `validation : ${plural(found, "enregistrement valide", "enregistrements valides")} ; envoi vers ${target}…`,
  );
  const report = emptyReport();
  const unwatch = watchUploads(s3, progress);
  try {
    const result = await store.write(apply, { report });
    progress.end();
    const put = report.s3Calls.filter((c) => c.command === "PutObject").at(-1);
    io.out(
      `importé ${plural(result.imported, "rapatriement", "rapatriements")}${result.replaced === 0 ? "" : result.replaced === 1 ? " (remplace l'unique précédent)" : ` (remplacent les ${result.replaced} précédents)`} en ${Math.round(performance.now() - started)} ms${put === undefined ? "" : ` (écriture conditionnelle : ${Math.round(put.ms)} ms)`}`,
    );
    return 0;
  } catch (error) {
    progress.end();
    if (error instanceof ImportRefusedError) {
      io.err(`refusé : ${frenchError(error)}`);
      return 1;
    }
    throw error;
  } finally {
    unwatch();
  }
}

/**
 * `import FILE --dry-run`: reads and checks the file alone, and shows what
 * would be imported. It needs no configuration and builds no S3 client: it
 * sends no request at all. `target` is where the data would go, when the
 * configuration says so.
 */
export async function dryRunImport(
  io: Io,
  file: string,
  options: { timeZone?: string },
  target: string | undefined,
): Promise<number> {
  const timeZone = checkedTimeZone(options.timeZone);
  const sql = await loadSqlJs();
  const checked = await readAndCheck(
    io,
    progressOn(io),
    file,
    sql,
    new RapatriementService({ store: NO_STORAGE }),
    timeZone,
    false,
  );
  if (checked === undefined) return 1;
  const { found, read } = checked;
  io.out(`validation : ${plural(found, "enregistrement valide", "enregistrements valides")}`);
  describeDryRun(io, read);
  const would = plural(found, "rapatriement serait importé", "rapatriements seraient importés");
  io.out(
    target === undefined
      ? `essai (--dry-run) : ${would} ; rien n'a été envoyé ni lu sur S3 (la configuration, absente ou incomplète, n'est pas nécessaire à un essai).`
      : `essai (--dry-run) : ${would} dans ${target} ; rien n'a été envoyé ni lu sur S3.`,
  );
  io.out(
    target === undefined
      ? "pour importer : configurez AWS_REGION et S3_RAPPATRIMENT_FILE_PATH (npx rapatriements doctor les vérifie), puis relancez sans --dry-run."
      : "relancez sans --dry-run pour importer (refusé si des données existent déjà, sauf --force).",
  );
  return 0;
}

/** A dry run's storage: never asked, since it validates without writing. */
const NO_STORAGE = {
  read: () => Promise.reject(new Error("a dry run reads no data")),
  write: () => Promise.reject(new Error("a dry run writes no data")),
};

function checkedTimeZone(given: string | undefined): string {
  const timeZone = given ?? DEFAULT_TIME_ZONE;
  if (!isTimeZone(timeZone)) {
    throw new UsageError(
      `fuseau horaire inconnu « ${timeZone} » : donnez un nom IANA, par exemple Europe/Paris ou UTC`,
    );
  }
  return timeZone;
}

/**
 * Reads the file, says what was normalised, validates every record; prints
 * the refusal and answers undefined when one is invalid.
 */
async function readAndCheck(
  io: Io,
  progress: Progress,
  file: string,
  sql: SqlJsStatic,
  importer: Importer,
  timeZone: string,
  replace: boolean,
): Promise<{ found: number; read: RecordsFile; apply: ApplyImport } | undefined> {
  io.out(`lecture de ${file}…`);
  const read = await readRecordsFile(file, sql, {
    timeZone,
    onRecord: (done, total) => progress.show(`lus : ${done} / ${total}`, done === total),
  });
  progress.end();
  const found = read.records.length;
  for (const line of fileReport(read, timeZone)) io.out(line);
  try {
    const apply = prepareFileImport(importer, file, read, {
      replace,
      onValidated: (done, total) => progress.show(`validés : ${done} / ${total}`, done === total),
    });
    progress.end();
    return { found, read, apply };
  } catch (error) {
    if (!(error instanceof InvalidRecordsError)) throw error;
    progress.end();
    for (const line of invalidRecordsReport(error)) io.err(line);
    return undefined;
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
  const versioning = await readVersioning(s3, config.bucket);
  if (versioning.enabled) return true;
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

/**
 * Converts the file an earlier application wrote at the data key into this
 * engine's format, at the same key. The original stays an earlier version of
 * the object; when the bucket is not versioned (or its versioning cannot be
 * read) a copy is written beside it first. The conversion is written only if
 * the object is still the one read (If-Match), so a concurrent write is kept.
 */
async function importInPlace(
  context: Context,
  io: Io,
  url: string,
  timeZone: string,
): Promise<number> {
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
  const read = readRecordsBytes(bytes, sql, here, { timeZone });
  for (const line of fileReport(read, timeZone)) io.out(line);
  let apply: ReturnType<typeof prepareFileImport>;
  try {
    apply = prepareFileImport(context.service, here, read, { replace: true });
  } catch (error) {
    if (!(error instanceof InvalidRecordsError)) throw error;
    for (const line of invalidRecordsReport(error)) io.err(line);
    return 1;
  }
  const db = createDatabase(sql, rapatriementsSchema);
  let converted: Uint8Array;
  let imported: number;
  try {
    imported = apply(db).imported;
    sealSave(db, rapatriementsSchema, { commitId: `import.${randomUUID()}`, now: new Date() });
    converted = codec.encode(db, rapatriementsSchema);
  } finally {
    db.close();
  }

  const versioning = await readVersioning(s3, config.bucket);
  let copy: string | undefined;
  if (!versioning.enabled) {
    copy = `${config.key}.avant-import-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: copy,
        Body: bytes,
        ContentType: object.ContentType,
        ...objectEncryption(config.sseKmsKeyId),
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
        ...objectEncryption(config.sseKmsKeyId),
        ...(object.ETag === undefined ? { IfNoneMatch: "*" } : { IfMatch: object.ETag }),
      }),
    );
    io.out(
      `converti : ${plural(imported, "rapatriement", "rapatriements")} au format ${config.strategy} dans ${here} (${formatBytes(converted.length)}${put.VersionId === undefined ? "" : `, version ${put.VersionId}`}).`,
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

/** What would be imported: the first records as they will be stored, and the count per status. */
function describeDryRun(io: Io, read: RecordsFile): void {
  const shown = Math.min(SHOWN_IN_DRY_RUN, read.records.length);
  if (shown > 0) io.out(`aperçu (${shown} sur ${read.records.length}) :`);
  for (let i = 0; i < shown; i++) {
    const r = read.records[i] as Record<string, unknown>;
    const lines = Array.isArray(r.lines) ? r.lines.length : 0;
    const dates = ["createdAt", "requestedAt", "expectedAt"]
      .filter((field) => typeof r[field] === "string")
      .map((field) => `${field} ${String(r[field])}`);
    io.out(
      `  ${nameOf(read, i)} : ${String(r.reference)}, ${String(r.origin)} → ${String(r.destination)}, ${plural(lines, "ligne", "lignes")}, ${String(r.status ?? "draft")}${dates.length > 0 ? `, ${dates.join(", ")}` : ""}`,
    );
  }
  const byStatus = new Map<string, number>();
  for (const raw of read.records) {
    const status = String((raw as Record<string, unknown>).status ?? "draft");
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }
  io.out(`par statut : ${[...byStatus].map(([status, n]) => `${status} ${n}`).join(", ")}`);
}

const UPLOAD_WATCH = "rapatriementsUploadProgress";
const CHUNK = 64 * 1024;

/**
 * Bytes sent, for the progress line: the body of a PUT is handed to the
 * socket in 64 KiB pieces, counted as they go. The request is copied, not
 * changed, so that a retry of the SDK sends the bytes again from the start.
 */
function watchUploads(s3: S3Client, progress: Progress): () => void {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { method?: string; body?: unknown };
      const body = request.body;
      if (request.method !== "PUT" || !(body instanceof Uint8Array) || body.length === 0) {
        return next(args);
      }
      const bytes: Uint8Array = body;
      const total = body.length;
      function* pieces() {
        for (let at = 0; at < total; at += CHUNK) {
          const end = Math.min(at + CHUNK, total);
          progress.show(`envoyés : ${formatBytes(end)} / ${formatBytes(total)}`, end === total);
          yield bytes.subarray(at, end);
        }
      }
      const counted = Readable.from(pieces(), { objectMode: false });
      return next({ ...args, request: { ...request, body: counted } });
    },
    { step: "deserialize", name: UPLOAD_WATCH },
  );
  return () => {
    s3.middlewareStack.remove(UPLOAD_WATCH);
  };
}

type ExportFormat = StorageStrategy | "csv";

export async function exportFile(
  context: Context,
  io: Io,
  file: string,
  options: ExportOptions,
): Promise<number> {
  const { config, s3, sql } = context;
  const format = exportFormat(file, options.format);
  const csv = csvOptions(format, options);
  if (existsSync(file) && !options.force) {
    throw new UsageError(
      `${file} existe déjà : choisissez un autre nom ou ajoutez --force pour l'écraser`,
    );
  }
  io.out(`téléchargement de s3://${config.bucket}/${config.key}…`);
  const progress = progressOn(io);
  let bytes: Uint8Array;
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: config.key }));
    bytes = await download(object.Body, object.ContentLength, progress);
  } catch (error) {
    progress.end();
    if (isNoSuchKey(error)) {
      io.err(`aucune donnée à exporter : s3://${config.bucket}/${config.key} n'existe pas encore`);
      return 1;
    }
    throw error;
  }
  progress.end();
  io.out(`${formatBytes(bytes.length)} reçus ; conversion en ${format}…`);
  const db = codecFor(config.strategy).decode(bytes, sql, rapatriementsSchema);
  try {
    const out =
      format === "csv"
        ? new TextEncoder().encode(toCsv(listAll(db), csv))
        : codecFor(format).encode(db, rapatriementsSchema);
    await writeFile(file, out);
    io.out(
      `exporté ${plural(count(db), "rapatriement", "rapatriements")} dans ${file} (${format === "csv" ? describeCsv(csv) : format}, ${formatBytes(out.length)})`,
    );
  } finally {
    db.close();
  }
  return 0;
}

/** The body read piece by piece, so that a large download shows its progress. */
async function download(
  body: unknown,
  total: number | undefined,
  progress: Progress,
): Promise<Uint8Array> {
  if (body === undefined || body === null) return new Uint8Array();
  if (!(Symbol.asyncIterator in (body as object))) {
    return (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    received += chunk.length;
    progress.show(
      `reçus : ${formatBytes(received)}${total === undefined ? "" : ` / ${formatBytes(total)}`}`,
      received === total,
    );
  }
  return Buffer.concat(chunks);
}

const EXTENSIONS: Readonly<Record<string, ExportFormat>> = {
  ".db": "sqlite",
  ".sqlite": "sqlite",
  ".sqlite3": "sqlite",
  ".json": "json",
  ".csv": "csv",
};

function exportFormat(file: string, requested: string | undefined): ExportFormat {
  if (requested !== undefined) {
    if (requested !== "sqlite" && requested !== "json" && requested !== "csv") {
      throw new UsageError(`--format doit valoir sqlite, json ou csv (reçu : "${requested}")`);
    }
    return requested;
  }
  const extension = extname(file).toLowerCase();
  const format = EXTENSIONS[extension];
  if (format !== undefined) return format;
  throw new UsageError(
    `${extension === "" ? `${file} n'a pas d'extension` : `extension inconnue « ${extension} » pour ${file}`} : nommez le fichier .db, .sqlite, .json ou .csv, ou précisez --format sqlite|json|csv`,
  );
}

export interface ExportOptions {
  format?: string;
  separator?: string;
  /** `fr` or `machine`; by default French with `;`, the machine's otherwise. */
  style?: string;
  /** The French form's zone (FRENCH_CSV_TIME_ZONE by default). */
  timeZone?: string;
  force: boolean;
}

function csvOptions(format: ExportFormat, options: ExportOptions): CsvOptions {
  const { separator: requested, style, timeZone } = options;
  if (format !== "csv") {
    for (const [given, name] of [
      [requested, "--separator"],
      [style, "--style"],
      [timeZone, "--timezone"],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(`${name} ne s'applique qu'à un export CSV (ici : ${format})`);
      }
    }
  }
  const separator =
    requested === undefined ? "," : SEPARATORS[requested === "\t" ? "tab" : requested];
  if (separator === undefined) {
    throw new UsageError(`--separator doit valoir ',', ';' ou tab (reçu : "${requested}")`);
  }
  if (style !== undefined && style !== "fr" && style !== "machine") {
    throw new UsageError(`--style doit valoir fr ou machine (reçu : "${style}")`);
  }
  const chosen = style ?? (separator === ";" ? "fr" : "machine");
  if (chosen === "machine" && timeZone !== undefined) {
    throw new UsageError(
      "--timezone ne s'applique qu'à la forme française (--style fr, ou --separator ';'), dont il donne le fuseau des dates ; la forme machine les écrit en UTC (ISO 8601)",
    );
  }
  const zone = timeZone ?? FRENCH_CSV_TIME_ZONE;
  if (!isTimeZone(zone)) {
    throw new UsageError(
      `fuseau horaire inconnu « ${zone} » : donnez un nom IANA, par exemple Europe/Paris ou UTC`,
    );
  }
  return { separator, style: chosen, timeZone: zone };
}

function describeCsv({ separator, style, timeZone }: CsvOptions): string {
  const shown = separator === "\t" ? "tab" : JSON.stringify(separator);
  return style === "fr"
    ? `csv français, séparateur ${shown}, virgule décimale, dates en ${timeZone}`
    : `csv, séparateur ${shown}`;
}
