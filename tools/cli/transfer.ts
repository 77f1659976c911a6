/**
 * Operators' CLI: `import FILE` uploads an existing local file of
 * rapatriements after validating every record, and refuses to replace
 * existing data unless `--force` (it still writes conditionally); `export
 * FILE` downloads the current data as SQLite or JSON.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { StorageStrategy } from "../../lambda/config.ts";
import { ImportRefusedError, ValidationError } from "../../lambda/errors.ts";
import { count } from "../../lambda/rapatriements/repository.ts";
import { rapatriementsSchema } from "../../lambda/rapatriements/schema.ts";
import { codecFor } from "../../lambda/storage/codecs.ts";
import { emptyReport } from "../../lambda/storage/database-object.ts";
import { isNoSuchKey } from "../../lambda/storage/s3-errors.ts";
import { readRecordsFile } from "../data/records-file.ts";
import { type Context, formatBytes, type Io, UsageError } from "./context.ts";

const SHOWN_ERRORS = 20;

export async function importFile(
  context: Context,
  io: Io,
  file: string,
  options: { force: boolean },
): Promise<number> {
  const { config, service, store, sql } = context;
  const started = performance.now();
  io.out(`lecture de ${file}…`);
  const read = await readRecordsFile(file, sql);
  io.out(`${read.records.length} enregistrements trouvés (${read.source})`);
  let apply: ReturnType<typeof service.prepareImport>;
  try {
    apply = service.prepareImport(read.records, { replace: options.force });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const errors = error.errors ?? [];
    io.err(`refusé : ${errors.length} erreur(s) dans ${file} ; rien n'a été envoyé.`);
    for (const e of errors.slice(0, SHOWN_ERRORS)) io.err(`  ${e.path} : ${e.message}`);
    if (errors.length > SHOWN_ERRORS) io.err(`  … et ${errors.length - SHOWN_ERRORS} autre(s)`);
    return 1;
  }
  io.out(
    `validation : ${read.records.length} enregistrements valides ; envoi vers s3://${config.bucket}/${config.key}…`,
  );
  const report = emptyReport();
  try {
    const result = await store.write(apply, { report });
    const put = report.s3Calls.filter((c) => c.command === "PutObject").at(-1);
    io.out(
      `importé ${result.imported} rapatriements${result.replaced > 0 ? ` (remplacent les ${result.replaced} précédents)` : ""} en ${Math.round(performance.now() - started)} ms${put === undefined ? "" : ` (écriture conditionnelle : ${Math.round(put.ms)} ms)`}`,
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
