/**
 * Domain: the commands that events carry (create, update, delete), checked
 * and turned into operations on the database. A command applied under a
 * receipt key (its idempotency key, or the id of the event or message that
 * carried it) is applied once: a redelivery is answered from the receipt and
 * changes nothing, and another command under the same key is refused. Keys
 * are scoped to the command's author, as the carrier names it: the same key
 * from another author is another key.
 */
import type { Database } from "sql.js";
import * as z from "zod";
import { fieldError, ValidationError } from "../errors.ts";
import type { Text } from "../messages/keys.ts";
import type { Actor, Rapatriement } from "./model.ts";
import { parseOperation } from "./operation.ts";
import { fingerprint, receiptKey, receiptWindowMs } from "./receipts.ts";
import type { RapatriementService } from "./service.ts";
import { MAX_ID_CHARACTERS } from "./validation.ts";
import { expected, rule, toFieldErrors } from "./zod-rules.ts";

const INVALID_COMMAND: Text = { key: "invalidCommand", params: {} };

/** A string of 1 to `max` characters, said as `broken` when it is not one. */
function bounded(max: number, broken: Parameters<typeof rule>[0]) {
  return z
    .string({ error: expected("string") })
    .min(1, { error: rule(broken) })
    .max(max, { error: rule(broken) });
}

const key = bounded(255, { rule: "length", params: { max: 255 } });
const id = bounded(MAX_ID_CHARACTERS, { rule: "idLength", params: { max: MAX_ID_CHARACTERS } });
const atLeastOne = rule({ rule: "integerAtLeast", params: { min: 1 } });
const version = z
  .number({ error: expected("integer") })
  .int({ error: atLeastOne })
  .min(1, { error: atLeastOne });

const commandSchema = z.discriminatedUnion(
  "action",
  [
    z.strictObject({
      action: z.literal("create"),
      // Optional here so that a missing `data` gets parseCommand's "is required",
      // not zod's "expected nonoptional" (z.unknown() alone is required in zod 4).
      data: z.unknown().optional(),
      idempotencyKey: key.optional(),
    }),
    z.strictObject({
      action: z.literal("update"),
      id,
      data: z.unknown().optional(),
      expectedVersion: version.optional(),
      idempotencyKey: key.optional(),
    }),
    z.strictObject({
      action: z.literal("delete"),
      id,
      expectedVersion: version.optional(),
      idempotencyKey: key.optional(),
    }),
  ],
  { error: rule({ rule: "command", params: {} }) },
);

export type Command = z.infer<typeof commandSchema>;

export interface CommandResult {
  action: Command["action"];
  /**
   * The record's id. Absent only when the command is a create's redelivery
   * and its record has since been deleted: its receipt keeps the record's
   * list position, not its id (then `record` is absent too).
   */
  id?: string;
  /** The version the command produced (for a delete: the version deleted). */
  version: number;
  /** The record as it is now; absent after a delete. */
  record?: Rapatriement;
  /** Present when the command had been applied before: it was not applied again. */
  replayed?: true;
}

export function parseCommand(raw: unknown): Command {
  const result = commandSchema.safeParse(raw);
  if (result.success) {
    if (result.data.action !== "delete" && result.data.data === undefined) {
      throw new ValidationError(
        [fieldError("data", { rule: "required", params: {} })],
        INVALID_COMMAND,
      );
    }
    return result.data;
  }
  throw new ValidationError(toFieldErrors(result.error, false), INVALID_COMMAND);
}

export class CommandProcessor<Options> {
  private readonly service: RapatriementService<Options>;

  constructor(service: RapatriementService<Options>) {
    this.service = service;
  }

  /**
   * Checks `raw` and prepares it for a transaction. Throws `ValidationError`
   * when the command or its data is invalid; the returned function throws
   * the domain's errors (404, 409, 412, 422) inside the transaction.
   * `carrierKey` is the receipt key of the event or message that carried the
   * command, used when the command has no idempotency key of its own.
   * `actor` is who sent it, as the carrier says (never the command itself),
   * and the scope of both keys.
   */
  prepare(raw: unknown, carrierKey?: string, actor: Actor = null): (db: Database) => CommandResult {
    const command = parseCommand(raw);
    const { idempotencyKey, ...request } = command;
    const key = idempotencyKey === undefined ? carrierKey : receiptKey.command(idempotencyKey);
    const apply = this.service.prepare(
      parseOperation(command),
      key === undefined
        ? undefined
        : { key, fingerprint: fingerprint(request), windowMs: receiptWindowMs(key) },
      actor,
    );
    return (db) => {
      const { action, id, version, record, replayed } = apply(db);
      const result: CommandResult =
        id === undefined ? { action, version } : { action, id, version };
      if (record !== undefined) result.record = record;
      if (replayed) result.replayed = true;
      return result;
    };
  }
}
