/**
 * Domain: receipts, what is kept of an applied write so that its replay (a
 * client retrying with the same idempotency key, a redelivered event or
 * message) changes nothing and is answered. A receipt holds what a replay
 * needs and nothing more: the action, the record's id and version, and a
 * fingerprint of the request; never a copy of the record. Each expires after
 * the window of its kind, and expired ones are forgotten in every save.
 */
// @ts-nocheck

import { createHash } from "node:crypto";

export type Action = "create" | "update" | "delete";

const HOUR_MS = 3600 * 1000;

/** How long the HTTP API honours an `Idempotency-Key`: a day of client retries. */
export const API_KEY_WINDOW_MS = 24 * HOUR_MS;

/** How long a command's receipt is kept: longer than SQS keeps any message (14 days). */
export const COMMAND_RECEIPT_WINDOW_MS = 15 * 24 * HOUR_MS;

/**
 * Receipt keys live in separate namespaces, so that a client's key can never
 * be taken for an event id or a message id, nor an API key for a command's.
 */
export const receiptKey = {
  api: (key: string) => `http:${key}`,
  command: (key: string) => `command:${key}`,
  event: (id: string) => `event:${id}`,
  sqsMessage: (id: string) => `sqs-message:${id}`,
};

/** The receipt a write asks for: under which key, for which request, for how long. */
export interface ReceiptRequest {
  key: string;
  fingerprint: string;
  windowMs: number;
}

/** The same request with its keys in another order has the same fingerprint. */
export function fingerprint(request: unknown): string {
  return createHash("sha256").update(canonicalJson(request)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
