/**
 * Local tools: `npm start`. Starts the local S3 server and the local API on
 * http://127.0.0.1:$PORT, the same handler modules behind it as in Lambda and
 * under Lambda's limits, and the API reference at /docs. Works with no AWS
 * account and no .env: it fills in local defaults and says which.
 *
 * The local S3 server keeps its data in memory; npm start copies it to
 * .local/ (or RAPATRIEMENTS_LOCAL_DIR) after every write, before answering,
 * and puts it back at the next start. Ctrl-C, SIGTERM or SIGHUP (to this
 * process or to npm), or the end of the parent process, stop everything.
 *
 *   npm start                      start, restoring .local/ when present
 *   npm start -- --from FILE       import an existing SQLite or JSON file first
 *   npm start -- --from FILE --timezone Europe/Paris   zone of its zone-less dates (default UTC)
 *   npm start -- --port 3001       another port (or PORT=3001)
 *   npm start -- --timeout 3       the functions' timeout in seconds (default 10, as deployed)
 *   npm start -- --json-logs       each request's JSON log line, as production logs it,
 *                                  instead of one short line (tools/local-api/terminal-lines.ts)
 */
import { createServer, type RequestListener, type Server } from "node:http";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { nearMisses, readEnvironment } from "../../lambda/environment.ts";
import { createDependencies } from "../../lambda/handlers/composition-root.ts";
import { createBucket } from "../../lambda/storage/bucket-bootstrap.ts";
import { fileReport } from "../data/file-report.ts";
import { plural } from "../data/plural.ts";
import {
  InvalidRecordsError,
  invalidRecordsReport,
  prepareFileImport,
} from "../data/record-errors.ts";
import { DEFAULT_TIME_ZONE, readRecordsFile } from "../data/records-file.ts";
import { isTimeZone } from "../data/time-zone.ts";
import { type LocalS3, PROJECT_ROOT, startLocalS3 } from "../local-s3/local-s3.ts";
import { LOCAL_API_ID } from "./api-gateway.ts";
import { DEFAULT_FUNCTION_TIMEOUT_MS, LocalFunctions } from "./lambda-runtime.ts";
import { LOCAL_EVENTS_PATH, type LocalEvents, startLocalEvents } from "./local-events.ts";
import { LocalSnapshot } from "./local-snapshot.ts";
import { localApiListener } from "./server.ts";
import { parseLogLine, requestLine } from "./terminal-lines.ts";

const USAGE =
  "usage: npm start [-- --port N] [-- --from FILE [--timezone ZONE]] [-- --timeout SECONDS] [-- --json-logs]";
const LOCAL_DEFAULTS: Record<string, string> = {
  AWS_REGION: "eu-west-1",
  S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-local/rapatriements/rapatriements.db",
};
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

// A closed terminal makes writes to it fail; that must not end the process
// before it has saved and stopped the local S3 server.
process.stdout.on("error", () => {});
process.stderr.on("error", () => {});

function fail(message: string): never {
  console.error(`npm start: ${message}\n${USAGE}`);
  process.exit(2);
}

let args: {
  port?: string;
  from?: string;
  timezone?: string;
  timeout?: string;
  "json-logs"?: boolean;
};
try {
  args = parseArgs({
    options: {
      port: { type: "string" },
      from: { type: "string" },
      timezone: { type: "string" },
      timeout: { type: "string" },
      "json-logs": { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const port = Number(args.port ?? process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  fail(
    `the port must be an integer from 0 (any free port) to 65535 (got "${args.port ?? process.env.PORT}")`,
  );
}
const timeoutSeconds =
  args.timeout === undefined ? DEFAULT_FUNCTION_TIMEOUT_MS / 1000 : Number(args.timeout);
if (!(timeoutSeconds > 0 && timeoutSeconds <= 900)) {
  fail(`--timeout takes seconds, more than 0 and at most 900, as Lambda (got "${args.timeout}")`);
}

// A misspelt variable would be replaced below by a local default without a word: name it.
for (const { given, meant } of nearMisses(readEnvironment())) {
  console.error(
    `npm start: ${given} is set but not read: did you mean ${meant}? (vouliez-vous dire ${meant} ?) The local default is used instead.`,
  );
}
if (args.timezone !== undefined && !isTimeZone(args.timezone)) {
  fail(`--timezone takes an IANA zone such as Europe/Paris or UTC (got "${args.timezone}")`);
}

// The port first: a second npm start fails here, before it starts or restores anything.
let app: RequestListener | undefined;
const server = createServer((request, response) => {
  if (app !== undefined) return app(request, response);
  request.resume();
  response
    .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
    .end(JSON.stringify({ message: "Service Unavailable" }));
});
await new Promise<void>((resolve) => {
  server.once("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EADDRINUSE") {
      fail(
        `port ${port} is already in use, by another npm start or another program. ` +
          `Stop it, or start on another port: npm start -- --port ${port + 1}`,
      );
    }
    fail(`cannot listen on 127.0.0.1:${port}: ${error.message}`);
  });
  server.listen(port, "127.0.0.1", resolve);
});

let s3Server: LocalS3 | undefined;
let functions: LocalFunctions | undefined;
let events: LocalEvents | undefined;
/** Set once the data is restored or imported: from then on, a stop saves it. */
let snapshot: LocalSnapshot | undefined;
let stopping = false;

async function shutdown(reason: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${reason}: stopping`);
  await closeServer(server);
  if (snapshot !== undefined) {
    try {
      await snapshot.save();
      console.log(`the data is saved in ${snapshot.file}`);
    } catch (error) {
      reportFailedSave(
        snapshot,
        error,
        "stopping anyway: the changes since the last save are lost",
      );
      code = 1;
    }
  } else {
    console.log("stopped before the data was loaded: the saved data is unchanged");
  }
  await events?.close();
  await functions?.close();
  await s3Server?.stop();
  process.exit(code);
}

for (const signal of STOP_SIGNALS) {
  // `on`, not `once`: a Ctrl-C reaches this process twice (from the terminal
  // and forwarded by npm), and the second must not end it before it saved.
  process.on(signal, () => void shutdown(signal));
}
// npm forwards SIGINT and SIGTERM, not SIGHUP, and nothing when it is killed:
// when the parent goes, this process is reparented, and stops too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void shutdown("the parent process ended");
}, 1000).unref();

function reportFailedSave(target: LocalSnapshot, error: unknown, consequence: string): void {
  console.error(
    `\nnpm start: COULD NOT SAVE THE LOCAL DATA to ${target.file}: ${String(error)}\n` +
      `  ${consequence}.\n`,
  );
}

try {
  s3Server = await startLocalS3({ log: (line) => console.log(line) });

  // The local API always talks to the local S3 server, whatever .env says.
  const environment = readEnvironment();
  const notes: string[] = [];
  for (const [name, value] of Object.entries(LOCAL_DEFAULTS)) {
    if (environment[name] === undefined || environment[name] === "") {
      process.env[name] = value;
      notes.push(`${name}=${value} (local default)`);
    } else {
      notes.push(`${name}=${environment[name]} (from your environment or .env)`);
    }
  }
  process.env.AWS_ENDPOINT_URL_S3 = s3Server.endpoint;
  // The HTTP function answers only its own API's events; here, the local API's
  // (set before the functions' containers start: each takes the environment then).
  process.env.HTTP_API_ID = LOCAL_API_ID;
  notes.push(`HTTP_API_ID=${LOCAL_API_ID} (the id the local API's events carry)`);
  process.env.AWS_ACCESS_KEY_ID = "local";
  process.env.AWS_SECRET_ACCESS_KEY = "local";
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  notes.push(`AWS_ENDPOINT_URL_S3=${s3Server.endpoint} (the local S3 server, local credentials)`);

  // One container for npm start's own work (import, snapshot, restore): the
  // composition root's, with its one S3 client. The credentials above are in
  // the process environment, which the SDK's default chain reads.
  const settings = readEnvironment();
  const { config, s3, sql, service } = await createDependencies(settings);
  const snapshotDir = process.env.RAPATRIEMENTS_LOCAL_DIR ?? join(PROJECT_ROOT, ".local");
  const local = new LocalSnapshot(
    s3,
    { bucket: config.bucket, key: config.key },
    join(snapshotDir, basename(config.key)),
  );

  if (args.from !== undefined) {
    // Said in French, as npx rapatriements import says it: the guide sends operators here too.
    const timeZone = args.timezone ?? DEFAULT_TIME_ZONE;
    console.log(`lecture de ${args.from}…`);
    const file = await readRecordsFile(args.from, sql, { timeZone });
    for (const line of fileReport(file, timeZone)) console.log(line);
    // Validated here first, to name each bad record as the CLI does.
    prepareFileImport(service, args.from, file, { replace: true });
    const result = await service.import(file.records, { replace: true });
    await local.save();
    console.log(
      `importé ${plural(result.imported, "rapatriement")} dans le serveur S3 local ; copie sur disque : ${local.file}`,
    );
  } else {
    const saved = await local.read();
    if (saved !== undefined) {
      await createBucket(s3, { bucket: config.bucket, key: config.key, region: config.region });
      await local.restore(saved);
      const count = await service.listAll().then(
        (records) => records.length,
        (error: unknown) =>
          fail(
            `${local.file} cannot be read (${String(error)}); move it away or start with --from`,
          ),
      );
      console.log(`restored the data saved in ${local.file} (${count} rapatriements)`);
    }
  }
  snapshot = local;

  // One short line per request, with what the function's JSON line says of
  // the storage; or, with --json-logs, that JSON line itself.
  const jsonLogs = args["json-logs"] === true;
  const logged = new Map<string, Record<string, unknown>>();
  functions = new LocalFunctions({
    timeoutMs: timeoutSeconds * 1000,
    functionLog: (line) => {
      const parsed = jsonLogs ? undefined : parseLogLine(line);
      if (typeof parsed?.requestId === "string") logged.set(parsed.requestId, parsed);
      else console.log(line);
    },
  });
  const runtime = functions;
  const changeEvents = await startLocalEvents({
    endpoint: s3Server.endpoint,
    settings,
    log: (line) => console.log(line),
  });
  events = changeEvents;
  const api = localApiListener({
    invoke: (module, event, requestId) => runtime.invoke(module, event, requestId),
    afterWrite: () =>
      local
        .save()
        .catch((error: unknown) =>
          reportFailedSave(
            local,
            error,
            "The write is in the local S3 server but not on disk: a stop now would lose it. " +
              "Fix the cause (disk full? permissions?); the next write saves again",
          ),
        )
        // The answer goes out first; the publisher runs after it.
        .finally(() => changeEvents.publishSoon()),
    ...(jsonLogs
      ? {}
      : {
          onAnswer: (answer) => {
            console.log(requestLine(answer, logged.get(answer.requestId)));
            logged.delete(answer.requestId);
          },
        }),
  });
  app = changeEvents.serve(api);

  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : port}`;
  console.log(`\n${notes.map((n) => `  ${n}`).join("\n")}\n`);
  console.log(`rapatriements API listening on ${url}`);
  console.log(`  API reference: ${url}/docs`);
  console.log(`  try: curl -s ${url}/rapatriements`);
  console.log(`  change events published so far: ${url}${LOCAL_EVENTS_PATH}`);
  console.log(`  Lambda's limits apply: ${timeoutSeconds} s timeout (--timeout), 6 MB responses`);
  console.log(
    `  every write is saved in ${local.file}; Ctrl-C stops both servers, the next npm start restores it`,
  );
  console.log(
    jsonLogs
      ? "  each request's log line is printed as production logs it (JSON)"
      : "  one line per request below; --json-logs prints the JSON line production logs instead",
  );
} catch (error) {
  if (error instanceof InvalidRecordsError) {
    console.error(`npm start: ${invalidRecordsReport(error).join("\n")}`);
  } else {
    console.error(`npm start: ${String(error)}`);
  }
  await shutdown("npm start could not start", 1);
}

function closeServer(target: Server): Promise<void> {
  return new Promise((resolve) => {
    // Requests under way get up to 3 s to finish; idle connections close now.
    const timer = setTimeout(() => {
      target.closeAllConnections();
      resolve();
    }, 3000);
    target.close(() => {
      clearTimeout(timer);
      resolve();
    });
    target.closeIdleConnections();
  });
}
