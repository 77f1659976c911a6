/**
 * Configuration: where the variables are read from — the process environment
 * over a `.env` file at the project root, the environment winning — and the
 * names set there that look like a misspelling of the contract's, so that a
 * misspelt variable is named rather than silently left unread.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { ValueError } from "./errors.ts";

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The process environment over the `.env` file of `dir`: a variable set in the
 * environment wins, as with python-dotenv's `load_dotenv()` that the guide's
 * users relied on. A missing file is not an error; an unreadable one is.
 */
export function readEnvironment(
  processEnv: Environment = process.env,
  dir: string = process.cwd(),
): Environment {
  const file = join(dir, ".env");
  if (!existsSync(file)) return processEnv;
  let fromFile: Record<string, string | undefined>;
  try {
    fromFile = parseEnv(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ValueError({ key: "envFileUnreadable", params: { file } }, { cause: error });
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [name, value] of Object.entries(processEnv)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/** The variables of the contract, which a misspelt name would silently leave unset. */
export const CONFIG_VARIABLES = [
  "AWS_REGION",
  "S3_RAPPATRIMENT_FILE_PATH",
  "S3_BUCKET_NAME",
  "STORAGE_STRATEGY",
  "AWS_ENDPOINT_URL_S3",
  "S3_SSE_KMS_KEY_ID",
] as const;

/**
 * Variables set under a name close to one of the contract's that is not set
 * (`S3_RAPATRIMENT_FILE_PATH`, the natural French spelling, for
 * `S3_RAPPATRIMENT_FILE_PATH`): case aside, at most one edit per eight
 * characters of the name, so `AWS_ENDPOINT_URL` (the SDK's own) is not one.
 */
export function nearMisses(env: Environment): { given: string; meant: string }[] {
  const found: { given: string; meant: string }[] = [];
  const set = Object.keys(env).filter((name) => nonEmpty(env[name]) !== undefined);
  for (const meant of CONFIG_VARIABLES) {
    if (nonEmpty(env[meant]) !== undefined) continue;
    const allowed = Math.max(1, Math.floor(meant.length / 8));
    const given = set.find(
      (name) => name !== meant && editDistance(name.toUpperCase(), meant) <= allowed,
    );
    if (given !== undefined) found.push({ given, meant });
  }
  return found;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** A variable's value, trimmed; undefined when it is unset or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
