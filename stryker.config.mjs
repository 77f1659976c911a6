// @ts-check
/**
 * Mutation testing (`npm run mutate`): StrykerJS breaks the code of
 * lambda/storage/, lambda/rapatriements/ and lambda/handlers/ one small
 * change at a time and runs the tests that cover each change; a change no
 * test notices (a survivor) is a place where the product could break
 * silently. Not part of `npm test`: run it on the files you changed
 * (MUTATE_FILES, below), incrementally.
 *
 * A survivor that cannot alter behaviour (an equivalent mutant) is marked
 * where it is, with `// Stryker disable next-line <mutator>: <reason>`, so
 * the reason sits beside the code it excuses and the report lists it as
 * Ignored, with that reason. Survivors left unmarked, because a mark would
 * also hide mutants of the same line that tests kill, are listed in
 * docs/testing.md, with how to run this, how to read a report, and each
 * folder's score.
 */
import { join } from "node:path";
import { ensureVenv, PROJECT_ROOT } from "./tools/local-s3/local-s3.ts";

// Stryker runs the tests in copies of the project (.stryker-tmp/sandbox-*),
// one per worker. Each worker's vitest starts its own local S3 server on a
// free port (test/global-setup.ts), from the project's own virtualenv: it is
// made here, once, before any worker starts, rather than in every sandbox.
process.env.LOCAL_S3_VENV = join(PROJECT_ROOT, ".venv");
await ensureVenv({ venv: process.env.LOCAL_S3_VENV, log: (line) => console.log(line) });

// MUTATE_FOLDER=storage (or rapatriements, handlers) mutates one folder and
// keeps its results apart, in reports/mutation/<folder>/; MUTATE_FILES=
// lambda/storage/s3-errors.ts,lambda/storage/file-codec.ts some files of one
// folder, in reports/mutation/storage/s3-errors+file-codec/. A run stopped by
// SIGINT (Ctrl-C, `timeout -s INT`) saves a partial incremental file of what
// it tested, and the next run of the same piece goes on from there; it writes
// no report then, so on a busy machine still work in pieces that finish.
// `node tools/mutation/score.ts` adds up every piece's mutation.json into each
// folder's score (each file from the newest report that holds it).
const FOLDERS = ["storage", "rapatriements", "handlers", "messages"];
const folder = process.env.MUTATE_FOLDER;
const files = process.env.MUTATE_FILES?.split(",").filter((name) => name !== "");
if (folder !== undefined && !FOLDERS.includes(folder)) {
  throw new Error(`MUTATE_FOLDER must be one of ${FOLDERS.join(", ")}, not "${folder}"`);
}
const named = (files ?? []).map((name) => /^lambda\/([a-z]+)\/([a-z0-9-]+)\.ts$/.exec(name));
const filesFolder = named[0]?.[1];
if (
  named.some(
    (match) => match == null || match[1] !== filesFolder || !FOLDERS.includes(match[1] ?? ""),
  )
) {
  throw new Error(`MUTATE_FILES must name files of one of lambda/{${FOLDERS.join(",")}}/`);
}
const mutate =
  files !== undefined && files.length > 0
    ? files
    : (folder === undefined ? FOLDERS : [folder]).map((name) => `lambda/${name}/**/*.ts`);
const reportDir =
  filesFolder !== undefined
    ? `reports/mutation/${filesFolder}/${named.map((match) => match?.[2]).join("+")}`
    : folder === undefined
      ? "reports/mutation"
      : `reports/mutation/${folder}`;

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.config.ts", pool: "threads", related: true },
  mutate,
  // The tests that run the mutated code in this process. The CLI, local API
  // and infra tests run it in child processes or bundles, where a mutant is
  // never switched on: they would only cost time. The reliability suite
  // (properties over a hundred random runs, 10,000 writes) takes 25–40 s a
  // file and covers nearly every mutant, so each mutant it does not kill
  // would cost minutes: it runs in `npm test`, not here.
  testFiles: ["test/lambda/**/*.test.ts"],
  coverageAnalysis: "perTest",
  // Static mutants (a module-level constant or table, such as routes.ts's
  // routes or the problem titles, evaluated once at import) are not switched
  // on by this Stryker and vitest runner: the runner does not reload the
  // modules, so such a mutant runs against the module as it was first loaded
  // and is reported Survived whatever the tests do (upstream
  // stryker-mutator/stryker-js#6144 and #6209; seen here: routes.ts's first
  // route replaced by {} survives under Stryker, yet fails
  // test/lambda/handlers/http-router.test.ts when switched on by hand with
  // __STRYKER_ACTIVE_MUTANT__). They also cost the most (each runs every
  // test). They are left out, and the report counts them as Ignored: the
  // scores are over the other mutants (set false here to run them anyway).
  ignoreStatic: true,
  // Only mutants whose code or covering tests changed since the last run are
  // tested again; the file is kept with the report (git-ignored).
  incremental: true,
  incrementalFile: `${reportDir}/stryker-incremental.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `${reportDir}/index.html` },
  jsonReporter: { fileName: `${reportDir}/mutation.json` },
  clearTextReporter: { reportTests: false, reportMutants: false, reportScoreTable: true },
  // Two cores, shared: one worker per core at most (MUTATE_CONCURRENCY=1 to yield one).
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 2),
  // The suite talks to a real (local) S3 server and is slow on a busy machine.
  dryRunTimeoutMinutes: 30,
  timeoutMS: 20_000,
  timeoutFactor: 2,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
  ignorePatterns: [".venv", ".local", "cdk.out", "bench-results.json", "*.log"],
  thresholds: { high: 90, low: 85, break: null },
};
