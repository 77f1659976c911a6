/**
 * Domain: the rapatriement resource and its status machine. Plain types, no
 * storage, no HTTP.
 */

export const STATUSES = ["draft", "requested", "in_transit", "received", "cancelled"] as const;
export type Status = (typeof STATUSES)[number];

export interface Line {
  sku: string;
  quantity: number;
  unit?: string;
}

/** The fields a client sets, by name. */
export const CLIENT_FIELDS = [
  "reference",
  "origin",
  "destination",
  "lines",
  "status",
  "requestedAt",
  "expectedAt",
  "comment",
] as const;

/** The fields a client sets. */
export interface RapatriementFields {
  reference: string;
  origin: string;
  destination: string;
  lines: Line[];
  status: Status;
  requestedAt?: string;
  expectedAt?: string;
  comment?: string;
}

export interface Rapatriement extends RapatriementFields {
  id: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  /** Who created it: see `Actor`. `null` for a record older than schema 4. */
  createdBy: Actor;
  /** Who made the last change (the creator until one is made). */
  updatedBy: Actor;
}

/**
 * Who made a change, as the authorizer or the event source says, never the
 * caller's own words: a JWT's `sub`, an IAM caller's ARN, or for commands
 * `eventbridge:<source>`, `sqs:<SenderId>`, `lambda:direct-invocation`.
 * `null`: not known (a record written before identities were kept).
 */
export type Actor = string | null;

const NEXT: Readonly<Record<Status, readonly Status[]>> = {
  draft: ["requested", "cancelled"],
  requested: ["in_transit", "cancelled"],
  in_transit: ["received"],
  received: [],
  cancelled: [],
};

/** `received` and `cancelled` end a rapatriement's life: no further change. */
export function isFinal(status: Status): boolean {
  return NEXT[status].length === 0;
}

export function canTransition(from: Status, to: Status): boolean {
  return NEXT[from].includes(to);
}

export function allowedTransitions(from: Status): readonly Status[] {
  return NEXT[from];
}
