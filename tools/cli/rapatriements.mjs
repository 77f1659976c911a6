#!/usr/bin/env node
/**
 * Operators' CLI, its door: the command `rapatriements` that `npx` runs in
 * the project folder and that `npm link` puts on the PATH for any folder.
 * The CLI itself (rapatriements.ts) is TypeScript, which only Node.js 22.18
 * and later run as it is: this plain-JavaScript door, which any Node.js runs,
 * starts it on the project's own Node.js 24 (the `node` devDependency),
 * whatever Node.js the PATH finds, in the folder the operator is in.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The real file's folder, even when run through npm link's symlink.
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = join(here, "..", "..");
const projectNode = join(projectRoot, "node_modules", "node", "bin", "node");

if (!existsSync(projectNode)) {
  process.stderr.write(
    `rapatriements : le Node.js du projet manque (${projectNode}) : lancez npm install dans ${projectRoot}\n`,
  );
  process.exit(1);
}

const child = spawn(projectNode, [join(here, "rapatriements.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
});
// Ctrl-C reaches the CLI from the terminal itself (same process group): this
// door only waits for it. A signal sent to the door alone is passed on.
process.on("SIGINT", () => {});
for (const signal of ["SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
// The CLI's exit code, or a shell's 128 + n for a CLI ended by signal n.
child.on("exit", (code, signal) => {
  process.exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal]));
});
