/**
 * Domain: the opaque list cursor. It carries the position of the last record
 * of a page; clients must treat it as an opaque string.
 */
import { fieldError, ValidationError } from "../errors.ts";

const PREFIX = "r1.";

export function encodeCursor(seq: number): string {
  // Stryker disable next-line StringLiteral: Buffer.from treats an empty encoding name as utf8
  return PREFIX + Buffer.from(String(seq), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const invalid = () => new ValidationError([fieldError("cursor", { rule: "cursor", params: {} })]);
  if (!cursor.startsWith(PREFIX)) throw invalid();
  // Stryker disable next-line ConditionalExpression,EqualityOperator: a cursor this API issues is at most 25 characters and a longer one fails the checks below anyway; this only spares decoding a long string
  if (cursor.length > 40) throw invalid();
  const body = cursor.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw invalid();
  const text = Buffer.from(body, "base64url").toString("utf8");
  if (!/^[1-9]\d{0,15}$/.test(text)) throw invalid();
  const seq = Number(text);
  if (!Number.isSafeInteger(seq)) throw invalid();
  return seq;
}
