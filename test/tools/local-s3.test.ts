/**
 * `npm run s3:local` as a user runs it: its banner says that nothing is kept
 * and gives the block to paste, which points the operators' CLI at a bucket
 * that is versioned as the stack's is — so the guide's whole tour (doctor,
 * import, versions, restore) works locally — and a signal stops it.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { actAsOperator, freshDir } from "../support/cli-run.ts";
import { writeSqliteFile } from "../support/legacy-sqlite.ts";

// Removes the folders freshDir makes.
actAsOperator();

const run = promisify(execFile);

let child: ChildProcessWithoutNullStreams;
let exited: Promise<number | null>;
let output = "";
let endpoint = "";

beforeAll(async () => {
  child = spawn("npm", ["run", "s3:local"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOCAL_S3_PORT: "0" },
  });
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  exited = new Promise((resolve) => child.once("exit", resolve));
  await vi.waitFor(
    () => {
      if (!output.includes("Ctrl-C stops it.")) throw new Error(`no banner yet: ${output}`);
    },
    { timeout: 60_000, interval: 100 },
  );
  endpoint = /AWS_ENDPOINT_URL_S3=(http:\/\/[\d.:]+)/.exec(output)?.[1] ?? "";
});

afterAll(() => {
  if (child.exitCode === null) child.kill("SIGKILL");
});

/** The lines of the banner to paste: the block between its blank lines. */
function pastedBlock(): string[] {
  return output.split("\n").filter((line) => /^(export|unset) /.test(line));
}

/** Commands typed into bash after pasting the block, in the project folder. */
async function typed(commands: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `${pastedBlock().join("\n")}\n${commands}`;
  return run("bash", ["-c", script], { cwd: PROJECT_ROOT, env: process.env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** An old local SQLite file: RAP-2024-002 in the status given. */
function oldFile(name: string, status: string): string {
  const file = join(freshDir(), name);
  writeSqliteFile(
    file,
    `CREATE TABLE rappatriements (id INTEGER PRIMARY KEY, reference TEXT, origin TEXT,
       destination TEXT, status TEXT, lines TEXT, site_id INTEGER);
     INSERT INTO rappatriements VALUES
       (1, 'RAP-2024-001', 'LYON-01', 'PARIS-02', 'requested', '[{"sku":"PAL","quantity":41.5}]', 3),
       (2, 'RAP-2024-002', 'LYON-01', 'PARIS-02', '${status}', '[{"sku":"PAL","quantity":2}]', 3);`,
  );
  return file;
}

describe("npm run s3:local", () => {
  test("prints the whole block to paste: endpoint, region, local keys, data path", async () => {
    expect(output).toContain(
      "with the bucket rapatriements-local (region eu-west-1), versioned and encrypted as the stack's.",
    );
    expect(pastedBlock()).toEqual([
      `export AWS_ENDPOINT_URL_S3=${endpoint}`,
      "export AWS_REGION=eu-west-1",
      "export AWS_ACCESS_KEY_ID=local",
      "export AWS_SECRET_ACCESS_KEY=local",
      "export S3_RAPPATRIMENT_FILE_PATH=s3://rapatriements-local/rapatriements/rapatriements.db",
      "unset AWS_SESSION_TOKEN AWS_PROFILE STORAGE_STRATEGY S3_BUCKET_NAME",
    ]);
    expect(output).toContain(
      "it keeps everything in memory: its buckets and objects are gone when it stops",
    );
    expect((await fetch(endpoint)).status).toBe(200);
  });

  test("with the block pasted, npx rapatriements doctor passes, bucket versioned", async () => {
    const doctor = await typed("npx rapatriements doctor");
    expect(doctor.code).toBe(0);
    const lines = doctor.stdout.split("\n");
    expect(lines).toContain(
      "OK         bucket et région         rapatriements-local existe, région eu-west-1",
    );
    expect(lines).toContain(
      "OK         versionnement            activé : chaque écriture garde la version précédente (npx rapatriements versions, restore)",
    );
    expect(lines).toContain(
      "OK         données                  pas encore de données : l'objet sera créé à la première écriture",
    );
    // Nothing fails; the one warning is the conditional-write statement, which
    // the local server cannot honour (the guide says so).
    expect(lines.filter((line) => /^(ÉCHEC|ATTENTION|À VÉRIFIER)/.test(line))).toEqual([
      expect.stringMatching(/^ATTENTION {2}écriture conditionnelle {2}/),
    ]);
  });

  test("the guide's tour works on it: import, import --force, versions, restore", async () => {
    const first = oldFile("ancien.db", "in_transit");
    const second = oldFile("nouveau.db", "received");
    const imports = await typed(
      `npx rapatriements import ${first} && npx rapatriements import ${second} --force`,
    );
    expect(imports.code).toBe(0);
    expect(imports.stdout).toContain("importé 2 rapatriements en");
    expect(imports.stdout).toContain("importé 2 rapatriements (remplacent les 2 précédents) en");

    const versions = await typed("npx rapatriements versions");
    expect(versions.code).toBe(0);
    const listed = versions.stdout.split("\n").filter((line) => /^ {2}\S+ {2}\d{4}-/.test(line));
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(/2 rapatriements {2}← actuelle$/);
    const older = listed[1]?.trim().split(/\s+/)[0] ?? "";

    const restore = await typed(`npx rapatriements restore ${older} --yes`);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(
      `restauré : la version ${older} est de nouveau l'actuelle (nouvelle version `,
    );
    const exported = await typed(`npx rapatriements export ${join(freshDir(), "apres.json")}`);
    expect(exported.stdout).toMatch(/exporté 2 rapatriements dans /);
    const back = await typed("npx rapatriements versions");
    expect(back.stdout.split("\n").filter((line) => line.endsWith("← actuelle"))).toHaveLength(1);
  });

  test("the French guide's first steps, run as written: the block it shows, then doctor", async () => {
    const guide = readFileSync(join(PROJECT_ROOT, "docs", "configuration-s3.md"), "utf8");
    const start = guide.indexOf("## Premiers pas : de rien à `doctor`");
    const section = guide.slice(start, guide.indexOf("\n## ", start + 1));
    const blocks = [...section.matchAll(/^ {3}```(\w*)\n([\s\S]*?)^ {3}```$/gm)].map((m) => ({
      lang: m[1],
      lines: (m[2] ?? "")
        .split("\n")
        .map((line) => line.replace(/^ {3}/, "").replace(/\s+#.*$/, ""))
        .filter((line) => line !== ""),
    }));
    // Every command of the section, in order. System packages, the clone and
    // npm install are what a bare-machine run goes through; npm link is run
    // by cli-anywhere.test.ts; the rest run here.
    expect(blocks.filter((b) => b.lang === "bash").map((b) => b.lines)).toEqual([
      ["sudo apt-get install nodejs npm python3 python3-venv git"],
      ["node --version", "python3 -m venv --help"],
      ["git clone <adresse du dépôt> rapatriements-s3", "cd rapatriements-s3"],
      ["npm install"],
      ["npm run s3:local"],
      ["npx rapatriements doctor"],
      ["npm link"],
      ["npm_config_prefix=~/.local npm link"],
    ]);
    // The block the guide shows is the banner's, but for the port.
    const shown = blocks.find((b) => b.lang === "")?.lines;
    expect(shown).toEqual(
      pastedBlock().map((line) => line.replace(endpoint, "http://127.0.0.1:4566")),
    );
    const checks = await typed("node --version && python3 -m venv --help > /dev/null");
    expect(checks.stdout).toMatch(/^v(2\d|[3-9]\d)\./);
    const doctor = await typed("npx rapatriements doctor");
    expect(doctor.code).toBe(0);
    const lines = doctor.stdout.trim().split("\n");
    expect(lines.at(-1)).toBe(
      "Aucun échec sur 17 vérifications, mais 1 avertissement : appliquez les corrections indiquées (voir docs/configuration-s3.md).",
    );
    // The guide says the same count as the last line doctor prints.
    expect(section.replace(/\s+/g, " ")).toContain(
      "`Aucun échec sur 17 vérifications, mais 1 avertissement`",
    );
    expect(section).toContain("`ATTENTION  écriture\n   conditionnelle`");
    expect(lines.filter((line) => /^\S/.test(line) && !line.startsWith("OK ")).slice(0, 1)).toEqual(
      [expect.stringMatching(/^ATTENTION {2}écriture conditionnelle {2}/)],
    );
  });

  test("stops on SIGTERM to npm, and its data is gone with it", async () => {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fetch(endpoint)).rejects.toThrow();
  });
});
