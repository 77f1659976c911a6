/**
 * Operators' CLI: the commands that the commands function could not apply.
 * `dead-letters` lists the dead-letter queue without consuming it; `redrive`
 * sends a command back, as it was or corrected, through the stack's bus
 * (EVENT_BUS_NAME) — the commands queue takes only its rule's messages — and
 * removes it from the dead-letter queue only once EventBridge has accepted it.
 */
import { readFile } from "node:fs/promises";
import {
  EventBridgeClient,
  type EventBridgeClientConfig,
  PutEventsCommand,
  type PutEventsCommandOutput,
} from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { type Config, readEventBusName } from "../../lambda/config.ts";
import type { Environment } from "../../lambda/environment.ts";
import { ValidationError, ValueError } from "../../lambda/errors.ts";
import {
  createSqsClient,
  DEAD_LETTER_ATTRIBUTES,
  isEventBridgeEnvelope,
} from "../../lambda/handlers/commands-queue.ts";
import { COMMAND_DETAIL_TYPE, COMMAND_SOURCE } from "../../lambda/handlers/routes.ts";
import type { Rule, Text } from "../../lambda/messages/keys.ts";
import { catalogue } from "../../lambda/messages/render.ts";
import { type Command, parseCommand } from "../../lambda/rapatriements/commands.ts";
import { parseOperation } from "../../lambda/rapatriements/operation.ts";
import { plural } from "../data/plural.ts";
import type { Io } from "./context.ts";
import { frenchField, frenchRefusal } from "./french.ts";

/** The variable, and the stack output an operator copies into it. */
export const DEAD_LETTER_QUEUE_VARIABLE = "COMMANDS_DEAD_LETTER_QUEUE_URL";
export const DEAD_LETTER_QUEUE_OUTPUT = "CommandsDeadLetterQueueUrl";

/** An error of these commands, already in French: printed as it is. */
export class DeadLetterError extends Error {
  override readonly name = "DeadLetterError";
}

export interface DeadLetterQueue {
  url: string;
  sqs: SQSClient;
  events: EventBridgeClient;
  /** The bus commands go back to: the stack's, where the commands rule listens. */
  busName: string;
  /** Deliveries of a command before SQS moves it here itself. */
  maxReceiveCount: number;
}

/** An EventBridge bus name, or a bus's ARN (a bus of another account or region). */
/** `EVENT_BUS_NAME` (environment, then .env): the stack's bus, `rapatriements` when unset. */
export function eventBusName(environment: Environment): string {
  try {
    return readEventBusName(environment);
  } catch (error) {
    if (error instanceof ValueError) throw new DeadLetterError(`ValueError: ${error.message}`);
    throw error;
  }
}

/** The dead-letter queue of `config` and the clients to read it and to send back to the bus `busName`. */
export function openDeadLetterQueue(config: Config, busName: string): DeadLetterQueue {
  const url = config.commands.deadLetterQueueUrl;
  if (url === undefined) {
    throw new DeadLetterError(
      `ValueError: ${DEAD_LETTER_QUEUE_VARIABLE} est obligatoire pour dead-letters et redrive : ` +
        `c'est l'URL de la file des lettres mortes des commandes, la sortie ${DEAD_LETTER_QUEUE_OUTPUT} de la pile. ` +
        "Définissez-la dans l'environnement ou dans .env ; pour la lire :\n" +
        `  aws cloudformation describe-stacks --stack-name RapatriementsStack --query "Stacks[0].Outputs[?OutputKey=='${DEAD_LETTER_QUEUE_OUTPUT}'].OutputValue" --output text`,
    );
  }
  const options: EventBridgeClientConfig = { region: config.region };
  if (config.commands.eventsEndpoint !== undefined) {
    options.endpoint = config.commands.eventsEndpoint;
  }
  if (config.credentials !== undefined) options.credentials = config.credentials;
  return {
    url,
    sqs: createSqsClient(config),
    events: new EventBridgeClient(options),
    busName,
    maxReceiveCount: config.commands.maxReceiveCount,
  };
}

/** A message of the dead-letter queue, as an operator needs to read it. */
export interface DeadLetter {
  /** Its id in the dead-letter queue: what `redrive` takes. */
  id: string;
  receiptHandle: string;
  body: string;
  /** Its id on the commands queue, as the function's log names it (kept by the function only). */
  originalId?: string;
  /** The function's reason; absent when SQS moved the message itself. */
  reason?: Reason;
  deadLetteredAt?: string;
  /** When the command was first sent to the commands queue. */
  sentAt?: string;
  author?: string;
  /** Deliveries to the commands function. */
  deliveries?: number;
  /** When the body is an EventBridge event (as the rule delivers it): its source. */
  source?: string;
  /** The command as it would be sent back: the event's detail, else the body. */
  command?: unknown;
  /** Why the body holds no command at all (not JSON). */
  unreadable?: string;
}

interface Reason {
  code: string;
  status?: number;
  /** The function's words (English), kept for whoever reads the queue without this CLI. */
  message: string;
  /** The key and data of those words, from which the CLI says them in French. */
  text?: Text;
  errors: ReasonError[];
  /** Field errors the function counted but could not keep (an attribute's size is bounded). */
  moreErrors: number;
}

/**
 * Visibility while the queue is read: long enough to page through it without
 * meeting a message twice, short enough that a listing stopped halfway
 * (Ctrl-C) hides nothing for long. A redrive holds its messages longer, for
 * the time EventBridge takes to answer.
 */
const LISTING_VISIBILITY_SECONDS = 30;
const REDRIVE_VISIBILITY_SECONDS = 120;
/** Receives that bring no new message before the reading stops (SQS's short polls sample its servers). */
const IDLE_RECEIVES = 5;
/** Beyond this, the listing says how many more there are rather than reading them all. */
const MAX_READ = 1000;

/**
 * Every message of the queue, received under `visibilitySeconds` and told
 * apart by id (SQS may hand a message out twice), the oldest command first.
 * A short receive samples only some of SQS's servers, so reading stops
 * once SQS's own count of visible messages is reached and a receive brings
 * nothing new — or after a few receives in a row that bring nothing new.
 * The caller makes them visible again (`release`) or deletes them.
 */
async function readAll(
  queue: DeadLetterQueue,
  visibilitySeconds: number,
): Promise<{ letters: DeadLetter[]; counted: number }> {
  const counted = await visibleCount(queue);
  const byId = new Map<string, Message>();
  let idle = 0;
  while (byId.size < MAX_READ) {
    const got = await queue.sqs
      .send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      )
      .catch(async (error: unknown) => {
        // What was already received would stay hidden until its visibility ends.
        await release(queue, [...byId.values()].map(toDeadLetter));
        throw sqsError(error, queue, "lire");
      });
    let fresh = 0;
    for (const message of got.Messages ?? []) {
      if (message.MessageId === undefined) continue;
      if (!byId.has(message.MessageId)) fresh += 1;
      // The latest receipt handle is the one SQS honours.
      byId.set(message.MessageId, message);
    }
    idle = fresh === 0 ? idle + 1 : 0;
    if (fresh === 0 && (byId.size >= counted || idle >= IDLE_RECEIVES)) break;
  }
  const letters = [...byId.values()].map(toDeadLetter);
  letters.sort((a, b) => (a.sentAt ?? "").localeCompare(b.sentAt ?? ""));
  return { letters, counted };
}

/**
 * SQS's count of the queue's visible messages. Without sqs:GetQueueAttributes
 * the reading still works: it then stops only after receives that bring
 * nothing new (Infinity is never reached).
 */
async function visibleCount(queue: DeadLetterQueue): Promise<number> {
  try {
    const answer = await queue.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    return Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0) || 0;
  } catch (error) {
    if (/AccessDenied/i.test(nameOf(error))) return Number.POSITIVE_INFINITY;
    throw sqsError(error, queue, "lire");
  }
}

/** Makes `letters` visible again at once. One that fails reappears when its visibility ends anyway. */
async function release(queue: DeadLetterQueue, letters: readonly DeadLetter[]): Promise<void> {
  for (let i = 0; i < letters.length; i += 10) {
    await queue.sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: letters.slice(i, i + 10).map((letter, j) => ({
            Id: String(j),
            ReceiptHandle: letter.receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      )
      .catch(() => undefined);
  }
}

function toDeadLetter(message: Message): DeadLetter {
  const names = DEAD_LETTER_ATTRIBUTES;
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const body = message.Body ?? "";
  const letter: DeadLetter = {
    id: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body,
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
    if (isEventBridgeEnvelope(parsed)) {
      letter.source = parsed.source;
      letter.command = parsed.detail;
    } else {
      letter.command = parsed;
    }
  } catch {
    letter.unreadable = "pas du JSON";
  }
  const code = attribute(names.code);
  if (code !== undefined) {
    const keys = reasonKeys(attribute(names.keys));
    const reason: Reason = {
      code,
      message: attribute(names.reason) ?? "",
      ...fieldErrors(attribute(names.errors), keys.rules),
    };
    if (keys.text !== undefined) reason.text = keys.text;
    const status = Number(attribute(names.status));
    if (Number.isInteger(status)) reason.status = status;
    letter.reason = reason;
  }
  const sentTimestamp = Number(message.Attributes?.SentTimestamp);
  const sentBySqs = Number.isFinite(sentTimestamp)
    ? new Date(sentTimestamp).toISOString()
    : undefined;
  const kept = (name: string, value: string | undefined) => {
    if (value !== undefined) Object.assign(letter, { [name]: value });
  };
  kept("originalId", attribute(names.messageId));
  kept("author", nonEmpty(attribute(names.author)) ?? authorOf(letter, message));
  if (letter.reason !== undefined) {
    // Sent here by the function: SQS's timestamp is when it was dead-lettered.
    kept("deadLetteredAt", attribute(names.deadLetteredAt) ?? sentBySqs);
    kept("sentAt", attribute(names.sentAt));
    const deliveries = Number(attribute(names.receiveCount));
    if (Number.isInteger(deliveries)) letter.deliveries = deliveries;
  } else {
    // Moved by SQS, which keeps the message's first send time.
    kept("sentAt", sentBySqs);
  }
  return letter;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === "" ? undefined : value;
}

/** Who the function would have recorded the command as coming from: see apply-commands.ts. */
function authorOf(letter: DeadLetter, message: Message): string | undefined {
  if (letter.source !== undefined) return `eventbridge:${letter.source}`;
  const sender = message.Attributes?.SenderId;
  return sender === undefined || sender === "" ? undefined : `sqs:${sender}`;
}

/** A kept field error: its path, the function's words, and its rule when the letter has its keys. */
interface ReasonError {
  path: string;
  message: string;
  rule?: Rule;
}

function fieldErrors(
  json: string | undefined,
  rules: readonly (Rule | undefined)[],
): { errors: ReasonError[]; moreErrors: number } {
  if (json === undefined) return { errors: [], moreErrors: 0 };
  try {
    const kept = JSON.parse(json) as { errors?: unknown; more?: unknown };
    const errors = (Array.isArray(kept.errors) ? kept.errors : []).flatMap(
      (e: unknown, i): ReasonError[] => {
        const { path, message } = (typeof e === "object" && e !== null ? e : {}) as Record<
          string,
          unknown
        >;
        if (typeof path !== "string" || typeof message !== "string") return [];
        const rule = rules[i];
        return [rule === undefined ? { path, message } : { path, message, rule }];
      },
    );
    return { errors, moreErrors: typeof kept.more === "number" ? kept.more : 0 };
  } catch {
    return { errors: [], moreErrors: 0 };
  }
}

/**
 * The keys the function kept with a refusal (absent from a letter of an
 * older function); a key this CLI's catalogue does not know counts as absent.
 */
function reasonKeys(json: string | undefined): { text?: Text; rules: (Rule | undefined)[] } {
  const words = catalogue("fr");
  let kept: { text?: unknown; rules?: unknown };
  try {
    kept = JSON.parse(json ?? "{}") as typeof kept;
  } catch {
    return { rules: [] };
  }
  const keyed = (value: unknown, name: "key" | "rule", known: object) => {
    if (typeof value !== "object" || value === null) return false;
    const { params, [name]: key } = value as Record<string, unknown>;
    return typeof key === "string" && Object.hasOwn(known, key) && typeof params === "object";
  };
  const rules = (Array.isArray(kept.rules) ? kept.rules : []).map((rule: unknown) =>
    keyed(rule, "rule", words.rules) ? (rule as Rule) : undefined,
  );
  return keyed(kept.text, "key", words.texts) ? { text: kept.text as Text, rules } : { rules };
}

// ---------------------------------------------------------------------------
// dead-letters

export async function listDeadLetters(queue: DeadLetterQueue, io: Io): Promise<number> {
  const { letters, counted } = await readAll(queue, LISTING_VISIBILITY_SECONDS);
  await release(queue, letters);
  if (letters.length === 0) {
    io.out(`aucune commande refusée : la file des lettres mortes est vide (${queue.url})`);
    return 0;
  }
  io.out(
    `${plural(letters.length, "commande refusée", "commandes refusées")} dans la file des lettres mortes (${queue.url}), la plus ancienne d'abord :`,
  );
  for (const letter of letters) {
    io.out("");
    for (const line of describe(letter, queue)) io.out(line);
  }
  io.out("");
  if (letters.length >= MAX_READ) {
    io.out(
      `(les ${MAX_READ} premières seulement${Number.isFinite(counted) ? ` : SQS en compte environ ${counted}` : ""})`,
    );
  }
  io.out(
    "renvoyer une commande : npx rapatriements redrive ID (telle quelle) ou redrive ID --file FICHIER (corrigée) ; toutes telles quelles : npx rapatriements redrive --all",
  );
  return 0;
}

const LABEL = 15;

function describe(letter: DeadLetter, queue: DeadLetterQueue): string[] {
  const row = (label: string, text: string) => `  ${label.padEnd(LABEL)}${text}`;
  const lines = [
    `commande ${letter.id}${letter.originalId === undefined ? "" : ` (message d'origine ${letter.originalId})`}`,
  ];
  const { reason } = letter;
  lines.push(
    row(
      "mise de côté",
      reason === undefined
        ? "par SQS après sa dernière distribution, sans raison jointe"
        : `${letter.deadLetteredAt ?? "?"} par la fonction des commandes`,
    ),
    row(
      "envoyée",
      `${letter.sentAt ?? "?"}${letter.author === undefined ? "" : ` par ${letter.author}`}`,
    ),
  );
  if (letter.deliveries !== undefined) {
    lines.push(row("distribuée", plural(letter.deliveries, "fois", "fois")));
  } else if (reason === undefined) {
    lines.push(
      row("distribuée", `${plural(queue.maxReceiveCount, "fois", "fois")} (le maximum de la file)`),
    );
  }
  if (reason === undefined) {
    lines.push(
      row(
        "raison",
        "la fonction des commandes n'a pas répondu (délai dépassé, mémoire épuisée ou arrêt) : voyez son journal à l'heure de la dernière distribution",
      ),
    );
  } else {
    const status = reason.status === undefined ? "" : ` (${reason.status})`;
    lines.push(
      row("raison", `${reason.code}${status} : ${frenchRefusal(reason.code, reason.text)}`),
    );
    for (const error of reason.errors) lines.push(row("", frenchField(error.path, error.rule)));
    if (reason.moreErrors > 0) {
      lines.push(row("", `… et ${plural(reason.moreErrors, "autre erreur", "autres erreurs")}`));
    }
  }
  lines.push(row("commande", summary(letter)));
  if (mayHaveBeenApplied(letter)) {
    lines.push(
      row(
        "attention",
        "elle a peut-être été appliquée : vérifiez le rapatriement avant de la renvoyer (renvoyée, elle porte un nouvel identifiant d'événement, et seule sa propre clé d'idempotence empêcherait une seconde application)",
      ),
    );
  }
  return lines;
}

/**
 * A command may have been applied when S3 could not confirm the write, or
 * when the function never answered (it may have written, then timed out).
 * Sent back, it is a new event with a new id; only its own idempotency key,
 * from the same author, would be recognised.
 */
function mayHaveBeenApplied(letter: DeadLetter): boolean {
  const unknown = letter.reason === undefined || letter.reason.code === "STORAGE_OUTCOME_UNKNOWN";
  const command = letter.command as { idempotencyKey?: unknown } | undefined;
  const protectedByKey = typeof command?.idempotencyKey === "string" && letter.source !== undefined;
  return unknown && letter.unreadable === undefined && !protectedByKey;
}

/** The command in one line: action, id or reference, version and key. */
export function summary(letter: Pick<DeadLetter, "command" | "unreadable" | "body">): string {
  if (letter.unreadable !== undefined) {
    return `illisible (${letter.unreadable}) : ${excerpt(letter.body)}`;
  }
  const command = letter.command;
  if (typeof command !== "object" || command === null || Array.isArray(command)) {
    return `pas une commande : ${excerpt(JSON.stringify(command))}`;
  }
  const c = command as Record<string, unknown>;
  const data = (typeof c.data === "object" && c.data !== null ? c.data : {}) as Record<
    string,
    unknown
  >;
  const parts = [typeof c.action === "string" ? c.action : "(action ?)"];
  if (c.id !== undefined) parts.push(`id ${show(c.id)}`);
  if (data.reference !== undefined) parts.push(`référence ${show(data.reference)}`);
  if (c.action === "update" && typeof c.data === "object" && c.data !== null) {
    parts.push(`champs ${Object.keys(c.data).join(", ") || "(aucun)"}`);
  }
  if (c.expectedVersion !== undefined) parts.push(`version attendue ${show(c.expectedVersion)}`);
  if (c.idempotencyKey !== undefined) parts.push(`clé ${show(c.idempotencyKey)}`);
  return parts.join(", ");
}

function show(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= 80 ? flat : `${flat.slice(0, 79)}…`;
}

// ---------------------------------------------------------------------------
// redrive

export type RedriveTarget = { id: string; file?: string } | { all: true };

/**
 * Sends dead-lettered commands back through EventBridge: `id` (its id in
 * the dead-letter queue, or its original message id from the function's
 * log), as it was or replaced by the command in `file`; or `all` of them as
 * they were. Each is deleted from the dead-letter queue only once
 * EventBridge has accepted it; nothing else is touched.
 */
export async function redrive(
  queue: DeadLetterQueue,
  io: Io,
  target: RedriveTarget,
): Promise<number> {
  // A corrected command is checked before the queue is even read: a bad file changes nothing.
  const replacement =
    "file" in target && target.file !== undefined ? await readCommandFile(target.file) : undefined;
  const { letters } = await readAll(queue, REDRIVE_VISIBILITY_SECONDS);
  const chosen =
    "all" in target
      ? letters
      : letters.filter((l) => l.id === target.id || l.originalId === target.id);
  await release(
    queue,
    letters.filter((l) => !chosen.includes(l)),
  );
  if (chosen.length === 0) {
    if ("all" in target) {
      io.out(`aucune commande à renvoyer : la file des lettres mortes est vide (${queue.url})`);
      return 0;
    }
    throw new DeadLetterError(
      `aucune commande ${target.id} dans la file des lettres mortes : rien n'a été envoyé (voir npx rapatriements dead-letters)`,
    );
  }

  const sendable: { letter: DeadLetter; command: Command }[] = [];
  let failures = 0;
  for (const letter of chosen) {
    const checked = replacement ?? checkedAsItWas(letter);
    if ("problem" in checked) {
      failures += 1;
      io.err(`non renvoyée : ${letter.id} (${summary(letter)}) — ${checked.problem}`);
      await release(queue, [letter]);
    } else {
      sendable.push({ letter, command: checked.command });
    }
  }
  if ("all" in target && chosen.length > 1) {
    io.out(
      `${plural(sendable.length, "commande", "commandes")} à renvoyer à EventBridge, dans l'ordre de leur premier envoi :`,
    );
  }
  // In the order the commands were first sent, ten per request (EventBridge's limit).
  for (let i = 0; i < sendable.length; i += 10) {
    failures += await sendBack(queue, io, sendable.slice(i, i + 10));
  }
  if (failures > 0 && chosen.length > 1) {
    io.err(
      `${plural(failures, "commande n'a pas été renvoyée", "commandes n'ont pas été renvoyées")} : elles restent dans la file des lettres mortes`,
    );
  }
  return failures === 0 ? 0 : 1;
}

/** The command as it was, when it could pass the function's checks at all. */
function checkedAsItWas(letter: DeadLetter): { command: Command } | { problem: string } {
  if (letter.unreadable !== undefined) {
    return {
      problem: `le message n'est pas du JSON : renvoyez la commande corrigée, npx rapatriements redrive ${letter.id} --file FICHIER`,
    };
  }
  try {
    return { command: checkedCommand(letter.command) };
  } catch (error) {
    return {
      problem: `${invalid(error)} ; elle serait refusée de nouveau : renvoyez-la corrigée, npx rapatriements redrive ${letter.id} --file FICHIER`,
    };
  }
}

async function readCommandFile(file: string): Promise<{ command: Command }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new DeadLetterError(
      code === "ENOENT"
        ? `${file} n'existe pas : rien n'a été envoyé`
        : `${file} est illisible (${code ?? String(error)}) : rien n'a été envoyé`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DeadLetterError(
      `${file} n'est pas du JSON : il doit contenir une commande, par exemple { "action": "update", "id": "…", "data": { … } } ; rien n'a été envoyé`,
    );
  }
  try {
    return { command: checkedCommand(raw) };
  } catch (error) {
    throw new DeadLetterError(`${file} : ${invalid(error)} ; rien n'a été envoyé`);
  }
}

/**
 * `raw` checked as the commands function checks it before applying it: the
 * command (parseCommand), then its id, version and data (parseOperation).
 * What fails here would be refused again; what passes may still meet a
 * refusal that depends on the data (a version, a status, a reference).
 */
function checkedCommand(raw: unknown): Command {
  const command = parseCommand(raw);
  parseOperation(command);
  return command;
}

function invalid(error: unknown): string {
  if (!(error instanceof ValidationError)) throw error;
  const fields = (error.errors ?? []).map((e) => frenchField(e.path, e));
  return `commande invalide (${fields.join(" ; ")})`;
}

/** One PutEvents request; each accepted command is then deleted. Returns how many failed. */
async function sendBack(
  queue: DeadLetterQueue,
  io: Io,
  batch: readonly { letter: DeadLetter; command: Command }[],
): Promise<number> {
  let answer: PutEventsCommandOutput;
  try {
    answer = await queue.events.send(
      new PutEventsCommand({
        Entries: batch.map(({ letter, command }) => ({
          // The stack's bus, where its commands rule listens.
          EventBusName: queue.busName,
          Source: letter.source ?? COMMAND_SOURCE,
          DetailType: COMMAND_DETAIL_TYPE,
          Detail: JSON.stringify(command),
        })),
      }),
    );
  } catch (error) {
    await release(
      queue,
      batch.map((b) => b.letter),
    );
    const why = eventsError(error, queue.busName);
    for (const { letter } of batch) {
      io.err(
        `non renvoyée : ${letter.id} (${summary(letter)}) — ${why} ; elle reste dans la file des lettres mortes`,
      );
    }
    return batch.length;
  }
  let failures = 0;
  for (const [i, { letter, command }] of batch.entries()) {
    const entry = answer.Entries?.[i];
    const what = `${letter.id} (${summary({ command, body: "" })})`;
    if (entry?.EventId === undefined || entry.ErrorCode !== undefined) {
      failures += 1;
      await release(queue, [letter]);
      io.err(
        `non renvoyée : ${what} — EventBridge l'a refusée (${entry?.ErrorCode ?? "sans réponse"}${entry?.ErrorMessage === undefined ? "" : ` : ${entry.ErrorMessage}`}) ; elle reste dans la file des lettres mortes`,
      );
      continue;
    }
    try {
      await queue.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: letter.receiptHandle }),
      );
      io.out(
        `renvoyée : ${what} — événement ${entry.EventId} (source ${letter.source ?? COMMAND_SOURCE}), retirée de la file des lettres mortes`,
      );
    } catch (error) {
      failures += 1;
      io.err(
        `renvoyée : ${what} — événement ${entry.EventId}, mais elle n'a pas pu être retirée de la file des lettres mortes (${nameOf(error)}) : ne la renvoyez pas une seconde fois ; une fois la commande vérifiée, retirez-la de la file (sqs:DeleteMessage)`,
      );
    }
  }
  return failures;
}

function nameOf(error: unknown): string {
  return (error as { name?: string }).name ?? String(error);
}

function sqsError(error: unknown, queue: DeadLetterQueue, action: string): DeadLetterError {
  const name = nameOf(error);
  if (/AccessDenied/i.test(name)) {
    return new DeadLetterError(
      `accès refusé pour ${action} la file des lettres mortes ${queue.url} (${name}) : il faut sqs:ReceiveMessage, sqs:ChangeMessageVisibility et sqs:DeleteMessage sur cette file (et sqs:GetQueueAttributes, conseillée)`,
    );
  }
  if (/NonExistentQueue|QueueDoesNotExist/i.test(name)) {
    return new DeadLetterError(
      `la file ${queue.url} n'existe pas (${name}) : vérifiez ${DEAD_LETTER_QUEUE_VARIABLE} (sortie ${DEAD_LETTER_QUEUE_OUTPUT} de la pile) et AWS_REGION`,
    );
  }
  if (/Credential/i.test(name)) {
    return new DeadLetterError(
      `NoCredentialsError: identifiants AWS absents ou invalides pour ${action} la file des lettres mortes (${name}) : vérifiez AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY, ~/.aws/credentials ou le rôle IAM`,
    );
  }
  return new DeadLetterError(
    `SQS n'a pas répondu pour ${action} la file des lettres mortes ${queue.url} (${name}) : rien n'a été modifié`,
  );
}

function eventsError(error: unknown, busName: string): string {
  const name = nameOf(error);
  if (/AccessDenied/i.test(name)) {
    return `EventBridge a refusé l'envoi (${name}) : il faut events:PutEvents sur le bus ${busName}, et que la politique du bus l'accepte (contexte commandProducers de la pile)`;
  }
  if (/ResourceNotFound/i.test(name)) {
    return `le bus ${busName} n'existe pas (${name}) : vérifiez EVENT_BUS_NAME (sortie EventBusName de la pile) et AWS_REGION`;
  }
  return `EventBridge n'a pas répondu (${name})`;
}
