/**
 * Local tools: `npm start`. Starts the local S3 server and the local API on
 * http://127.0.0.1:$PORT, the same handler modules behind it as in Lambda.
 * Works with no AWS account and no .env: it fills in local defaults and says
 * which. The data survives a restart in .local/ (saved on Ctrl-C), or in
 * RAPATRIEMENTS_LOCAL_DIR when set.
 *
 *   npm start                      start, restoring .local/ when present
 *   npm start -- --from FILE       import an existing SQLite or JSON file first
 *   npm start -- --port 3001       another port (or PORT=3001)
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { loadConfig, readEnvironment } from "../../lambda/config.ts";
import { createDependencies } from "../../lambda/handlers/dependencies.ts";
import { createBucket } from "../../lambda/storage/bucket-bootstrap.ts";
import { createS3Client } from "../../lambda/storage/s3-client.ts";
import { loadSqlJs } from "../../lambda/storage/sql-js.ts";
import { readRecordsFile } from "../data/records-file.ts";
import { PROJECT_ROOT, startLocalS3 } from "../local-s3/local-s3.ts";
import { createLocalApi, loadRouteHandlers } from "./server.ts";

const USAGE = "usage: npm start [-- --port N] [-- --from FILE]";
const LOCAL_DEFAULTS: Record<string, string> = {
  AWS_REGION: "eu-west-1",
  S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-local/rapatriements/rapatriements.db",
};

function fail(message: string): never {
  console.error(`npm start: ${message}\n${USAGE}`);
  process.exit(2);
}

let args: { port?: string; from?: string };
try {
  args = parseArgs({
    options: { port: { type: "string" }, from: { type: "string" } },
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

const s3Server = await startLocalS3({ log: (line) => console.log(line) });

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
process.env.AWS_ACCESS_KEY_ID = "local";
process.env.AWS_SECRET_ACCESS_KEY = "local";
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;
notes.push(`AWS_ENDPOINT_URL_S3=${s3Server.endpoint} (the local S3 server, local credentials)`);

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  await s3Server.stop();
  process.exit(code);
}

try {
  const settings = readEnvironment();
  const config = loadConfig(settings, {});
  const snapshotDir = process.env.RAPATRIEMENTS_LOCAL_DIR ?? join(PROJECT_ROOT, ".local");
  const snapshot = join(snapshotDir, basename(config.key));
  const s3 = createS3Client(config);
  const { service } = await createDependencies(settings);
  const target = { bucket: config.bucket, key: config.key, region: config.region };
  const location = { Bucket: config.bucket, Key: config.key };

  if (args.from !== undefined) {
    const file = await readRecordsFile(args.from, await loadSqlJs());
    const result = await service.import(file.records, { replace: true });
    console.log(`imported ${result.imported} rapatriements from ${args.from} (${file.source})`);
  } else {
    const saved = await readFile(snapshot).catch(() => undefined);
    if (saved !== undefined) {
      await createBucket(s3, target);
      await s3.send(
        new PutObjectCommand({ ...location, Body: saved, ServerSideEncryption: "AES256" }),
      );
      const count = await service.listAll().then(
        (records) => records.length,
        (error: unknown) =>
          fail(`${snapshot} cannot be read (${String(error)}); move it away or start with --from`),
      );
      console.log(`restored the data saved in ${snapshot} (${count} rapatriements)`);
    }
  }

  const server = createLocalApi(await loadRouteHandlers());
  server.listen(port, "127.0.0.1", () => {
    const address = server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : port}`;
    console.log(`\n${notes.map((n) => `  ${n}`).join("\n")}\n`);
    console.log(`rapatriements API listening on ${url}`);
    console.log(`  try: curl -s ${url}/rapatriements`);
    console.log("  Ctrl-C saves the data to .local/ and stops both servers");
  });
  server.on("error", (error) => {
    console.error(`npm start: ${error.message}`);
    void stop(1);
  });

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    try {
      const object = await s3.send(new GetObjectCommand(location));
      const bytes = await object.Body?.transformToByteArray();
      if (bytes !== undefined) {
        await mkdir(snapshotDir, { recursive: true });
        await writeFile(snapshot, bytes);
        console.log(`\nsaved the data to ${snapshot}`);
      }
    } catch {
      // nothing written yet: nothing to save
    }
    await s3Server.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());
} catch (error) {
  console.error(`npm start: ${String(error)}`);
  await stop(1);
}
