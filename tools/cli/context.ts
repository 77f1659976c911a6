/**
 * Operators' CLI: what every command needs — a container as the Lambda
 * functions build it (the configuration read as they read it, an S3 client,
 * the storage engine), from the product's composition root — and how it
 * talks to the person at the terminal.
 */
import { type Config, loadConfig } from "../../lambda/config.ts";
import { type Environment, readEnvironment } from "../../lambda/environment.ts";
import { type Container, createDependencies } from "../../lambda/handlers/composition-root.ts";

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Asks a yes/no question; undefined when nobody can answer (not a terminal). */
  confirm?(question: string): Promise<boolean>;
  /**
   * Rewrites the one progress line ("" clears it); undefined when nobody
   * watches (not a terminal), so logs hold only the summary lines.
   */
  progress?(line: string): void;
}

export interface CliEnvironment {
  /** The process environment (credentials visible to the SDK's default chain). */
  processEnv: Environment;
  /** Where `.env` is looked for. */
  cwd: string;
}

export type Context = Container;

/** A usage error: bad arguments. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function readConfig(env: CliEnvironment): Config {
  return loadConfig(readEnvironment(env.processEnv, env.cwd), env.processEnv);
}

export async function openContext(env: CliEnvironment): Promise<Context> {
  return createDependencies(readEnvironment(env.processEnv, env.cwd), {
    processEnv: env.processEnv,
  });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
