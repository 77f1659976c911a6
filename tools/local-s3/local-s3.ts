/**
 * Local tools: the local S3 server (moto, single-threaded) used by the tests
 * and by `npm start`. The first use creates a project-local virtualenv in
 * `.venv` and installs `requirements.txt` into it; later uses reuse it.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

const HERE = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = join(HERE, "..", "..");
const REQUIREMENTS = join(HERE, "requirements.txt");
const SERVER = join(HERE, "moto_server.py");

export interface LocalS3 {
  /** e.g. http://127.0.0.1:40123 — give it to the SDK as AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where the virtualenv lives (default: `.venv` at the project root). */
  venv?: string;
  /** A fixed port; default: any free loopback port. */
  port?: number;
  /** Print one line per request on stderr (werkzeug's log). */
  verbose?: boolean;
  /** Told what is happening during the first, slow, install. */
  log?: (line: string) => void;
  /** The Python that creates the virtualenv (default: $PYTHON, else python3). */
  python?: string;
  /** Extra environment for the server, e.g. moto's INITIAL_NO_AUTH_ACTION_COUNT. */
  env?: Record<string, string>;
}

/**
 * The local S3 server could not be set up: the message says, in one line,
 * what is missing and what to install (no stack under it: there is nothing
 * in the code to fix).
 */
export class LocalS3SetupError extends Error {
  override name = "LocalS3SetupError";
  constructor(message: string) {
    super(message);
    this.stack = `${this.name}: ${message}`;
  }
}

/** Creates the virtualenv and installs moto when missing or out of date; returns its python. */
export async function ensureVenv(options: LocalS3Options = {}): Promise<string> {
  const venv = options.venv ?? join(PROJECT_ROOT, ".venv");
  const python = join(venv, "bin", "python");
  const stamp = join(venv, ".requirements");
  const wanted = readFileSync(REQUIREMENTS, "utf8");
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, "utf8") === wanted) {
    return python;
  }
  const log = options.log ?? (() => {});
  const systemPython = options.python ?? process.env.PYTHON ?? "python3";
  if (!existsSync(python)) {
    log(`local S3: creating the virtualenv ${venv} (first run only)`);
    const created = !existsSync(venv);
    try {
      await run(systemPython, ["-m", "venv", venv]);
    } catch (error) {
      // A half-made virtualenv (Debian's python3 without python3-venv leaves
      // one without pip) would fail the next run in a stranger way.
      if (created) await rm(venv, { recursive: true, force: true });
      throw new LocalS3SetupError(
        (error as { code?: unknown }).code === "ENOENT"
          ? `the local S3 server needs Python 3, and ${systemPython} is not found: install Python 3 with its venv module (python3 and python3-venv on Debian), or set PYTHON to its path`
          : `the local S3 server needs Python 3 with its venv module, and \`${systemPython} -m venv\` failed (${lastLine(error)}): install it (python3-venv on Debian)`,
      );
    }
  }
  log("local S3: installing moto[server] into it (first run only, about a minute)");
  try {
    await run(
      python,
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    throw new LocalS3SetupError(
      `could not install the local S3 server (moto, from tools/local-s3/requirements.txt) into ${venv}: ${lastLine(error)}; the first run needs access to the Python package index`,
    );
  }
  writeFileSync(stamp, wanted);
  return python;
}

/**
 * What a failed command said, in one line: its last line (where pip and
 * Python put the error), or Debian's case of a Python without `ensurepip`,
 * whose explanation ends with a line that names no cause.
 */
function lastLine(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  const said = stderr !== undefined && stderr.trim() !== "" ? stderr : (message ?? String(error));
  if (said.includes("ensurepip is not")) return "ensurepip is not available";
  const lines = said
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  return lines.at(-1) ?? String(error);
}

/** Starts moto on loopback and resolves once it listens. */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const python = await ensureVenv(options);
  const child = spawn(python, [SERVER], {
    env: {
      ...process.env,
      ...options.env,
      LOCAL_S3_PORT: String(options.port ?? 0),
      LOCAL_S3_QUIET: options.verbose === true ? "0" : "1",
      LOCAL_S3_LIFELINE: "1",
      PYTHONUNBUFFERED: "1",
    },
    // A process group of its own: a Ctrl-C in the terminal goes to the
    // terminal's foreground group, and the server must not get it and exit
    // before its owner has saved what it holds. The owner stops it instead.
    detached: true,
    // stdin is the lifeline: the server stops when this pipe closes, so it is
    // never left behind, however this process ends (even by SIGKILL).
    stdio: ["pipe", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => {
    if (options.verbose === true) process.stderr.write(chunk);
    else stderr.push(chunk.toString());
  });
  const port = await firstLine(child).catch((error: unknown) => {
    child.kill("SIGKILL");
    throw new Error(`the local S3 server did not start: ${String(error)}\n${stderr.join("")}`);
  });
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill("SIGTERM");
      });
      return stopping;
    },
  };
}

function firstLine(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.stdout === null) return reject(new Error("no stdout"));
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error("no answer within 60 s")), 60_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch {
        reject(new Error(`unexpected output: ${line}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}
