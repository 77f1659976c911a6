/**
 * Test support: `npm start` as a user runs it, in a process of its own on
 * any free port, with the environment a test gives; every line it prints is
 * kept, and the URL it listens on is known once it says so.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

export interface LocalApiProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Every line printed on stdout so far. */
  output: string[];
}

export async function startLocalApi(env: Record<string, string>): Promise<LocalApiProcess> {
  const child = spawn(process.execPath, ["tools/local-api/start.ts", "--port", "0"], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      output.push(line);
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  return { child, baseUrl, output };
}
