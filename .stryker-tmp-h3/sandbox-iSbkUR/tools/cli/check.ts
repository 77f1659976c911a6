/**
 * Operators' CLI: one line of `doctor`'s report, and how a check calls S3
 * without stopping at the first refusal (a refused check is reported, the
 * others still run).
 */
// @ts-nocheck

import { httpStatusOf } from "../../lambda/storage/s3-errors.ts";

/**
 * `fail`: the application cannot work, or would lose data, until it is fixed.
 * `warn`: it works, but a protection is missing. `unknown`: doctor was not
 * allowed to look (not a failure: the fix names the permission that lets it).
 */
export type CheckLevel = "ok" | "fail" | "warn" | "unknown";

export interface Check {
  name: string;
  level: CheckLevel;
  detail: string;
  fix?: string;
}

export const LEVEL_LABELS: Record<CheckLevel, string> = {
  ok: "OK",
  fail: "ÉCHEC",
  warn: "ATTENTION",
  unknown: "À VÉRIFIER",
};

export interface Attempt<T> {
  ok: boolean;
  value?: T;
  status?: number;
  /** The S3 error's name, e.g. NoSuchLifecycleConfiguration. */
  code?: string;
  error?: string;
  bucketRegion?: string;
}

export async function attempt<T>(call: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      $response?: { headers?: Record<string, string> };
    };
    const result: Attempt<T> = {
      ok: false,
      error: `${e.name ?? "Error"}: ${e.message ?? String(error)}`,
    };
    if (e.name !== undefined) result.code = e.name;
    const status = httpStatusOf(error);
    if (status !== undefined) result.status = status;
    const region = e.$response?.headers?.["x-amz-bucket-region"];
    if (region !== undefined) result.bucketRegion = region;
    return result;
  }
}

/** A JSON document as one shell word, ready to paste after `--policy` and the like. */
export function shellJson(value: unknown): string {
  return `'${JSON.stringify(value).replaceAll("'", "'\\''")}'`;
}

/** A check doctor was refused: names the permission that would let it look. */
export function notVerifiable(
  name: string,
  refused: Attempt<unknown>,
  permission: string,
  bucket: string,
): Check {
  return {
    name,
    level: "unknown",
    detail: `non vérifiable : ${refused.error ?? "refusé"}`,
    fix: `Pour que doctor le vérifie, accordez ${permission} sur arn:aws:s3:::${bucket} à qui le lance (lecture seule ; l'application n'en a pas besoin).`,
  };
}
