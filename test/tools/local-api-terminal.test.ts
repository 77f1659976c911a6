/**
 * What `npm start` prints in the terminal it runs in (a real pseudo-terminal,
 * as a person's): `--from FILE` says in French what `npx rapatriements
 * import` says of the file (ignored columns, the zone of zone-less dates).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { cli } from "../support/cli-run.ts";
import { writeSqliteFile } from "../support/legacy-sqlite.ts";

const PTY_RUN = join(PROJECT_ROOT, "test", "support", "pty-run.py");
const temporary = mkdtempSync(join(tmpdir(), "rapatriements-terminal-"));
let session: { child: ChildProcess; output: () => string } | undefined;

afterEach(async () => {
  const running = session?.child;
  session = undefined;
  if (running === undefined || running.exitCode !== null) return;
  const exited = new Promise((resolve) => running.once("exit", resolve));
  running.stdin?.write("\x03"); // Ctrl-C, as typed
  await exited;
});
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

/** `npm start -- --port 0 ARGS` in a pseudo-terminal; its URL once it listens. */
async function npmStart(name: string, args: string[]): Promise<string> {
  const child = spawn("python3", [PTY_RUN, "npm", "start", "--", "--port", "0", ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      RAPATRIEMENTS_LOCAL_DIR: join(temporary, name),
      AWS_REGION: "eu-west-1",
      S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-terminal/rapatriements/rapatriements.db",
      STORAGE_STRATEGY: "sqlite",
    },
  });
  let text = "";
  child.stdout.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  session = { child, output: () => text.replaceAll("\r\n", "\n") };
  for (;;) {
    const match = /listening on (http:\/\/[\d.:]+)/.exec(text);
    if (match?.[1] !== undefined) return match[1];
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Each test starts npm start once: several seconds on a busy machine.
describe("npm start's terminal", { timeout: 180_000 }, () => {
  test("--from FILE says in French what npx rapatriements import says of the file", async () => {
    const file = join(temporary, "ancien.db");
    writeSqliteFile(
      file,
      `CREATE TABLE rappatriements (id INTEGER PRIMARY KEY, reference TEXT, origin TEXT,
         destination TEXT, status TEXT, lines TEXT, site_id INTEGER, created_at TEXT);
       INSERT INTO rappatriements VALUES
         (1, 'RAP-2024-001', 'LYON-01', 'PARIS-02', 'requested', '[{"sku":"PAL","quantity":41.5}]', 3, '2024-05-01 10:00:00'),
         (2, 'RAP-2024-002', 'LYON-01', 'PARIS-02', 'in_transit', '[{"sku":"PAL","quantity":2}]', 3, NULL);`,
    );
    // What the CLI says of the file, from its reading to the zone of its dates.
    const dry = await cli(["import", file, "--dry-run"], { processEnv: {}, cwd: temporary });
    expect(dry.code).toBe(0);
    const said = dry.outLines.slice(
      0,
      dry.outLines.findIndex((l) => l.startsWith("validation")),
    );
    expect(said).toEqual([
      `lecture de ${file}…`,
      "2 enregistrements trouvés (sqlite: table rappatriements)",
      "1 colonne ignorée (aucun champ de ce nom) : site_id",
      '2 identifiants entiers conservés en texte (42 devient "42")',
      "1 date sans fuseau lue dans le fuseau UTC (par défaut, celui de CURRENT_TIMESTAMP de SQLite ; --timezone Europe/Paris pour l'heure de Paris)",
    ]);

    await npmStart("from", ["--from", file]);
    const lines = session?.output().split("\n") ?? [];
    const start = lines.indexOf(said[0] ?? "");
    expect(lines.slice(start, start + said.length)).toEqual(said);
    expect(lines[start + said.length]).toBe(
      `importé 2 rapatriements dans le serveur S3 local ; copie sur disque : ${join(temporary, "from", "rapatriements.db")}`,
    );
    expect(session?.output()).not.toContain("imported");
  });
});
