/**
 * Local tools: the local S3 server (moto, single-threaded) used by the tests
 * and by `npm start`. The first use creates a project-local virtualenv in
 * `.venv` and installs `requirements.txt` into it; later uses reuse it.
 */
// @ts-nocheck

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
  /** Extra environment for the server, e.g. moto's INITIAL_NO_AUTH_ACTION_COUNT. */
  env?: Record<string, string>;
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
  const systemPython = process.env.PYTHON ?? "python3";
  try {
    if (!existsSync(python)) {
      log(`local S3: creating the virtualenv ${venv} (first run only)`);
      await run(systemPython, ["-m", "venv", venv]);
    }
    log("local S3: installing moto[server] into it (first run only, about a minute)");
    await run(
      python,
      ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", REQUIREMENTS],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(
      `could not set up the local S3 server in ${venv}: ${detail.trim()}\n` +
        `It needs Python 3 with the venv module (${systemPython} -m venv) and access to the Python package index.`,
    );
  }
  writeFileSync(stamp, wanted);
  return python;
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
