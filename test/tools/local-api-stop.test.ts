/**
 * `npm start` stopped the ways a person or a supervisor stops it: a Ctrl-C
 * keystroke in a real terminal (a pseudo-terminal: the terminal sends SIGINT
 * to the whole foreground process group), a closed terminal (SIGHUP), SIGTERM
 * to the npm process. Every time, the records written before the stop are
 * there at the next start, and the local S3 server is gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";
import { writeSqliteFile } from "../support/legacy-sqlite.ts";

const PTY_RUN = join(PROJECT_ROOT, "test", "support", "pty-run.py");
const temporary = mkdtempSync(join(tmpdir(), "rapatriements-stop-"));
const running = new Set<NpmStart>();

afterEach(() => {
  for (const session of running) session.kill();
  running.clear();
});
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

/** One `npm start`, in a pseudo-terminal or (as a supervisor runs it) with plain pipes. */
class NpmStart {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<number | null>;

  constructor(
    localDir: string,
    args: string[],
    options: { terminal: boolean; port?: number; env?: NodeJS.ProcessEnv },
  ) {
    const command = ["npm", "start", "--", "--port", String(options.port ?? 0), ...args];
    const environment = options.env ?? env(localDir);
    this.child = options.terminal
      ? spawn("python3", [PTY_RUN, ...command], { cwd: PROJECT_ROOT, env: environment })
      : spawn(command[0] ?? "npm", command.slice(1), { cwd: PROJECT_ROOT, env: environment });
    this.child.stdout?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    running.add(this);
  }

  /** The API's URL once it listens. */
  async url(): Promise<string> {
    return (await this.waitFor(/listening on (http:\/\/[\d.:]+)/))[1] ?? "";
  }

  /** The local S3 server's endpoint, as the banner prints it. */
  async s3Endpoint(): Promise<string> {
    return (await this.waitFor(/AWS_ENDPOINT_URL_S3=(http:\/\/[\d.:]+)/))[1] ?? "";
  }

  async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const match = pattern.exec(this.output);
      if (match !== null) return match;
      if (this.child.exitCode !== null) {
        throw new Error(`npm start exited (${this.child.exitCode}):\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Keystrokes into the terminal: "\x03" is Ctrl-C. */
  type(keys: string): void {
    this.child.stdin?.write(keys);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

function env(localDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RAPATRIEMENTS_LOCAL_DIR: localDir,
    AWS_REGION: "eu-west-1",
    S3_RAPPATRIMENT_FILE_PATH: "s3://rapatriements-stop/rapatriements/rapatriements.db",
    STORAGE_STRATEGY: "sqlite",
  };
}

async function create(url: string, reference: string): Promise<void> {
  const response = await fetch(`${url}/rapatriements`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      reference,
      origin: "LYON-01",
      destination: "PARIS-02",
      lines: [{ sku: "PAL-EUR", quantity: 2 }],
    }),
  });
  expect(response.status).toBe(201);
}

async function references(url: string): Promise<string[]> {
  const response = await fetch(`${url}/rapatriements?limit=100`);
  expect(response.status).toBe(200);
  const page = (await response.json()) as { items: { reference: string }[] };
  return page.items.map((item) => item.reference).sort();
}

/** Starts npm start again on the same folder and lists what it restored. */
async function restartAndList(localDir: string): Promise<{ listed: string[]; output: string }> {
  const again = new NpmStart(localDir, [], { terminal: true });
  const listed = await references(await again.url());
  again.type("\x03");
  expect(await again.exited).toBe(0);
  return { listed, output: again.output };
}

async function isGone(endpoint: string): Promise<boolean> {
  return fetch(endpoint).then(
    () => false,
    () => true,
  );
}

// Each test starts npm start once or twice: several seconds each on a busy machine.
describe("npm start keeps the data however it is stopped", { timeout: 180_000 }, () => {
  test("Ctrl-C typed in a terminal saves, stops the local S3 server too, and the next start has the records", async () => {
    const localDir = join(temporary, "ctrl-c");
    const session = new NpmStart(localDir, [], { terminal: true });
    const url = await session.url();
    const s3 = await session.s3Endpoint();
    for (const reference of ["CTRL-C-1", "CTRL-C-2", "CTRL-C-3"]) await create(url, reference);

    session.type("\x03");
    expect(await session.exited).toBe(0);
    expect(session.output).toContain("SIGINT: stopping");
    expect(session.output).toContain(`the data is saved in ${join(localDir, "rapatriements.db")}`);
    expect(await isGone(s3)).toBe(true);

    const { listed, output } = await restartAndList(localDir);
    expect(listed).toEqual(["CTRL-C-1", "CTRL-C-2", "CTRL-C-3"]);
    expect(output).toContain("(3 rapatriements)");
  });

  test("after --from FILE and Ctrl-C, the next start has the imported records and the new ones, not the older data", async () => {
    const localDir = join(temporary, "from");
    // Older data first, saved by an earlier session.
    const earlier = new NpmStart(localDir, [], { terminal: true });
    await create(await earlier.url(), "OLDER-1");
    earlier.type("\x03");
    expect(await earlier.exited).toBe(0);

    const legacy = join(temporary, "legacy.db");
    writeSqliteFile(
      legacy,
      `CREATE TABLE rappatriements (reference TEXT, origin TEXT, destination TEXT, status TEXT, lines TEXT);
       INSERT INTO rappatriements VALUES
         ('LEGACY-1', 'LYON-01', 'PARIS-02', 'requested', '[{"sku":"PAL-EUR","quantity":4}]'),
         ('LEGACY-2', 'LILLE-03', 'PARIS-02', 'draft', '[{"sku":"CARTON","quantity":10,"unit":"carton"}]');`,
    );
    const session = new NpmStart(localDir, ["--from", legacy], { terminal: true });
    const url = await session.url();
    expect(session.output).toContain("importé 2 rapatriements dans le serveur S3 local");
    await create(url, "AFTER-IMPORT");
    session.type("\x03");
    expect(await session.exited).toBe(0);

    const { listed } = await restartAndList(localDir);
    expect(listed).toEqual(["AFTER-IMPORT", "LEGACY-1", "LEGACY-2"]);
  });

  test("the terminal closing (SIGHUP) keeps the records", async () => {
    const localDir = join(temporary, "hang-up");
    const session = new NpmStart(localDir, [], { terminal: true });
    const url = await session.url();
    const s3 = await session.s3Endpoint();
    await create(url, "HANG-UP-1");

    session.child.kill("SIGUSR1"); // pty-run.py closes the terminal
    await session.exited;
    await expect.poll(() => isGone(s3), { timeout: 10_000 }).toBe(true);

    const { listed } = await restartAndList(localDir);
    expect(listed).toEqual(["HANG-UP-1"]);
  });

  test("SIGTERM to the npm process (a supervisor's stop) stops everything and keeps the records", async () => {
    const localDir = join(temporary, "sigterm");
    const session = new NpmStart(localDir, [], { terminal: false });
    const url = await session.url();
    const s3 = await session.s3Endpoint();
    await create(url, "SIGTERM-1");
    await create(url, "SIGTERM-2");

    session.child.kill("SIGTERM"); // the npm process itself
    expect(await session.exited).toBe(0);
    expect(session.output).toContain("SIGTERM: stopping");
    expect(await isGone(s3)).toBe(true);
    expect(await isGone(url)).toBe(true);

    const { listed } = await restartAndList(localDir);
    expect(listed).toEqual(["SIGTERM-1", "SIGTERM-2"]);
  });

  test("SIGHUP to the npm process, which npm does not forward, ends it and then npm start too, records kept", async () => {
    const localDir = join(temporary, "npm-hang-up");
    const session = new NpmStart(localDir, [], { terminal: false });
    const url = await session.url();
    const s3 = await session.s3Endpoint();
    await create(url, "NPM-HUP-1");

    session.child.kill("SIGHUP"); // npm dies; its child notices its parent is gone
    await session.exited;
    await expect.poll(() => isGone(url), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => isGone(s3), { timeout: 15_000 }).toBe(true);

    const { listed } = await restartAndList(localDir);
    expect(listed).toEqual(["NPM-HUP-1"]);
  });

  test("a second npm start on a busy port stops at once, before restoring anything, and suggests --port", async () => {
    const localDir = join(temporary, "busy");
    const first = new NpmStart(localDir, [], { terminal: true });
    const url = await first.url();
    await create(url, "BUSY-1");
    const port = Number(new URL(url).port);

    // The natural French spelling, one P: named before anything else happens.
    const { S3_RAPPATRIMENT_FILE_PATH: path, ...rest } = env(localDir);
    const misspelt = { ...rest, S3_RAPATRIMENT_FILE_PATH: path };
    const second = new NpmStart(localDir, [], { terminal: false, port, env: misspelt });
    expect(await second.exited).toBe(2);
    expect(second.output).toContain(
      "S3_RAPATRIMENT_FILE_PATH is set but not read: did you mean S3_RAPPATRIMENT_FILE_PATH?",
    );
    expect(second.output).toContain(`port ${port} is already in use`);
    expect(second.output).toContain(`npm start -- --port ${port + 1}`);
    expect(second.output).not.toContain("restored");
    expect(second.output).not.toContain("local S3");

    // The first one is untouched and still serves its data.
    expect(await references(url)).toEqual(["BUSY-1"]);
    first.type("\x03");
    expect(await first.exited).toBe(0);
  });

  test("a save that fails is reported loudly, and the stop says the data since then is lost", async () => {
    const localDir = join(temporary, "unsaved");
    const session = new NpmStart(localDir, [], { terminal: true });
    const url = await session.url();
    // The folder cannot be created once a file takes its name: every save fails.
    writeFileSync(localDir, "");
    await create(url, "UNSAVED-1");
    // The report is written before the answer, but reaches the terminal on its own time.
    await session.waitFor(/COULD NOT SAVE THE LOCAL DATA[\s\S]*a stop now would lose it/);

    session.type("\x03");
    expect(await session.exited).toBe(1);
    expect(session.output).toContain("the changes since the last save are lost");
  });
});
