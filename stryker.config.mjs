// @ts-check
/**
 * Mutation testing (`npm run mutate`): StrykerJS breaks the code of the three
 * risky folders one small change at a time and runs the tests that cover each
 * change; a change no test notices (a survivor) is a place where the product
 * could break silently. Not part of `npm test`: a full run takes hours on two
 * cores (see README, "Mutation testing").
 *
 * Equivalent mutants (changes that cannot alter behaviour) are not left to
 * read as survivors: each is marked where it is, with
 * `// Stryker disable next-line <mutator>: <reason>`, so the reason sits
 * beside the code it excuses, and the report lists it as ignored, with that
 * reason. Marked so far: lambda/handlers/ (apply-commands.ts 8 lines,
 * http-handler.ts 12, create-rapatriement.ts, get-rapatriement.ts,
 * dependencies.ts, metrics.ts 1 each); lambda/storage/ (database-object.ts
 * 13, json-codec.ts 8, object-fetch.ts 2, schema.ts 1, sqlite-codec.ts 2 lines
 * and 1 block); lambda/rapatriements/
 * (cursor.ts 2, repository.ts 5, schema.ts 1, validation.ts 1 block,
 * page-budget.ts 1).
 *
 * Survivors known and not marked, because a mark would hide other mutants of
 * the same line that tests do kill (all equivalent):
 * - apply-commands.ts and commands-queue.ts (83.7 %, rewritten for issue
 *   25): the abort signals' wiring and the SQS client's options (timeouts,
 *   endpoint: no fault of the local server shows them), the answer budget's
 *   one byte either way, the envelope check's `typeof` parts forced true
 *   (no event has a non-string id beside a string source and detail-type),
 *   an empty last chunk of confirmations (the local server accepts an empty
 *   batch that SQS refuses), and `?.` guards kept for the type checker.
 * - dependencies.ts, transactionOptions: `typeof … === "number"` forced true
 *   (Number.isFinite and `> 0` already refuse what is not a number; the
 *   typeof is for the type checker).
 * - metrics.ts, the conflicts count: `call.command === "PutObject"` forced
 *   true (only a PUT is conditional on the ETag; a GET answers 304, never
 *   409 or 412).
 * - dependencies.ts, the container's build: prefetch forced off in Lambda
 *   (the same object is read, only later), and the identity check in the
 *   failed build's catch (it matters only when a newer build has already
 *   replaced the failed one, which one container's sequential invocations
 *   never do).
 * - lambda/storage/ (all equivalent unless said): s3-errors.ts, `status ===
 *   412` and `name === "PreconditionFailed"` each forced false or joined by
 *   `&&` (S3 answers a lost If-Match race 412 PreconditionFailed: either test
 *   alone decides); `SlowDown` forced false in isAmbiguous (always a 503,
 *   which the status test takes); `AccessDenied` and `PermanentRedirect`
 *   forced false in explainS3Error (always 403 and 301, likewise); shape()'s
 *   object guard forced true and mayHaveLanded's `$metadata?.` (the SDK throws
 *   only Error objects, each with its $metadata). Not equivalent, untested:
 *   isWriteConflict's `404 && NoSuchKey` loosened to any 404 or any NoSuchKey
 *   (only a bucket deleted under a running engine, a PUT answered 404
 *   NoSuchBucket, tells them apart).
 * - database-object.ts: replaceCache's `this.cached.db !== next.db` forced
 *   true (it is never handed the copy it already holds; the guard keeps it
 *   from closing that copy if it ever were).
 *   load's `cached.etag !== null`, and `cached !== undefined && cached.etag
 *   !== null` as a whole, forced true before isNotModified (a 304 answers
 *   only an If-None-Match, which is sent only when a copy with an ETag is
 *   held; `cached !== undefined` alone forced true is killed).
 * - rapatriements/repository.ts (all equivalent): the `finally` blocks
 *   that free statements emptied (see schema.ts below); findById's `?? []`
 *   (every record has a line; the line's `[id]` mutant is killed); update's
 *   `linesChanged` and `previousUpdater !== updater` forced true (rewriting
 *   the same lines, or trying to forget a name still in use, changes
 *   nothing); forgetUnusedActors' null check and linesOf's empty-list guard
 *   forced false (`id = NULL` and `IN ()` match no row); actorsOfRecord's
 *   `row?.` and its `typeof` forced true (it runs on a record that exists;
 *   SQLite answers a number or NULL); groupLines' `row.unit !== undefined`
 *   forced true (SQLite answers NULL, never undefined); count's and
 *   countWithoutAuthor's `[0]?.` (COUNT(*) answers one row); list's
 *   `last !== undefined` forced true (a page keeps at least one record, so
 *   when there is more, there is a last).
 * - rapatriements/schema.ts, carryOverSchema2Receipts: its `finally` block
 *   emptied (the statement's free, a leak sql.js gives no count of; a mark
 *   before `} finally {` does not reach it: Stryker reads a directive from
 *   the node it leads).
 * - rapatriements/service.ts (all equivalent): prepareImport's rethrow
 *   guard forced false and `error.errors ?? []`'s fallback (parseImportedRecord
 *   throws only ValidationError, always with its list of errors);
 *   applyUpdate's `changes.lines !== undefined` forced true (rewriting the
 *   same lines changes nothing, as repository.ts's `linesChanged` above); its
 *   `next.reference !== current.reference` forced true and, inside, `holder
 *   !== id` forced true (a record's own reference is held by itself; another
 *   reference is never held by it). The lookup stays behind the first test:
 *   an update that keeps its reference spends no query on it.
 * - rapatriements/validation.ts, parseImportedRecord: the rethrow guard
 *   forced false and `error.errors ?? []`'s fallback (parseCreate throws
 *   only ValidationError, always with its list of errors); its last check's
 *   `errors.length > 0`, `fields === undefined` and `!stored.success` each
 *   forced false, and the first `||` as `&&` (either of the last two implies
 *   the first; they are there for the type checker).
 *
 * Reported Survived, yet killed (checked by hand): the messages and options
 * inside validation.ts's buildSchemas. The schemas are built once per test
 * file, by its first test that parses (they are memoized to spare a cold
 * start), so per-test coverage credits that first test alone with each of
 * their mutants, and the tests that assert the messages are never run for
 * them. Each was made by hand with validation.test.ts run: all killed.
 * - object-fetch.ts: the IfNoneMatch and abortSignal spreads forced to the
 *   undefined side (the SDK treats an undefined field as no field).
 * - schema.ts: readPragma's `typeof value === "number"` forced true (the
 *   pragmas asked for always answer a number); findCommit's empty-list guard
 *   forced false (SQLite answers `IN ()` with no row), its `found[0]?.` and
 *   `typeof id === "string"` forced true (a commit's id is TEXT NOT NULL).
 * - codec.ts, looksLikeSqlite: the length guard forced false (a short file's
 *   missing bytes read `undefined`, which no header byte equals).
 * - bucket-bootstrap.ts: `{ abortSignal }` emptied on CreateBucket and
 *   PutBucketEncryption (the engine's timed() answers the caller by the
 *   deadline whether or not the call heeds the abort, as
 *   database-object-time.test.ts shows for a call that ignores it; only the
 *   request goes on until the client's own timeouts end it).
 * - sqlite-codec.ts: `options.verified === true` forced false (the full check
 *   runs on bytes already proven: it costs time, it changes no answer) and
 *   quick_check's `[0]?.` (the pragma always answers a row); the VACUUM
 *   threshold's `>` as `>=` (only the exact quarter differs, a matter of cost).
 * - s3-client.ts: `config.credentials !== undefined` forced true (an
 *   undefined `credentials` is the SDK's default chain, as no field is).
 * - sql-js.ts: `loading === undefined` forced true (sql.js's initSqlJs keeps
 *   its own promise: a second load reads the file again and shares the
 *   module; checked by hand). The others are not equivalent but out of
 *   Stryker's reach: the module is loaded once per test file (the same memoization as validation.ts's
 *   schemas, so only the first test to load it covers its mutants);
 *   `clearInterval(keepAlive)` is tested by a child process
 *   (sql-js.test.ts), where no mutant is switched on; `wasmBinary` and the
 *   file beside the module matter only in the bundle (test/infra); the V8
 *   flag changes when wasm is compiled, not what it does (bench).
 * - json-codec.ts: `typeof schemaVersion !== "number"` forced false
 *   (Number.isInteger refuses a non-number next); `value.length > 0`
 *   loosened (group_concat over no row is NULL, never an empty blob);
 *   literal()'s and quote()'s escape emptied (no name or separator here
 *   holds a quote); a statement prepared again when one exists (a leak, as
 *   the marked lines say).
 * Static mutants are left out (see `ignoreStatic` below); `npm run
 * mutate:score` counts them apart. What else survived, and why, is in the
 * README ("Mutation testing") with each folder's score.
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
// lambda/storage/s3-errors.ts,lambda/storage/codec.ts some files of one
// folder, in reports/mutation/storage/s3-errors+codec/. A run that is stopped
// loses only its own results (Stryker writes its incremental file at the end
// of a run), so on a busy machine work in pieces that finish.
// `node tools/mutation/score.ts` adds up every piece's mutation.json into each
// folder's score (each file from the newest report that holds it).
const FOLDERS = ["storage", "rapatriements", "handlers"];
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
