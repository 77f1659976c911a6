/**
 * Tools' tests: a machine without what the README asks for (Python 3 with its
 * venv module, the Python package index on the first run) is told what to
 * install in one line — by `npm test` itself, and by every command that
 * starts the local S3 server — never with a stack trace.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ensureVenv, LocalS3SetupError, PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

const scratch = mkdtempSync(join(tmpdir(), "rapatriements-venv-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** An executable shell script standing for a Python that fails as a real one does. */
function fakePython(name: string, script: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function refusal(options: Parameters<typeof ensureVenv>[0]): Promise<LocalS3SetupError> {
  const error = await ensureVenv(options).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LocalS3SetupError);
  const refused = error as LocalS3SetupError;
  expect(refused.stack).toBe(`LocalS3SetupError: ${refused.message}`);
  expect(refused.message).not.toContain("\n");
  return refused;
}

describe("setting up the local S3 server on a machine that lacks a prerequisite", () => {
  test("npm test's run, without Python 3: one line that says what to install, exit code 1", () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith("VITEST")) delete env[name];
    const run = spawnSync("npx", ["vitest", "run", "test/lambda/config.test.ts"], {
      cwd: PROJECT_ROOT,
      env: {
        ...env,
        NO_COLOR: "1",
        LOCAL_S3_VENV: join(scratch, "npm-test-venv"),
        PYTHON: join(scratch, "no-python3"),
      },
      encoding: "utf8",
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      `npm test: the local S3 server needs Python 3, and ${join(scratch, "no-python3")} is not found: install Python 3 with its venv module (python3 and python3-venv on Debian), or set PYTHON to its path`,
    ]);
    expect(run.stdout).not.toMatch(/Unhandled|\n\s+at |❯/);
  });

  test("Debian's python3 without python3-venv: the module to install, and no half-made virtualenv left", async () => {
    const venv = join(scratch, "debian-venv");
    // What Debian's python3 prints, after it has made the folder without pip.
    const python = fakePython(
      "python3-without-venv",
      `mkdir -p "$3/bin"; touch "$3/bin/python"
cat >&2 <<'EOF'
The virtual environment was not successfully created because ensurepip is not
available.  On Debian/Ubuntu systems, you need to install the python3-venv
package using the following command.

    apt install python3.13-venv

Failing command: ${venv}/bin/python3
EOF
exit 1`,
    );
    const error = await refusal({ venv, python });
    expect(error.message).toBe(
      `the local S3 server needs Python 3 with its venv module, and \`${python} -m venv\` failed (ensurepip is not available): install it (python3-venv on Debian)`,
    );
    expect(existsSync(venv)).toBe(false);
  });

  test("pip that cannot reach the package index: pip's last word, and what the first run needs", async () => {
    const venv = join(scratch, "offline-venv");
    mkdirSync(join(venv, "bin"), { recursive: true });
    writeFileSync(
      join(venv, "bin", "python"),
      `#!/bin/sh
echo "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken" >&2
echo "ERROR: Could not find a version that satisfies the requirement moto[server]==5.2.5 (from versions: none)" >&2
echo "ERROR: No matching distribution found for moto[server]==5.2.5" >&2
exit 1
`,
    );
    chmodSync(join(venv, "bin", "python"), 0o755);
    const error = await refusal({ venv });
    expect(error.message).toBe(
      `could not install the local S3 server (moto, from tools/local-s3/requirements.txt) into ${venv}: ERROR: No matching distribution found for moto[server]==5.2.5; the first run needs access to the Python package index`,
    );
    // Nothing was marked as installed: the next run tries again.
    expect(existsSync(join(venv, ".requirements"))).toBe(false);
  });
});
