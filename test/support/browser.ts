/**
 * Test support: a headless Chromium for the browser tests, on a machine that
 * has no browser installed. The first of these that exists is used:
 *
 * 1. `CHROMIUM_PATH`, when set: that executable (a Chromium or Chrome of the
 *    machine's own).
 * 2. On Linux x64, the Chromium (headless shell) that the devDependency
 *    `@sparticuz/chromium` carries inside its npm package, brotli-compressed:
 *    unpacked once, with the libraries and fonts it comes with, into
 *    `node_modules/.cache/`. It needs nothing of the machine but glibc.
 * 3. `/usr/bin/chromium` (Debian's package), for other platforms.
 *
 * Otherwise a {@link BrowserUnavailableError} says, in one line, what to give.
 */
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { brotliDecompressSync, createBrotliDecompress } from "node:zlib";
import { type Browser, chromium } from "playwright-core";
import { PROJECT_ROOT } from "../../tools/local-s3/local-s3.ts";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";
const PACKAGE = "@sparticuz/chromium";

/** No browser could be found: the message says what to give, in one line. */
export class BrowserUnavailableError extends Error {
  override name = "BrowserUnavailableError";
  constructor(message: string) {
    super(message);
    // The message is the whole story: no stack under it in the test report.
    this.stack = `${this.name}: ${message}`;
  }
}

interface Chromium {
  executablePath: string;
  /** Variables the executable needs beside the process's own. */
  env: Record<string, string>;
  source: string;
}

/** Launches the browser a test may use (see the module's comment), saying which. */
export async function launchChromium(
  args: string[],
): Promise<{ browser: Browser; source: string }> {
  const found = await findChromium();
  const browser = await chromium.launch({
    executablePath: found.executablePath,
    headless: true,
    args,
    env: { ...process.env, ...found.env },
  });
  return { browser, source: found.source };
}

/** What the choice depends on: this machine's, unless a test says otherwise. */
export interface Machine {
  env: NodeJS.ProcessEnv;
  /** `${process.platform}-${process.arch}`, e.g. `linux-x64`. */
  platform: string;
  systemChromium: string;
}

const THIS_MACHINE: Machine = {
  env: process.env,
  platform: `${process.platform}-${process.arch}`,
  systemChromium: SYSTEM_CHROMIUM,
};

export async function findChromium(machine: Machine = THIS_MACHINE): Promise<Chromium> {
  const given = machine.env.CHROMIUM_PATH;
  if (given !== undefined && given !== "") {
    if (!existsSync(given)) {
      throw new BrowserUnavailableError(
        `CHROMIUM_PATH=${given}: no such file; name a Chromium or Chrome executable, or unset it to use the one from npm`,
      );
    }
    return { executablePath: given, env: {}, source: "CHROMIUM_PATH" };
  }
  const packaged = machine.platform === "linux-x64" ? packageDirectory() : undefined;
  if (packaged !== undefined) return unpacked(packaged);
  const system = machine.systemChromium;
  if (existsSync(system)) return { executablePath: system, env: {}, source: system };
  throw new BrowserUnavailableError(
    machine.platform === "linux-x64"
      ? `the browser test needs ${PACKAGE}, a devDependency (run npm install), or a Chromium named by CHROMIUM_PATH`
      : `the browser test needs a Chromium: ${PACKAGE} ships one for Linux x64 only, and this is ${machine.platform}; install Chromium or Chrome and set CHROMIUM_PATH to its executable`,
  );
}

function packageDirectory(): string | undefined {
  try {
    // build/index.js of the package: its root is two levels up.
    return dirname(dirname(createRequire(import.meta.url).resolve(PACKAGE)));
  } catch {
    return undefined;
  }
}

/**
 * The package's Chromium, its libraries (NSS, from Amazon Linux 2023) and
 * fonts, unpacked into a folder named after the package's version. Written
 * beside it first and renamed into place: a folder that exists is complete,
 * whatever ran or stopped at the same time.
 */
async function unpacked(packaged: string): Promise<Chromium> {
  const { version } = JSON.parse(await readFile(join(packaged, "package.json"), "utf8")) as {
    version: string;
  };
  const folder = join(PROJECT_ROOT, "node_modules", ".cache", `sparticuz-chromium-${version}`);
  const chromium: Chromium = {
    executablePath: join(folder, "chromium"),
    env: {
      LD_LIBRARY_PATH: [join(folder, "lib"), process.env.LD_LIBRARY_PATH]
        .filter((part) => part !== undefined && part !== "")
        .join(":"),
      FONTCONFIG_FILE: join(folder, "fonts.conf"),
    },
    source: `${PACKAGE} ${version}`,
  };
  if (existsSync(folder)) return chromium;

  const partial = `${folder}.${process.pid}.partial`;
  try {
    await unpack(join(packaged, "bin"), partial, folder);
    await rename(partial, folder);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    // Another run may have unpacked it first: then use theirs.
    if (!existsSync(folder)) throw error;
  }
  return chromium;
}

/** Unpacks the package's `bin` into `partial`, for use once moved to `folder`. */
async function unpack(bin: string, partial: string, folder: string): Promise<void> {
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  await pipeline(
    createReadStream(join(bin, "chromium.br")),
    createBrotliDecompress(),
    createWriteStream(join(partial, "chromium"), { mode: 0o755 }),
  );
  await untar(join(bin, "al2023.tar.br"), partial); // lib/
  await untar(join(bin, "fonts.tar.br"), partial); // fonts/
  // The package's own fonts.conf names Lambda's folders; this one names ours.
  await writeFile(
    join(partial, "fonts.conf"),
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(folder, "fonts")}</dir>\n  <cachedir>${join(folder, "fonts-cache")}</cachedir>\n</fontconfig>\n`,
  );
}

/**
 * Extracts a brotli-compressed tar archive into `into`: the package's archives
 * hold folders and regular files only (a few MB), read here without a tar
 * program.
 */
async function untar(archive: string, into: string): Promise<void> {
  const tar = brotliDecompressSync(await readFile(archive));
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break; // end of archive
    const field = (start: number, length: number) =>
      header.toString("latin1", start, start + length).replace(/\0.*$/s, "");
    const name = join(field(345, 155), field(0, 100)); // ustar prefix, then name
    const size = Number.parseInt(field(124, 12).trim() || "0", 8);
    const mode = Number.parseInt(field(100, 8).trim() || "644", 8);
    const type = field(156, 1) || "0";
    const path = join(into, name);
    if (!path.startsWith(`${into}/`)) throw new Error(`${archive}: ${name} is outside the archive`);
    if (type === "5") await mkdir(path, { recursive: true });
    else if (type === "0") {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, tar.subarray(at + 512, at + 512 + size), { mode });
    } else
      throw new Error(`${archive}: ${name} is of tar type ${type}, which is not unpacked here`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
}
