/**
 * Domain: receipts, what is kept of an applied write so that its replay (a
 * client retrying with the same idempotency key, a redelivered event or
 * message) changes nothing and is answered. A receipt holds what a replay
 * needs and nothing more, in a few integers (schema 5): a hash of who asked
 * and under which key, 48 bits of the request's fingerprint, the record's
 * list position and version, and when it expires; never a copy of the
 * record, nor its id. Each expires after the window of its kind.
 */
import { createHash } from "node:crypto";
import type { Actor } from "./model.ts";

export type Action = "create" | "update" | "delete";

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * `http:` keys, the API's `Idempotency-Key`: 24 hours. A client retries a
 * request it got no answer to within seconds or minutes; a day also covers
 * one that retries after an outage of its own.
 */
export const API_KEY_WINDOW_MS = 24 * HOUR_MS;

/**
 * `command:` keys, a producer's own `idempotencyKey`: 15 days. A producer may
 * send the same command again as a new event, and that event can come back
 * as late as any event can (below).
 */
export const COMMAND_RECEIPT_WINDOW_MS = 15 * DAY_MS;

/**
 * `event:` ids (EventBridge): 15 days. EventBridge retries delivering an event
 * for up to 24 hours, and the SQS message that carries it can come back from
 * the dead-letter queue, redriven by an operator, until 14 days after that
 * message was first sent: 1 + 14 days after the event.
 */
export const EVENT_RECEIPT_WINDOW_MS = 15 * DAY_MS;

/**
 * `sqs-message:` ids: 14 days, the dead-letter queue's retention, which SQS
 * counts from the message's first send (a message moved to the dead-letter
 * queue keeps its first enqueue time); the command queue keeps one 4 days.
 * After that the id cannot come back. A receipt is written when the command
 * is applied, after the first send, so its window ends later than the id's.
 */
export const SQS_MESSAGE_RECEIPT_WINDOW_MS = 14 * DAY_MS;

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

const WINDOWS_MS = new Map<string, number>([
  ["http", API_KEY_WINDOW_MS],
  ["command", COMMAND_RECEIPT_WINDOW_MS],
  ["event", EVENT_RECEIPT_WINDOW_MS],
  ["sqs-message", SQS_MESSAGE_RECEIPT_WINDOW_MS],
]);

/**
 * How long the receipt of a namespaced key (see `receiptKey`) is kept. A key
 * of no known namespace gets the longest window: keeping a receipt too long
 * costs a few bytes, forgetting it too soon applies a write twice.
 */
export function receiptWindowMs(key: string): number {
  const namespace = key.slice(0, Math.max(0, key.indexOf(":")));
  return WINDOWS_MS.get(namespace) ?? COMMAND_RECEIPT_WINDOW_MS;
}

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

/**
 * What a receipt keeps of a fingerprint: its first 48 bits. Another request
 * under the same caller's key is told apart from the first with a chance of
 * 1 in 2^48 of being taken for it.
 */
export function fingerprintBits(hex: string): number {
  return Number.parseInt(hex.slice(0, 12), 16);
}

/**
 * Receipts carried over from schema 2 kept no fingerprint and accept any
 * request of their action under their key, as schema 2 did: a negative
 * fingerprint, which no request's 48 bits can be, one per action.
 */
export const ANY_REQUEST: Readonly<Record<Action, number>> = {
  create: -1,
  update: -2,
  delete: -3,
};

/**
 * The scope of receipts written before schema 5: none. Their keys were shared
 * by every caller; each is still found, by anyone, until it expires, at most
 * 15 days after the upgrade (the longest window they had).
 */
export const LEGACY_SCOPE = "";

/**
 * The scope of a caller's keys: the actor as JSON, so that `null` (an unknown
 * caller) is a scope of its own (`null`), no actor's scope is the legacy one
 * (`""`), and none holds a raw newline, which separates it from the key.
 */
export function scopeOf(actor: Actor): string {
  return JSON.stringify(actor);
}

/**
 * What a receipt is found by: 53 bits of SHA-256 over its scope and its
 * namespaced key, a safe integer in JavaScript and so in JSON. The same key
 * from two callers is two receipts. Two different keys share a hash with a
 * chance of about n in 2^53 for n receipts kept (1 in 10^11 at 100,000); the
 * second is then refused as a reused key, or, with the same 48 bits of
 * fingerprint too, answered as a replay.
 */
export function receiptHash(scope: string, key: string): number {
  const digest = createHash("sha256").update(`${scope}\n${key}`).digest();
  return Number(digest.readBigUInt64BE(0) >> 11n);
}

/** Receipts keep time in whole minutes since the epoch: four bytes in SQLite, eight digits in JSON. */
export function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000);
}

/**
 * The minute a receipt written at `ms` for `windowMs` expires at, rounded
 * up: it is kept for its whole window and at most a minute more. A receipt
 * is alive while `minuteOf(now)` is before this minute.
 */
export function expiryMinute(ms: number, windowMs = 0): number {
  return Math.ceil((ms + windowMs) / 60_000);
}

/**
 * Expired receipts are looked for at most once an hour: without an index on
 * their expiry (which would take each receipt from 34 to 55 bytes in the
 * SQLite file that every save carries), finding them reads every receipt,
 * 4.7 ms per 100,000 (0.05 ms with the index). A receipt is thus kept at
 * most an hour past its window, and a lookup never answers from one that
 * expired.
 */
export const PRUNE_INTERVAL_MINUTES = 60;

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
