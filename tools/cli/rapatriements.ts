#!/usr/bin/env node
/**
 * Operators' CLI: `npx rapatriements <command>`. Reads the same configuration
 * as the Lambda functions (environment, then .env at the project root).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readEnvironment } from "../../lambda/environment.ts";
import { AppError } from "../../lambda/errors.ts";
import { RecordsFileError } from "../data/records-file.ts";
import { type CliEnvironment, type Io, openContext, readConfig, UsageError } from "./context.ts";
import {
  DeadLetterError,
  eventBusName,
  listDeadLetters,
  openDeadLetterQueue,
  redrive,
} from "./dead-letters.ts";
import { doctor } from "./doctor.ts";
import { frenchArgumentError, frenchError } from "./french.ts";
import { dryRunImport, exportFile, type ImportOptions, importFile } from "./transfer.ts";
import { listVersions, restoreVersion } from "./versions.ts";

export const USAGE = `usage : npx rapatriements <commande>

  doctor                              vérifie la configuration, les identifiants, le bucket,
                                      les permissions, les réglages du bucket et les données
  import FICHIER [--force [--yes]] [--dry-run] [--timezone ZONE]
                                      envoie un fichier SQLite, JSON ou CSV de rapatriements
                                      (--force : remplace les données existantes ; sur un
                                      bucket non versionné, demande confirmation, ou --yes ;
                                      --dry-run : valide et montre sans rien envoyer ;
                                      --timezone : fuseau des dates sans fuseau, UTC par défaut)
  import s3://BUCKET/CLÉ              convertit sur place le fichier d'une ancienne application
                                      à l'emplacement des données (l'original est gardé)
  export FICHIER [--format sqlite|json|csv] [--separator ,|;|tab] [--force]
         [--style fr|machine] [--timezone ZONE]
                                      télécharge les données actuelles (format selon
                                      l'extension .db, .json ou .csv ; un CSV avec ';' est
                                      en français : virgule décimale, statuts et colonnes
                                      en français, dates dans ZONE, Europe/Paris par défaut ;
                                      --style machine : la forme que l'import relit à l'identique)
  versions                            liste les versions de l'objet de données
  restore VERSION_ID [--yes]          restaure une version, après avoir montré les changements
  dead-letters                        liste les commandes refusées (file des lettres mortes) :
                                      raison, auteur, dates, commande ; rien n'est retiré
  redrive ID [--file FICHIER]         renvoie sur le bus de la pile une commande refusée, telle quelle
                                      ou remplacée par la commande JSON de FICHIER (vérifiée
                                      avant tout envoi) ; retirée de la file une fois acceptée
                                      (ID : celui de dead-letters ou du message d'origine)
  redrive --all                       renvoie telles quelles toutes les commandes refusées
                                      (une fois la cause corrigée, par exemple une panne)

Configuration : AWS_REGION, S3_RAPPATRIMENT_FILE_PATH, S3_BUCKET_NAME, STORAGE_STRATEGY
(environnement, puis .env du dossier courant, sinon de la racine du projet) ; pour
dead-letters et redrive, en plus, COMMANDS_DEAD_LETTER_QUEUE_URL (sortie
CommandsDeadLetterQueueUrl de la pile), et pour redrive EVENT_BUS_NAME (sortie
EventBusName ; rapatriements par défaut) ; voir docs/configuration-s3.md.`;

type Options = {
  force?: boolean;
  yes?: boolean;
  format?: string;
  separator?: string;
  style?: string;
  "dry-run"?: boolean;
  timezone?: string;
  file?: string;
  all?: boolean;
  help?: boolean;
};

const OPTIONS = {
  force: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  format: { type: "string" },
  separator: { type: "string" },
  style: { type: "string" },
  "dry-run": { type: "boolean" },
  timezone: { type: "string" },
  file: { type: "string" },
  all: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export async function main(argv: string[], env: CliEnvironment, io: Io): Promise<number> {
  let parsed: { values: Options; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    return usage(io, frenchArgumentError(error, argv, OPTIONS));
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help === true || command === "help") {
    io.out(USAGE);
    return 0;
  }
  const allowed: Record<string, { args: number; options: (keyof Options)[] }> = {
    doctor: { args: 0, options: [] },
    import: { args: 1, options: ["force", "yes", "dry-run", "timezone"] },
    export: { args: 1, options: ["format", "separator", "style", "timezone", "force"] },
    versions: { args: 0, options: [] },
    restore: { args: 1, options: ["yes"] },
    "dead-letters": { args: 0, options: [] },
    // One ID, or none with --all.
    redrive: { args: values.all === true ? 0 : 1, options: ["file", "all"] },
  };
  if (command === undefined) return usage(io, "commande manquante");
  const spec = allowed[command];
  if (spec === undefined) return usage(io, `commande inconnue « ${command} »`);
  if (rest.length !== spec.args) {
    return usage(
      io,
      spec.args === 0
        ? `${command} ne prend pas d'argument (reçu : ${rest.join(" ")})`
        : `${command} attend ${ARGUMENT_NAMES[command] ?? "FICHIER"}`,
    );
  }
  for (const name of Object.keys(values) as (keyof Options)[]) {
    if (!spec.options.includes(name)) return usage(io, `--${name} ne s'applique pas à ${command}`);
  }
  if (values.all === true && values.file !== undefined) {
    return usage(io, "--file corrige une seule commande : il ne va pas avec --all");
  }

  try {
    if (command === "doctor") return await doctor(env, io);
    if (command === "dead-letters" || command === "redrive") {
      // The dead-letter queue and EventBridge only: no S3, no storage engine.
      const queue = openDeadLetterQueue(
        readConfig(env),
        eventBusName(readEnvironment(env.processEnv, env.cwd)),
      );
      if (command === "dead-letters") return await listDeadLetters(queue, io);
      const [id = ""] = rest;
      return await redrive(
        queue,
        io,
        values.all === true
          ? { all: true }
          : values.file === undefined
            ? { id }
            : { id, file: values.file },
      );
    }
    const [argument = ""] = rest;
    if (command === "import" && values["dry-run"] === true && argument.startsWith("s3://")) {
      return usage(
        io,
        "--dry-run lit un fichier local ; la conversion sur place d'un objet S3 n'a pas d'essai (elle garde l'original : npx rapatriements versions)",
      );
    }
    if (command === "import" && values["dry-run"] === true) {
      // The file alone: no configuration needed, no S3 client, no request.
      const target = configuredTarget(env);
      const options = values.timezone === undefined ? {} : { timeZone: values.timezone };
      return await dryRunImport(io, argument, options, target);
    }
    const context = await openContext(env);
    switch (command) {
      case "import": {
        const options: ImportOptions = { force: values.force === true, yes: values.yes === true };
        if (values.timezone !== undefined) options.timeZone = values.timezone;
        return await importFile(context, io, argument, options);
      }
      case "export": {
        const options: Parameters<typeof exportFile>[3] = { force: values.force === true };
        if (values.format !== undefined) options.format = values.format;
        if (values.separator !== undefined) options.separator = values.separator;
        if (values.style !== undefined) options.style = values.style;
        if (values.timezone !== undefined) options.timeZone = values.timezone;
        return await exportFile(context, io, argument, options);
      }
      case "versions":
        return await listVersions(context, io);
      default:
        return await restoreVersion(context, io, argument, { yes: values.yes === true });
    }
  } catch (error) {
    if (error instanceof UsageError) return usage(io, error.message);
    if (error instanceof DeadLetterError) {
      io.err(`erreur : ${error.message}`);
      return 1;
    }
    if (error instanceof AppError || error instanceof RecordsFileError) {
      io.err(`erreur : ${error instanceof AppError ? frenchError(error) : String(error)}`);
      if (error instanceof AppError && error.code === "CONFIGURATION_INVALID") {
        io.err("lancez npx rapatriements doctor pour le détail et la correction");
      }
      return 1;
    }
    io.err(`erreur inattendue : ${String(error)}`);
    return 1;
  }
}

/** Where the data is, when the configuration is complete; a dry run needs no more. */
function configuredTarget(env: CliEnvironment): string | undefined {
  try {
    const { bucket, key } = readConfig(env);
    return `s3://${bucket}/${key}`;
  } catch {
    return undefined;
  }
}

/**
 * Where `.env` is read: the operator's current folder when it has one, else
 * the project's root, so that a CLI linked onto the PATH (npm link) and run
 * from the folder of an old file still finds the project's configuration.
 */
export function envFolder(current: string): string {
  return existsSync(join(current, ".env")) ? current : PROJECT_ROOT;
}

const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What a command's one argument is called in the usage text. */
const ARGUMENT_NAMES: Readonly<Record<string, string>> = {
  restore: "VERSION_ID",
  redrive: "ID (ou --all)",
};

function usage(io: Io, problem: string): number {
  io.err(`rapatriements : ${problem}\n\n${USAGE}`);
  return 2;
}

if (
  import.meta.url === `file://${process.argv[1]}` ||
  process.argv[1]?.endsWith("/rapatriements")
) {
  const io: Io = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  if (process.stderr.isTTY) {
    // One line rewritten in place; "" clears it before the summary.
    io.progress = (line) => process.stderr.write(`\r\x1b[2K${line}`);
  }
  if (process.stdin.isTTY) {
    io.confirm = async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`${question} [o/N] `);
      rl.close();
      return /^(o|oui|y|yes)$/i.test(answer.trim());
    };
  }
  process.exitCode = await main(
    process.argv.slice(2),
    { processEnv: process.env, cwd: envFolder(process.cwd()) },
    io,
  );
}
