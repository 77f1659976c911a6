/**
 * Mutation testing: `node tools/mutation/score.ts [--survivors]` adds up the
 * reports of every `npm run mutate` run kept under reports/mutation/ (the
 * three folders at once, one folder, or some files: see stryker.config.mjs)
 * into one score per folder. Each source file counts once, from the newest
 * report that holds it, so a file re-run on its own replaces its part of an
 * older folder run. `--survivors` lists the mutants no test noticed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";

const ROOT = join(import.meta.dirname, "..", "..");
const REPORTS = join(ROOT, "reports", "mutation");
const FOLDERS = ["storage", "rapatriements", "handlers", "messages"] as const;

/** What this script reads of a mutant in mutation-testing-report-schema's JSON. */
interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: string;
  statusReason?: string;
  static?: boolean;
  location: { start: { line: number; column: number } };
}

interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

/** Every mutation.json under `dir`, at any depth (none when it does not exist). */
function reportFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => basename(name) === "mutation.json")
    .map((name) => join(dir, name));
}

/** Each source file's mutants, from the newest report that holds it. */
function newestMutants(): Map<string, { mutants: Mutant[]; report: string; time: number }> {
  const byFile = new Map<string, { mutants: Mutant[]; report: string; time: number }>();
  for (const path of reportFiles(REPORTS)) {
    const time = statSync(path).mtimeMs;
    const report = JSON.parse(readFileSync(path, "utf8")) as Report;
    for (const [name, file] of Object.entries(report.files)) {
      const key = relative(ROOT, join(ROOT, name));
      const known = byFile.get(key);
      if (known === undefined || known.time < time) {
        byFile.set(key, { mutants: file.mutants, report: relative(ROOT, path), time });
      }
    }
  }
  return byFile;
}

const { values } = parseArgs({ options: { survivors: { type: "boolean", default: false } } });
const byFile = newestMutants();
if (byFile.size === 0) {
  console.error(`No mutation.json under ${relative(ROOT, REPORTS)}: run \`npm run mutate\` first.`);
  process.exit(1);
}

/**
 * Static mutants are counted apart and left out of the score, whatever an
 * older report says of them: the vitest runner never switches them on (see
 * stryker.config.mjs), so their Survived means nothing. A report written
 * before `ignoreStatic` was set still holds them as Survived or Killed.
 */
const statusOf = (mutant: Mutant) =>
  mutant.static === true && mutant.status !== "Ignored" ? "Static" : mutant.status;

const STATUSES = ["Killed", "Timeout", "Survived", "NoCoverage", "Ignored", "Static"] as const;
console.log(
  ["folder", "files", "mutants", ...STATUSES, "errors", "score"].map((h) => h.padEnd(15)).join(""),
);
for (const folder of FOLDERS) {
  const files = [...byFile.keys()].filter((name) => name.startsWith(`lambda/${folder}/`));
  if (files.length === 0) continue;
  const counts = new Map<string, number>();
  for (const name of files) {
    for (const mutant of byFile.get(name)?.mutants ?? []) {
      counts.set(statusOf(mutant), (counts.get(statusOf(mutant)) ?? 0) + 1);
    }
  }
  const n = (status: string) => counts.get(status) ?? 0;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const errors = n("CompileError") + n("RuntimeError");
  // Stryker's mutation score: detected over everything a test could have detected.
  const detected = n("Killed") + n("Timeout");
  const score = (100 * detected) / (detected + n("Survived") + n("NoCoverage"));
  const cells = [folder, files.length, total, ...STATUSES.map(n), errors, `${score.toFixed(1)}%`];
  console.log(cells.map((c) => String(c).padEnd(15)).join(""));
}

if (values.survivors) {
  for (const [name, { mutants, report }] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const left = mutants.filter((m) => statusOf(m) === "Survived" || statusOf(m) === "NoCoverage");
    if (left.length === 0) continue;
    console.log(`\n${name} (${report})`);
    left.sort((a, b) => a.location.start.line - b.location.start.line);
    for (const m of left) {
      const where = `${m.location.start.line}:${m.location.start.column}`;
      const what = (m.replacement ?? "").replaceAll(/\s+/g, " ").slice(0, 90);
      console.log(`  ${where.padEnd(8)} ${m.status.padEnd(11)} ${m.mutatorName}: ${what}`);
    }
  }
}
