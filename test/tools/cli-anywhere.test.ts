/**
 * The operators' CLI where an operator is: started through the link that
 * `npm link` (or `ln -s`) puts on the PATH, from the folder of an old file,
 * on the project's own Node.js whatever the PATH's; and `import --dry-run`
 * there with no environment variable at all — it reads and checks the file
 * alone.
 */
import { realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { envFolder, main } from "../../tools/cli/rapatriements.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { actAsOperator, freshDir } from "../support/cli-run.ts";
import { writeSqliteFile } from "../support/legacy-sqlite.ts";
import { runProcess } from "../support/process-run.ts";

// Removes the folders freshDir makes.
actAsOperator();

const DOOR = join(PROJECT_ROOT, "tools", "cli", "rapatriements.mjs");

function runIn(cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
  return runProcess(command, args, { cwd, env });
}

/** An old local SQLite file in a folder of its own, outside the project. */
function oldFileFolder(): string {
  const folder = realpathSync(freshDir("rapatriements-operator-"));
  writeSqliteFile(
    join(folder, "ancien.db"),
    `CREATE TABLE rappatriements (id INTEGER PRIMARY KEY, reference TEXT, origin TEXT,
       destination TEXT, status TEXT, lines TEXT, site_id INTEGER, created_at TEXT);
     INSERT INTO rappatriements VALUES
       (1, 'RAP-2024-001', 'LYON-01', 'PARIS-02', 'requested', '[{"sku":"PAL","quantity":41.5}]', 3, '2024-05-01 10:00:00'),
       (2, 'RAP-2024-002', 'LYON-01', 'PARIS-02', 'in_transit', '[{"sku":"PAL","quantity":2}]', 3, NULL);`,
  );
  return folder;
}

const DRY_RUN_OUTPUT = [
  "lecture de ancien.db…",
  "2 enregistrements trouvés (sqlite: table rappatriements)",
  "1 colonne ignorée (aucun champ de ce nom) : site_id",
  '2 identifiants entiers conservés en texte (42 devient "42")',
  "1 date sans fuseau lue dans le fuseau UTC (par défaut, celui de CURRENT_TIMESTAMP de SQLite ; --timezone Europe/Paris pour l'heure de Paris)",
  "validation : 2 enregistrements valides",
  "aperçu (2 sur 2) :",
  "  id 1 (ligne 1 de la table rappatriements) : RAP-2024-001, LYON-01 → PARIS-02, 1 ligne, requested, createdAt 2024-05-01T10:00:00.000Z",
  "  id 2 (ligne 2 de la table rappatriements) : RAP-2024-002, LYON-01 → PARIS-02, 1 ligne, in_transit",
  "par statut : requested 1, in_transit 1",
  "essai (--dry-run) : 2 rapatriements seraient importés ; rien n'a été envoyé ni lu sur S3 (la configuration, absente ou incomplète, n'est pas nécessaire à un essai).",
  "pour importer : configurez AWS_REGION et S3_RAPPATRIMENT_FILE_PATH (npx rapatriements doctor les vérifie), puis relancez sans --dry-run.",
  "",
];

describe("the CLI from anywhere", () => {
  test("import --dry-run with no environment variable at all reads and checks the file alone", async () => {
    const folder = oldFileFolder();
    // No PATH, no HOME, no AWS_*: nothing but the command.
    const run = await runIn(
      folder,
      process.execPath,
      [DOOR, "import", "ancien.db", "--dry-run"],
      {},
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.split("\n")).toEqual(DRY_RUN_OUTPUT);
    expect(run.code).toBe(0);
  });

  test("linked by npm link (into a prefix of one's own), run from another folder", async () => {
    const folder = oldFileFolder();
    const prefix = freshDir("rapatriements-prefix-");
    // As the guide writes it for a user whose npm global folder is root's:
    // npm_config_prefix=~/.local npm link. Nothing is fetched: a link.
    const linked = await runIn(PROJECT_ROOT, "npm", ["link", "--no-audit", "--no-fund"], {
      ...process.env,
      npm_config_prefix: prefix,
      npm_config_offline: "true",
    });
    expect(linked.code).toBe(0);
    const bin = join(prefix, "bin");
    expect(realpathSync(join(bin, "rapatriements"))).toBe(DOOR);
    // The PATH's node is this test's; the CLI runs on the project's own.
    const path = `${bin}:${join(process.execPath, "..")}:/usr/bin:/bin`;
    const help = await runIn(folder, "rapatriements", ["--help"], { PATH: path });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage : npx rapatriements <commande>\n/);

    const dry = await runIn(folder, "rapatriements", ["import", "ancien.db", "--dry-run"], {
      PATH: path,
    });
    expect(dry.stdout.split("\n")).toEqual(DRY_RUN_OUTPUT);
    expect(dry.code).toBe(0);

    // A usage error keeps the CLI's exit code through the door.
    const wrong = await runIn(folder, "rapatriements", ["exporter"], { PATH: path });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^rapatriements : commande inconnue « exporter »\n/);
  });

  test("a dry run of the in-place conversion (import s3://…) is refused, before anything is read", async () => {
    const err: string[] = [];
    const code = await main(
      ["import", "s3://interflow-rappatriements/rapatriements/rapatriements.db", "--dry-run"],
      { processEnv: {}, cwd: freshDir() },
      { out: () => {}, err: (line) => err.push(line) },
    );
    expect(code).toBe(2);
    expect(err.join("\n")).toMatch(
      /^rapatriements : --dry-run lit un fichier local ; la conversion sur place d'un objet S3 n'a pas d'essai \(elle garde l'original : npx rapatriements versions\)\n\nusage : /,
    );
  });

  test(".env is read in the current folder when it has one, else in the project's root", () => {
    const withEnv = freshDir();
    writeFileSync(join(withEnv, ".env"), "AWS_REGION=eu-west-3\n");
    expect(envFolder(withEnv)).toBe(withEnv);
    expect(envFolder(freshDir())).toBe(PROJECT_ROOT);
  });
});
