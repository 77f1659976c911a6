/**
 * Domain: the commands that events carry (create, update, delete), checked
 * and turned into operations on the database. A command applied under a
 * receipt key (its idempotency key, or the id of the message that carried
 * it) is applied once: a redelivery returns the first result and changes
 * nothing.
 */
import type { Database } from "sql.js";
import { z } from "zod";
import { type FieldError, ValidationError } from "../errors.ts";
import type { Rapatriement } from "./model.ts";
import * as repository from "./repository.ts";
import type { RapatriementService } from "./service.ts";

const key = z.string().min(1).max(255);
const id = z.string().min(1).max(128);
const version = z.number().int().min(1);

const commandSchema = z.discriminatedUnion(
  "action",
  [
    z.strictObject({
      action: z.literal("create"),
      data: z.unknown(),
      idempotencyKey: key.optional(),
    }),
    z.strictObject({
      action: z.literal("update"),
      id,
      data: z.unknown(),
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
  { error: 'must be a command: { "action": "create" | "update" | "delete", … }' },
);

export type Command = z.infer<typeof commandSchema>;

export interface CommandResult {
  action: Command["action"];
  record: Rapatriement;
}

/** How long a receipt is kept: longer than SQS keeps any message (14 days). */
export const RECEIPT_DAYS = 15;

export function parseCommand(raw: unknown): Command {
  const result = commandSchema.safeParse(raw);
  if (result.success) {
    if (result.data.action !== "delete" && result.data.data === undefined) {
      throw new ValidationError([{ path: "data", message: "is required" }]);
    }
    return result.data;
  }
  const errors: FieldError[] = result.error.issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((name) => ({ path: name, message: "unknown field" }))
      : [{ path: issue.path.map(String).join("."), message: issue.message }],
  );
  throw new ValidationError(errors, "The command is invalid.");
}

export class CommandProcessor<Options> {
  private readonly service: RapatriementService<Options>;
  private readonly now: () => Date;

  constructor(service: RapatriementService<Options>, now: () => Date = () => new Date()) {
    this.service = service;
    this.now = now;
  }

  /**
   * Checks `raw` and prepares it for a transaction. Throws `ValidationError`
   * when the command or its data is invalid; the returned function throws
   * the domain's errors (404, 409, 412, 422) inside the transaction.
   */
  prepare(raw: unknown, receiptKey?: string): (db: Database) => CommandResult {
    const command = parseCommand(raw);
    const receipt =
      command.action === "create" ? receiptKey : (command.idempotencyKey ?? receiptKey);
    const apply = this.prepareApply(command);
    return (db) => {
      if (receipt !== undefined) {
        const seen = repository.findReceipt(db, receipt);
        if (seen !== undefined) return JSON.parse(seen) as CommandResult;
      }
      const result: CommandResult = { action: command.action, record: apply(db) };
      if (receipt !== undefined) {
        repository.saveReceipt(db, receipt, command.action, result, this.now().toISOString());
      }
      return result;
    };
  }

  /** Forgets receipts no queue can redeliver any more; run once per batch. */
  pruneReceipts(db: Database): void {
    const before = new Date(this.now().getTime() - RECEIPT_DAYS * 24 * 3600 * 1000);
    repository.pruneReceipts(db, before.toISOString());
  }

  private prepareApply(command: Command): (db: Database) => Rapatriement {
    switch (command.action) {
      case "create":
        return this.service.prepareCreate(
          command.data,
          command.idempotencyKey === undefined ? {} : { idempotencyKey: command.idempotencyKey },
        );
      case "update":
        return this.service.prepareUpdate(command.id, command.data, versionOf(command));
      case "delete":
        return this.service.prepareDelete(command.id, versionOf(command));
    }
  }
}

function versionOf(command: { expectedVersion?: number | undefined }) {
  return command.expectedVersion === undefined ? {} : { expectedVersion: command.expectedVersion };
}
