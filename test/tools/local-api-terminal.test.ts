/**
 * What `npm start` prints in the terminal it runs in (a real pseudo-terminal,
 * as a person's): one short line per request — method, path, status, time,
 * what the storage did — where production logs a JSON line, which
 * `--json-logs` prints instead; and `--from FILE` says in French what
 * `npx rapatriements import` says of the file (ignored columns, the zone of
 * zone-less dates).
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

/** The terminal's lines once `count` lines match `pattern` (they are printed as answers go out). */
async function linesOnceThere(pattern: RegExp, count: number): Promise<string[]> {
  for (;;) {
    const lines = session?.output().split("\n") ?? [];
    if (lines.filter((l) => pattern.test(l)).length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function create(url: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}/rapatriements`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

const RECORD = {
  reference: "TERM-1",
  origin: "LYON-01",
  destination: "PARIS-02",
  lines: [{ sku: "PAL", quantity: 2 }],
};

// Each test starts npm start once: several seconds on a busy machine.
describe("npm start's terminal", { timeout: 180_000 }, () => {
  test("one short line per request: method, path, status, time, what the storage did", async () => {
    const url = await npmStart("short", []);
    expect(await create(url, RECORD)).toBe(201);
    expect((await fetch(`${url}/rapatriements/no-such-id`)).status).toBe(404);
    expect((await fetch(`${url}/rapatriements?limit=5`)).status).toBe(200);
    expect(await create(url, { reference: "" })).toBe(400);
    expect((await fetch(`${url}/no-such-route`)).status).toBe(404);

    const lines = await linesOnceThere(/^\d\d:\d\d:\d\d {2}\S+ \//, 5);
    const requests = lines.filter((l) => /^\d\d:\d\d:\d\d {2}/.test(l)).map((l) => l.slice(10));
    const ms = "\\d+ ms";
    expect(requests).toHaveLength(5);
    expect(requests[0]).toMatch(
      new RegExp(
        `^POST /rapatriements {2}201 {2}${ms} {2}no data yet, saved · \\d+ S3 calls ${ms}$`,
      ),
    );
    expect(requests[1]).toMatch(
      new RegExp(
        `^GET /rapatriements/no-such-id {2}404 {2}${ms} {2}cache hit · 1 S3 call ${ms} · NOT_FOUND$`,
      ),
    );
    expect(requests[2]).toMatch(
      new RegExp(`^GET /rapatriements\\?limit=5 {2}200 {2}${ms} {2}cache hit · 1 S3 call ${ms}$`),
    );
    expect(requests[3]).toMatch(
      new RegExp(`^POST /rapatriements {2}400 {2}${ms} {2}VALIDATION_FAILED$`),
    );
    // API Gateway's own answer: no function ran, nothing more to say.
    expect(requests[4]).toMatch(new RegExp(`^GET /no-such-route {2}404 {2}${ms}$`));
    for (const line of requests) expect(line.length).toBeLessThan(100);
    // No JSON line, no metrics block.
    expect(session?.output()).not.toContain('"requestId"');
    expect(session?.output()).not.toContain("_aws");
    expect(session?.output()).toContain("--json-logs prints the JSON line production logs");
  });

  test("--json-logs: the JSON line of each request, as production logs it, and no short line", async () => {
    const url = await npmStart("json", ["--json-logs"]);
    expect(await create(url, RECORD)).toBe(201);

    const lines = await linesOnceThere(/^\{.*"status":201/, 1);
    const logged = JSON.parse(lines.find((l) => l.startsWith("{")) ?? "{}");
    expect(logged).toMatchObject({
      level: "info",
      route: "POST /rapatriements",
      path: "/rapatriements",
      status: 201,
      outcome: "success",
      cache: "absent",
      service: "rapatriements",
    });
    expect(logged._aws.CloudWatchMetrics[0].Namespace).toBe("Rapatriements");
    expect(lines.filter((l) => /^\d\d:\d\d:\d\d {2}POST/.test(l))).toEqual([]);
  });

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
