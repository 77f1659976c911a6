/**
 * The operators' real legacy files, as `npx rapatriements import` and
 * `export` meet them: old SQLite tables written by SQLite itself (integer
 * ids, SQLite's CURRENT_TIMESTAMP dates without a zone, extra columns), a
 * dry run that sends nothing (requests counted at a proxy in front of the
 * local S3 server), bad records named by id and row, progress on a terminal
 * only, and the CSV export a spreadsheet opens.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadSqlJs, type SqlJsStatic } from "../../lambda/storage/sql-js.ts";
import type { CliEnvironment, Io } from "../../tools/cli/context.ts";
import { main } from "../../tools/cli/rapatriements.ts";
import { readRecordsFile } from "../../tools/data/records-file.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { actAsOperator, freshDir } from "../support/cli-run.ts";
import { type CountingProxy, startCountingProxy } from "../support/counting-proxy.ts";
import { writeSqliteFile } from "../support/legacy-sqlite.ts";
import { createBucket, localEndpoint, localS3Client, REGION } from "../support/local-s3.ts";
import { type Finished, runProcess as run } from "../support/process-run.ts";

const NODE = join(PROJECT_ROOT, "node_modules", ".bin", "node");
const CLI = join(PROJECT_ROOT, "tools", "cli", "rapatriements.ts");
const KEY = "rapatriements/rapatriements.db";

let SQL: SqlJsStatic;
let proxy: CountingProxy;

beforeAll(async () => {
  SQL = await loadSqlJs();
  proxy = await startCountingProxy(localEndpoint());
});

afterAll(async () => {
  await proxy.close();
});

actAsOperator();

function variablesFor(bucket: string, endpoint = localEndpoint()): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: REGION,
    S3_RAPPATRIMENT_FILE_PATH: `s3://${bucket}/${KEY}`,
  };
}

function envFor(bucket: string, endpoint?: string): CliEnvironment {
  return { processEnv: variablesFor(bucket, endpoint), cwd: freshDir() };
}

interface Outcome {
  code: number;
  out: string;
  err: string;
  progress: string[];
}

/** The CLI in-process; `terminal` gives it a progress line, as a TTY does. */
async function cli(argv: string[], env: CliEnvironment, terminal = false): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const io: Io = { out: (line) => out.push(line), err: (line) => err.push(line) };
  if (terminal) io.progress = (line) => progress.push(line);
  const code = await main(argv, env, io);
  return { code, out: out.join("\n"), err: err.join("\n"), progress };
}

/** A file of the old local storage as its users have it, written by SQLite. */
function legacyFile(sql: string, name = "ancien.db"): string {
  const file = join(freshDir(), name);
  writeSqliteFile(file, sql);
  return file;
}

const LEGACY_TABLE = `CREATE TABLE rappatriements (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  reference TEXT NOT NULL,
  site_id INTEGER,
  origin TEXT NOT NULL,
  destination TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'draft',
  lines TEXT NOT NULL,
  notes TEXT,
  expected_at TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);`;

/** `count` good rows: dates in CURRENT_TIMESTAMP form, in summer (row 1) and winter (row 2). */
function legacyRows(count: number): string {
  return `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${count})
    INSERT INTO rappatriements (reference, site_id, origin, destination, lines, notes, expected_at, created_at)
    SELECT printf('OLD-%04d', i), i % 3, 'LYON-' || (i % 5), 'PARIS-02',
           json_array(json_object('sku', 'SKU-' || i, 'quantity', (i % 7) + 1)),
           'note ' || i,
           CASE i WHEN 1 THEN '2024-05-03' ELSE NULL END,
           CASE i WHEN 1 THEN '2024-05-01 10:00:00' WHEN 2 THEN '2024-01-15 10:00:00'
                  ELSE datetime('2024-06-01', '+' || i || ' minutes') END
    FROM n;`;
}

async function exportedJson(bucket: string): Promise<Record<string, unknown>[]> {
  const file = join(freshDir(), "controle.json");
  const exported = await cli(["export", file], envFor(bucket));
  expect(exported.code).toBe(0);
  return (await readRecordsFile(file, SQL)).records as Record<string, unknown>[];
}

describe("import of an old SQLite table as it is", () => {
  test("integer ids kept as text, CURRENT_TIMESTAMP dates read in --timezone Europe/Paris, extra columns reported", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(300)}`);
    const bucket = await createBucket(localS3Client());
    const result = await cli(["import", file, "--timezone", "Europe/Paris"], envFor(bucket));
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain("300 enregistrements trouvés (sqlite: table rappatriements)");
    expect(result.out).toContain("2 colonnes ignorées (aucun champ de ce nom) : site_id, notes");
    expect(result.out).toContain('300 identifiants entiers conservés en texte (42 devient "42")');
    expect(result.out).toContain("301 dates sans fuseau lues dans le fuseau Europe/Paris");
    expect(result.out).toContain("importé 300 rapatriements");

    const records = await exportedJson(bucket);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)));
    const [first, second, third] = records;
    // Paris is UTC+2 in May (summer time) and UTC+1 in January.
    expect(first).toMatchObject({
      id: "1",
      reference: "OLD-0001",
      createdAt: "2024-05-01T08:00:00.000Z",
      expectedAt: "2024-05-02T22:00:00.000Z",
    });
    expect(second).toMatchObject({ id: "2", createdAt: "2024-01-15T09:00:00.000Z" });
    expect(third).toMatchObject({ id: "3", createdAt: "2024-05-31T22:03:00.000Z" });
    expect(Object.keys(first ?? {})).not.toContain("siteId");
    expect(Object.keys(first ?? {})).not.toContain("notes");
  });

  test("without --timezone the dates are UTC, as SQLite's CURRENT_TIMESTAMP writes them, and the default is said", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(2)}`);
    const bucket = await createBucket(localS3Client());
    const result = await cli(["import", file], envFor(bucket));
    expect(result.code).toBe(0);
    expect(result.out).toContain("3 dates sans fuseau lues dans le fuseau UTC (par défaut");
    const [first] = await exportedJson(bucket);
    expect(first).toMatchObject({ id: "1", createdAt: "2024-05-01T10:00:00.000Z" });
  });

  test("an old created_by / updated_by column is kept as who wrote the record: a number as text, empty as unknown", async () => {
    const file = legacyFile(`CREATE TABLE rapatriements (
        id INTEGER PRIMARY KEY, reference TEXT, origin TEXT, destination TEXT, lines TEXT,
        created_by INTEGER, updated_by TEXT);
      INSERT INTO rapatriements VALUES
        (1, 'AUTH-1', 'LYON-01', 'PARIS-02', '[{"sku":"A","quantity":1}]', 17, ''),
        (2, 'AUTH-2', 'LYON-01', 'PARIS-02', '[{"sku":"B","quantity":2}]', NULL, 'mdupont');`);
    const bucket = await createBucket(localS3Client());
    const result = await cli(["import", file], envFor(bucket));
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).not.toContain("colonnes ignorées");
    const records = await exportedJson(bucket);
    expect(records.map((r) => [r.reference, r.createdBy, r.updatedBy])).toEqual([
      ["AUTH-1", "17", null],
      ["AUTH-2", null, "mdupont"],
    ]);
  });

  test("one legacy row: singular French messages", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(1)}`);
    const bucket = await createBucket(localS3Client());
    const result = await cli(["import", file], envFor(bucket));
    expect(result.code).toBe(0);
    expect(result.out).toContain("1 enregistrement trouvé (");
    expect(result.out).toContain("1 identifiant entier conservé en texte");
    expect(result.out).toContain("validation : 1 enregistrement valide ;");
    expect(result.out).toContain("importé 1 rapatriement en");
  });

  test("an unknown --timezone: exit 2, the option's expected form named, nothing read or sent", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(1)}`);
    const before = proxy.requests.length;
    const result = await cli(
      ["import", file, "--timezone", "Paris"],
      envFor("nobucket", proxy.endpoint),
    );
    expect(result.code).toBe(2);
    expect(result.err).toContain("fuseau horaire inconnu « Paris »");
    expect(result.err).toContain("Europe/Paris");
    expect(proxy.requests.length).toBe(before);
  });
});

describe("--dry-run", () => {
  test("shows what would be imported with the counts and sends no request at all; the real run then sends", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(40)}`);
    const bucket = await createBucket(localS3Client());
    const env = envFor(bucket, proxy.endpoint);
    const before = proxy.requests.length;

    const dry = await cli(["import", file, "--dry-run", "--timezone", "Europe/Paris"], env);
    expect(dry.err).toBe("");
    expect(dry.code).toBe(0);
    expect(proxy.requests.slice(before)).toEqual([]);
    expect(dry.out).toContain("40 enregistrements trouvés");
    expect(dry.out).toContain("validation : 40 enregistrements valides");
    expect(dry.out).toContain("aperçu (5 sur 40) :");
    expect(dry.out).toContain(
      "  id 1 (ligne 1 de la table rappatriements) : OLD-0001, LYON-1 → PARIS-02, 1 ligne, draft, createdAt 2024-05-01T08:00:00.000Z, expectedAt 2024-05-02T22:00:00.000Z",
    );
    expect(dry.out).toContain("par statut : draft 40");
    expect(dry.out).toContain(
      `essai (--dry-run) : 40 rapatriements seraient importés dans s3://${bucket}/${KEY} ; rien n'a été envoyé ni lu sur S3.`,
    );

    const real = await cli(["import", file, "--timezone", "Europe/Paris"], env);
    expect(real.code).toBe(0);
    const sent = proxy.requests.slice(before);
    expect(sent.some((r) => r.startsWith(`PUT /${bucket}/${KEY}`))).toBe(true);
    expect(await exportedJson(bucket)).toHaveLength(40);
  });

  test("a dry run of a bad file refuses it the same way, still without a request", async () => {
    const file = legacyFile(
      `${LEGACY_TABLE}\n${legacyRows(3)}\nUPDATE rappatriements SET destination = origin WHERE id = 2;`,
    );
    const before = proxy.requests.length;
    const dry = await cli(["import", file, "--dry-run"], envFor("nobucket", proxy.endpoint));
    expect(dry.code).toBe(1);
    expect(dry.err).toContain("refusé : 1 enregistrement invalide");
    expect(proxy.requests.length).toBe(before);
  });
});

describe("bad records named by id or reference and their row or line", () => {
  test("an old table: each bad row by its id and row number, repeats named by the first one", async () => {
    const file = legacyFile(
      `${LEGACY_TABLE}\n${legacyRows(10)}
       UPDATE rappatriements SET lines = '[{"sku":"A","quantity":0}]' WHERE id = 3;
       UPDATE rappatriements SET created_at = '2024-13-45 10:00:00' WHERE id = 7;
       UPDATE rappatriements SET reference = 'OLD-0002' WHERE id = 9;`,
    );
    const bucket = await createBucket(localS3Client());
    const result = await cli(["import", file], envFor(bucket));
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toEqual([
      `refusé : 3 enregistrements invalides dans ${file} (3 erreurs) ; rien n'a été envoyé.`,
      "  id 3 (ligne 3 de la table rappatriements) : lines[0].quantity : doit être un nombre supérieur à 0",
      "  id 7 (ligne 7 de la table rappatriements) : createdAt : doit être une date et heure ISO 8601 avec son fuseau, par exemple 2026-03-01T08:00:00Z",
      "  id 9 (ligne 9 de la table rappatriements) : reference : même référence que id 2 (ligne 2 de la table rappatriements)",
    ]);
    expect(result.err).not.toMatch(/(^|\s)\[\d+\]/m);
  });

  test("a JSON list: records without id named by reference and the line where they start", async () => {
    const records = [
      { reference: "J-1", origin: "A", destination: "B", lines: [{ sku: "S", quantity: 1 }] },
      { reference: "J-2", origin: "A", destination: "B", lines: [] },
      { origin: "A", destination: "B", lines: [{ sku: "S", quantity: 1 }] },
    ];
    const file = join(freshDir(), "liste.json");
    writeFileSync(file, JSON.stringify({ rapatriements: records }, null, 2));
    // Where each record's object opens in the text: "    {" at the list's indent.
    const starts = readFileSync(file, "utf8")
      .split("\n")
      .flatMap((line, i) => (line === "    {" ? [i + 1] : []));
    expect(starts).toHaveLength(3);
    const result = await cli(["import", file], envFor("nobucket", proxy.endpoint));
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toEqual([
      `refusé : 2 enregistrements invalides dans ${file} (2 erreurs) ; rien n'a été envoyé.`,
      `  référence J-2 (ligne ${starts[1]}) : lines : doit contenir au moins 1 ligne`,
      `  enregistrement n° 3 (ligne ${starts[2]}) : reference : est obligatoire`,
    ]);
  });
});

describe("npm start -- --from a bad file", () => {
  test("prints the same list of bad records as the CLI, and starts nothing", async () => {
    const file = legacyFile(
      `${LEGACY_TABLE}\n${legacyRows(4)}
       UPDATE rappatriements SET status = 'lost' WHERE id = 4;`,
    );
    const fromCli = await cli(["import", file], envFor("nobucket", proxy.endpoint));
    expect(fromCli.code).toBe(1);
    const listed = fromCli.err.split("\n");
    expect(listed).toEqual([
      `refusé : 1 enregistrement invalide dans ${file} (1 erreur) ; rien n'a été envoyé.`,
      "  id 4 (ligne 4 de la table rappatriements) : status : doit valoir l'un de : draft, requested, in_transit, received, cancelled",
    ]);

    const started = await runProcess(
      NODE,
      [join(PROJECT_ROOT, "tools", "local-api", "start.ts"), "--from", file, "--port", "0"],
      { RAPATRIEMENTS_LOCAL_DIR: freshDir() },
    );
    expect(started.code).not.toBe(0);
    for (const line of listed) expect(started.stderr).toContain(line);
    expect(started.stdout).not.toContain("listening");
  }, 120_000);
});

describe("progress", () => {
  test("on a terminal: records read, validated and bytes sent; then bytes received by export", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(300)}`);
    const bucket = await createBucket(localS3Client());
    const imported = await cli(["import", file], envFor(bucket), true);
    expect(imported.code).toBe(0);
    expect(imported.progress).toContain("lus : 300 / 300");
    expect(imported.progress).toContain("validés : 300 / 300");
    const sent = imported.progress.filter((l) => l.startsWith("envoyés : ")).at(-1);
    expect(sent).toMatch(/^envoyés : (\S+ \S+) \/ \1$/);
    expect(imported.progress.at(-1)).toBe(""); // cleared before the summary

    const exported = await cli(["export", join(freshDir(), "copie.db")], envFor(bucket), true);
    expect(exported.code).toBe(0);
    expect(exported.progress.filter((l) => l.startsWith("reçus : ")).at(-1)).toMatch(
      /^reçus : (\S+ \S+) \/ \1$/,
    );
  });

  test("in a real pseudo-terminal the line is rewritten in place; through a pipe nothing but the summary", async () => {
    const file = legacyFile(`${LEGACY_TABLE}\n${legacyRows(200)}`);
    const piped = await runProcess(
      NODE,
      [CLI, "import", file, "--dry-run"],
      variablesFor("dry-run-bucket"),
    );
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toContain("200 rapatriements seraient importés");
    expect(piped.stdout).not.toContain("\r");
    expect(piped.stdout).not.toContain("\u001b");

    const onTerminal = await runProcess(
      "python3",
      [join(PROJECT_ROOT, "test", "support", "pty-run.py"), NODE, CLI, "import", file, "--dry-run"],
      variablesFor("dry-run-bucket"),
    );
    expect(onTerminal.code).toBe(0);
    expect(onTerminal.stdout).toContain("\r\x1b[2Klus : 200 / 200");
    expect(onTerminal.stdout).toContain("\r\x1b[2Kvalidés : 200 / 200");
    expect(onTerminal.stdout).toContain("200 rapatriements seraient importés");
  });
});

describe("export to CSV", () => {
  const records = [
    {
      id: "csv-1",
      reference: "CSV-1",
      origin: "LYON-1",
      destination: "PARIS-02",
      status: "requested",
      lines: [
        { sku: "A", quantity: 3, unit: "palette" },
        { sku: "B", quantity: 1.5 },
      ],
      comment: 'Fragile; "verre"\nà l\'étage',
      createdAt: "2026-01-01T00:00:00.000Z",
    },
    {
      id: "csv-2",
      reference: "CSV-2",
      origin: "NICE",
      destination: "PARIS-02",
      lines: [{ sku: "C", quantity: 1 }],
      comment: "a;b, c",
      expectedAt: "2026-02-01T08:00:00Z",
      createdAt: "2026-01-02T00:00:00.000Z",
    },
  ];
  const HEADER =
    "id;reference;status;origin;destination;requestedAt;expectedAt;comment;lineCount;totalQuantity;lines;createdAt;updatedAt;version;createdBy;updatedBy";

  async function withRecords(): Promise<string> {
    const bucket = await createBucket(localS3Client());
    const source = join(freshDir(), "source.json");
    writeFileSync(source, JSON.stringify(records));
    expect((await cli(["import", source], envFor(bucket))).code).toBe(0);
    return bucket;
  }

  test("one row per rapatriement, lines flattened, UTF-8 with BOM, ';' separator, quoting of ; quotes and newlines", async () => {
    const bucket = await withRecords();
    const file = join(freshDir(), "rapatriements.csv");
    const result = await cli(
      ["export", file, "--separator", ";", "--style", "machine"],
      envFor(bucket),
    );
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain(`exporté 2 rapatriements dans ${file} (csv, séparateur ";"`);
    const bytes = readFileSync(file);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString("utf8")).toBe(
      `\uFEFF${HEADER}\r\n` +
        `csv-1;CSV-1;requested;LYON-1;PARIS-02;;;"Fragile; ""verre""\nà l'étage";2;4.5;A (3 palette) | B (1.5);2026-01-01T00:00:00.000Z;2026-01-01T00:00:00.000Z;1;;\r\n` +
        `csv-2;CSV-2;draft;NICE;PARIS-02;;2026-02-01T08:00:00Z;"a;b, c";1;1;C (1);2026-01-02T00:00:00.000Z;2026-01-02T00:00:00.000Z;1;;\r\n`,
    );
  });

  test("',' by default: a cell is quoted for a comma, not for a ';'", async () => {
    const bucket = await withRecords();
    const file = join(freshDir(), "rapatriements.CSV");
    expect((await cli(["export", file], envFor(bucket))).code).toBe(0);
    const rows = readFileSync(file, "utf8").split("\r\n");
    expect(rows[0]).toBe(`\uFEFF${HEADER.replaceAll(";", ",")}`);
    expect(rows[2]).toContain(',"a;b, c",');
    expect(rows).toHaveLength(4); // header, two rows, and the empty string after the last CRLF
  });

  test.each([
    [["export", "donnees.xlsx"], "extension inconnue « .xlsx » pour donnees.xlsx"],
    [["export", "donnees"], "donnees n'a pas d'extension"],
    [["export", "x.json", "--separator", ";"], "--separator ne s'applique qu'à un export CSV"],
    [
      ["export", "x.db", "--style", "fr"],
      "--style ne s'applique qu'à un export CSV (ici : sqlite)",
    ],
    [["export", "x.csv", "--style", "excel"], `--style doit valoir fr ou machine (reçu : "excel")`],
    [
      ["export", "x.csv", "--timezone", "Europe/Paris"],
      "--timezone ne s'applique qu'à la forme française (--style fr, ou --separator ';')",
    ],
    [
      ["export", "x.csv", "--separator", ";", "--timezone", "Europe/Pariss"],
      "fuseau horaire inconnu « Europe/Pariss »",
    ],
    [
      ["export", "x.csv", "--separator", "|"],
      `--separator doit valoir ',', ';' ou tab (reçu : "|")`,
    ],
  ])("%j: exit 2 with a clear message, no file, no request", async (argv, problem) => {
    const dir = freshDir();
    const [command, name, ...options] = argv;
    const file = join(dir, name ?? "");
    const before = proxy.requests.length;
    const result = await cli([command ?? "", file, ...options], envFor("nobucket", proxy.endpoint));
    expect(result.code).toBe(2);
    expect(result.err).toContain(problem.replace(name ?? "", file));
    expect(existsSync(file)).toBe(false);
    expect(proxy.requests.length).toBe(before);
  });
});

/** A child process with only `variables` (and PATH/HOME) in its environment, stdin closed. */
function runProcess(
  command: string,
  args: string[],
  variables: Record<string, string>,
): Promise<Finished> {
  return run(command, args, {
    cwd: freshDir(),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...variables },
  });
}
