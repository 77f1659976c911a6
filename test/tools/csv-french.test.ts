/**
 * `npx rapatriements export tableau.csv --separator ';'` as a French
 * spreadsheet reads it — French columns and statuses, a decimal comma, dates
 * in the stated zone — checked by an independent CSV reader in French
 * settings (Python's csv module, `;`, decimal comma, day-first dates), and
 * `import` reading back both forms: the machine's exactly, the French one to
 * the second.
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import { readRecordsFile } from "../../tools/data/records-file.ts";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { actAsOperator, cli, freshDir, operatorEnv } from "../support/cli-run.ts";
import { createBucket, localS3Client } from "../support/local-s3.ts";

const run = promisify(execFile);
const KEY = "rapatriements/rapatriements.db";

actAsOperator();

const RECORDS = [
  {
    id: "fr-1",
    reference: "RAP-2024-001",
    origin: "LYON-01",
    destination: "PARIS-02",
    status: "in_transit",
    lines: [
      { sku: "PAL-EUR", quantity: 41.5, unit: "palette" },
      { sku: "CARTON (petit)", quantity: 0.00000015 },
    ],
    comment: 'Fragile; "verre"',
    requestedAt: "2024-07-01T06:30:00.000Z",
    expectedAt: "2024-12-24T16:00:00.000Z",
    createdAt: "2024-06-30T22:15:07.000Z",
    createdBy: "alice",
  },
  {
    id: "fr-2",
    reference: "RAP-2024-002",
    origin: "NICE",
    destination: "PARIS-02",
    status: "received",
    lines: [{ sku: "C", quantity: 1200 }],
    createdAt: "2024-01-15T09:00:00.000Z",
  },
];

/** A bucket holding RECORDS, imported from a JSON list. */
async function withRecords(): Promise<string> {
  const bucket = await createBucket(localS3Client());
  const source = join(freshDir(), "source.json");
  writeFileSync(source, JSON.stringify(RECORDS));
  expect((await cli(["import", source], operatorEnv(bucket, KEY))).code).toBe(0);
  return bucket;
}

/** The records as stored, through a JSON export. */
async function stored(bucket: string): Promise<unknown[]> {
  const file = join(freshDir(), "controle.json");
  expect((await cli(["export", file], operatorEnv(bucket, KEY))).code).toBe(0);
  return (await readRecordsFile(file, await loadSqlJs())).records;
}

/** Python's csv module with French settings: `;`, decimal comma, dd/mm/yyyy dates in the stated zone. */
const FRENCH_READER = `
import csv, json, re, sys
from datetime import datetime
from zoneinfo import ZoneInfo
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f, delimiter=";"))
header, body = rows[0], rows[1:]
zone = ZoneInfo(re.search(r"\\((.+)\\)$", header[5]).group(1))
def value(text):
    if re.fullmatch(r"-?\\d+(,\\d+)?", text):
        return float(text.replace(",", "."))
    if re.fullmatch(r"\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}:\\d{2}", text):
        local = datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=zone)
        return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    return text
print(json.dumps([dict(zip(header, map(value, row))) for row in body], ensure_ascii=False))
`;

describe("the CSV for a French spreadsheet", () => {
  test("with ';': French columns and statuses, decimal comma, Paris dates, as a French CSV reader takes them", async () => {
    const bucket = await withRecords();
    const file = join(freshDir(), "tableau.csv");
    const result = await cli(["export", file, "--separator", ";"], operatorEnv(bucket, KEY));
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `exporté 2 rapatriements dans ${file} (csv français, séparateur ";", virgule décimale, dates en Europe/Paris, `,
    );
    const text = readFileSync(file, "utf8");
    expect(text.split("\r\n")[0]).toBe(
      "\uFEFFIdentifiant;Référence;Statut;Origine;Destination;Demandé le (Europe/Paris);Attendu le (Europe/Paris);Commentaire;Nombre de lignes;Quantité totale;Lignes;Créé le (Europe/Paris);Modifié le (Europe/Paris);Version;Créé par;Modifié par",
    );

    const python = join(PROJECT_ROOT, ".venv", "bin", "python");
    const { stdout } = await run(python, ["-c", FRENCH_READER, file]);
    const rows = JSON.parse(stdout) as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        Identifiant: "fr-1",
        Référence: "RAP-2024-001",
        Statut: "en transit",
        Origine: "LYON-01",
        Destination: "PARIS-02",
        "Demandé le (Europe/Paris)": "2024-07-01T06:30:00Z",
        "Attendu le (Europe/Paris)": "2024-12-24T16:00:00Z",
        Commentaire: 'Fragile; "verre"',
        "Nombre de lignes": 2,
        // Rounded to a millionth, as the machine's form is.
        "Quantité totale": 41.5,
        Lignes: "PAL-EUR (41,5 palette) | CARTON (petit) (0,00000015)",
        "Créé le (Europe/Paris)": "2024-06-30T22:15:07Z",
        "Modifié le (Europe/Paris)": "2024-06-30T22:15:07Z",
        Version: 1,
        "Créé par": "alice",
        "Modifié par": "",
      },
      {
        Identifiant: "fr-2",
        Référence: "RAP-2024-002",
        Statut: "reçu",
        Origine: "NICE",
        Destination: "PARIS-02",
        "Demandé le (Europe/Paris)": "",
        "Attendu le (Europe/Paris)": "",
        Commentaire: "",
        "Nombre de lignes": 1,
        "Quantité totale": 1200,
        Lignes: "C (1200)",
        "Créé le (Europe/Paris)": "2024-01-15T09:00:00Z",
        "Modifié le (Europe/Paris)": "2024-01-15T09:00:00Z",
        Version: 1,
        "Créé par": "",
        "Modifié par": "",
      },
    ]);
    // Wall-clock time as the spreadsheet shows it: summer +2 h, winter +1 h.
    expect(text).toContain(";01/07/2024 08:30:00;24/12/2024 17:00:00;");
    expect(text).toContain(";15/01/2024 10:00:00;");
  });

  test("--timezone names the zone of the dates, and the columns say it", async () => {
    const bucket = await withRecords();
    const file = join(freshDir(), "tableau.csv");
    const result = await cli(
      ["export", file, "--separator", ";", "--timezone", "America/Cayenne"],
      operatorEnv(bucket, KEY),
    );
    expect(result.code).toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("Demandé le (America/Cayenne)");
    expect(text).toContain(";01/07/2024 03:30:00;");
  });

  test("import reads back the machine's form exactly and the French one to the second", async () => {
    const bucket = await withRecords();
    const original = await stored(bucket);
    for (const [options, name] of [
      [["--style", "machine"], "machine.csv"],
      [["--separator", ";"], "francais.csv"],
      [["--separator", "tab"], "tabulations.csv"],
    ] as const) {
      const file = join(freshDir(), name);
      expect((await cli(["export", file, ...options], operatorEnv(bucket, KEY))).code).toBe(0);
      const other = await createBucket(localS3Client());
      const imported = await cli(["import", file], operatorEnv(other, KEY));
      expect(imported.err, name).toBe("");
      expect(imported.code, name).toBe(0);
      expect(imported.out, name).toContain(
        name === "francais.csv"
          ? '2 enregistrements trouvés (csv français : séparateur ";", dates en Europe/Paris, à la seconde)'
          : "2 enregistrements trouvés (csv : séparateur",
      );
      // The records' dates here have no milliseconds: both forms give them back whole.
      expect(await stored(other), name).toEqual(original);
    }
  });

  test("a French CSV edited by hand: a bad status or reference is named by its line, nothing is sent", async () => {
    const bucket = await withRecords();
    const file = join(freshDir(), "tableau.csv");
    expect((await cli(["export", file, "--separator", ";"], operatorEnv(bucket, KEY))).code).toBe(
      0,
    );
    const edited = readFileSync(file, "utf8")
      .replace(";reçu;", ";livré;")
      .replace(";RAP-2024-002;", ";RAP 2024 002;");
    writeFileSync(file, edited);
    const other = await createBucket(localS3Client());
    const result = await cli(["import", file, "--dry-run"], operatorEnv(other, KEY));
    expect(result.code).toBe(1);
    expect(result.err.split("\n")).toEqual([
      `refusé : 1 enregistrement invalide dans ${file} (2 erreurs) ; rien n'a été envoyé.`,
      "  id fr-2 (ligne 3 du fichier) : reference : doit faire de 1 à 64 caractères parmi A-Z a-z 0-9 . _ - /",
      "  id fr-2 (ligne 3 du fichier) : status : doit valoir l'un de : draft, requested, in_transit, received, cancelled",
    ]);
  });

  test.each([
    [
      "A | B",
      "la colonne lines « A | B (1) » n'a pas la forme SKU (3.5 unit) | SKU (1) : corrigez-la, ou importez plutôt un export .json ou .db",
    ],
    [
      "A (1) | B",
      "la colonne lines donne 2 lignes, lineCount en annonce 1 (un « | » dans un SKU ou une unité ?) ; importez plutôt un export .json ou .db",
    ],
  ])(
    "a line cell that cannot be split back (SKU %j) is refused, not guessed",
    async (sku, problem) => {
      const bucket = await createBucket(localS3Client());
      const source = join(freshDir(), "source.json");
      writeFileSync(source, JSON.stringify([{ ...RECORDS[1], lines: [{ sku, quantity: 1 }] }]));
      expect((await cli(["import", source], operatorEnv(bucket, KEY))).code).toBe(0);
      const file = join(freshDir(), "machine.csv");
      expect((await cli(["export", file], operatorEnv(bucket, KEY))).code).toBe(0);
      const result = await cli(["import", file, "--dry-run"], operatorEnv(bucket, KEY));
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        `erreur : RecordsFileError: ${file}, ligne 2 du fichier : ${problem}`,
      );
    },
  );
});
