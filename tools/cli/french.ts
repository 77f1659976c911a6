/**
 * Operators' CLI: the French catalogue. The HTTP API answers its clients
 * (programs) in English; the operators' tools speak French. What the domain
 * says in English — validation messages, storage errors — and what Node.js
 * says about bad options is turned into French here, in one place, so that a
 * test can check the catalogue against every message the domain can give.
 */
import { AppError, ImportRefusedError, ValidationError } from "../../lambda/errors.ts";
import { plural } from "../data/plural.ts";

const KINDS: Readonly<Record<string, string>> = {
  "a string": "un texte",
  "a number": "un nombre",
  "an integer": "un entier",
  "an array of lines": "une liste de lignes",
  "an object": "un objet",
};

/** zod's names of types, in its "expected …, received …" messages. */
const ZOD_KINDS: Readonly<Record<string, string>> = {
  string: "un texte",
  number: "un nombre",
  int: "un entier",
  boolean: "un booléen",
  object: "un objet",
  array: "une liste",
  null: "null",
};

/** Each message of lambda/rapatriements/validation.ts and of a command's checks, and its French. */
export const FIELD_MESSAGES: Catalogue = [
  [/^is required$/, () => "est obligatoire"],
  [
    /^must be (a string|a number|an integer|an array of lines|an object)$/,
    (kind) => `doit être ${KINDS[kind] ?? kind}`,
  ],
  [
    /^must be valid Unicode text \(it holds a lone UTF-16 surrogate\)$/,
    () => "doit être un texte Unicode valide (il contient un demi-caractère UTF-16 isolé)",
  ],
  [/^must not be empty$/, () => "ne doit pas être vide"],
  [/^must be at most (\d+) characters$/, (n) => `doit faire au plus ${n} caractères`],
  [/^must be 1 to (\d+) characters$/, (n) => `doit faire de 1 à ${n} caractères`],
  [
    /^must be 1 to (\d+) characters, an id as this API returned it$/,
    (n) => `doit faire de 1 à ${n} caractères : un id tel que l'API l'a donné`,
  ],
  [/^must not start or end with spaces$/, () => "ne doit ni commencer ni finir par une espace"],
  [
    /^must be an ISO 8601 date-time with a time zone, e\.g\. (\S+)$/,
    (example) => `doit être une date et heure ISO 8601 avec son fuseau, par exemple ${example}`,
  ],
  [/^must be a number greater than 0$/, () => "doit être un nombre supérieur à 0"],
  [
    /^must be 1 to 64 of A-Z a-z 0-9 \. _ - \/$/,
    () => "doit faire de 1 à 64 caractères parmi A-Z a-z 0-9 . _ - /",
  ],
  [/^must hold at least 1 line$/, () => "doit contenir au moins 1 ligne"],
  [/^must hold at most (\d+) lines$/, (n) => `doit contenir au plus ${n} lignes`],
  [/^must be one of (.+)$/, (list) => `doit valoir l'un de : ${list}`],
  [
    /^must be a comma list of (.+)$/,
    (list) => `doit être une liste séparée par des virgules de : ${list}`,
  ],
  [/^the body must be a JSON object$/, () => "doit être un objet JSON"],
  [/^must differ from origin$/, () => "doit être différente de origin"],
  [/^must not be before requestedAt$/, () => "ne doit pas précéder requestedAt"],
  [/^unknown field$/, () => "champ inconnu"],
  // Written in French by tools/data/record-errors.ts (a repeated id or reference).
  [/^(même (?:id|référence) que .+)$/, (said) => said],
  [/^must be an integer >= 1$/, () => "doit être un entier supérieur ou égal à 1"],
  // lambda/rapatriements/commands.ts and the commands function: a command's
  // own fields, and a message that is not JSON (JSON.parse's English detail
  // is left out; the position it names is kept).
  [
    /^must be a command: (.+)$/,
    (shape) => `doit être une commande : ${shape.replace(/ \| /g, " ou ")}`,
  ],
  [/^the patch changes no field$/, () => "la modification ne change aucun champ"],
  [
    /^is read-only: the server sets it$/,
    () => "ne peut pas être donné : le serveur le fixe lui-même",
  ],
  [
    /^is read-only: the server takes it from the caller's authenticated identity$/,
    () => "ne peut pas être donné : le serveur le tire de l'identité authentifiée de l'appelant",
  ],
  [
    /^the message is not JSON \((?:.*?position (\d+))?.*\)$/,
    (position) =>
      `le message n'est pas du JSON${position === undefined ? "" : ` (erreur au caractère ${position})`}`,
  ],
  // zod's own wording for the rules written without a message of ours.
  [/^Too small: expected number to be >=(\d+)$/, (n) => `doit être au moins ${n}`],
  [/^Too small: expected string to have >=1 characters?$/, () => "ne doit pas être vide"],
  [
    /^Too small: expected string to have >=(\d+) characters$/,
    (n) => `doit faire au moins ${n} caractères`,
  ],
  [
    /^Too big: expected string to have <=(\d+) characters?$/,
    (n) => `doit faire au plus ${n} caractères`,
  ],
  [/^Invalid input: expected \w+, received undefined$/, () => "est obligatoire"],
  [
    /^Invalid input: expected (\w+), received (\w+)$/,
    (wanted, got) => `doit être ${ZOD_KINDS[wanted] ?? wanted} (reçu : ${ZOD_KINDS[got] ?? got})`,
  ],
];

/** A validation message in French; one the catalogue lacks is said plainly, not in English. */
export function frenchFieldMessage(message: string): string {
  return translated(FIELD_MESSAGES, message) ?? "valeur refusée";
}

type Catalogue = readonly [RegExp, (...groups: string[]) => string][];

function translated(catalogue: Catalogue, message: string): string | undefined {
  for (const [pattern, french] of catalogue) {
    const match = pattern.exec(message);
    if (match !== null) return french(...match.slice(1));
  }
  return undefined;
}

/** Whether the catalogue has `message` (a test keeps it complete). */
export function inCatalogue(message: string): boolean {
  return FIELD_MESSAGES.some(([pattern]) => pattern.test(message));
}

/**
 * Each reason the commands function gives for a command it refused (the
 * domain's message, kept with a dead-lettered command), and its French.
 */
export const REFUSAL_MESSAGES: Catalogue = [
  [/^The (?:request|command) is invalid\.$/, () => "la commande est invalide"],
  [/^No rapatriement has id "(.*)"\.$/s, (id) => `aucun rapatriement n'a l'id « ${id} »`],
  [
    /^The rapatriement is at version (\d+), not (\d+); reload it and retry\.$/,
    (current, expected) => `le rapatriement est à la version ${current}, pas ${expected}`,
  ],
  [
    /^This idempotency key was already used for a different request; use a new key for a new request\.$/,
    () => "cette clé d'idempotence a déjà servi à une autre commande",
  ],
  [
    /^The rapatriement is (\w+); a \1 rapatriement cannot change\.$/,
    (status) => `le rapatriement est au statut ${status} : il ne peut plus changer`,
  ],
  [
    /^A (\w+) rapatriement cannot become (\w+); allowed: (.*)\.$/,
    (from, to, allowed) =>
      `un rapatriement au statut ${from} ne peut pas passer à ${to} (possibles : ${allowed || "aucun"})`,
  ],
  [
    /^A rapatriement with reference "(.*)" already exists\.$/s,
    (reference) => `un rapatriement a déjà la référence « ${reference} »`,
  ],
  [
    /^An internal error occurred; see the function's log\.$/,
    () => "erreur interne de la fonction des commandes : voyez son journal",
  ],
];

/**
 * Why the commands function refused a command, in French: its code says
 * what happened to the storage; its message, what the domain said. A
 * message the catalogue lacks is said plainly, with its code, not in English.
 */
export function frenchRefusal(code: string, message: string): string {
  switch (code) {
    case "STORAGE_BUSY":
      return "S3 était occupé ou n'a pas répondu à temps : rien n'a été appliqué";
    case "STORAGE_OUTCOME_UNKNOWN":
      return "S3 n'a pas pu confirmer l'écriture à temps : elle a peut-être été appliquée";
    case "DATA_OBJECT_DELETED":
      return "l'objet de données avait été supprimé : rien n'a été appliqué ; restaurez-le (npx rapatriements versions, puis restore VERSION_ID), puis renvoyez la commande";
  }
  return (
    translated(REFUSAL_MESSAGES, message) ??
    "refus sans traduction : voyez le code et le journal de la fonction des commandes"
  );
}

/** Whether the refusal catalogue has `message` (a test keeps it complete). */
export function inRefusalCatalogue(message: string): boolean {
  return REFUSAL_MESSAGES.some(([pattern]) => pattern.test(message));
}

/** What the CLI says of an error of the product. */
export function frenchError(error: unknown): string {
  if (error instanceof ImportRefusedError) {
    return `les données contiennent déjà ${plural(error.existing, "rapatriement")} : relancez avec --force pour les remplacer`;
  }
  if (error instanceof ValidationError) {
    const fields = (error.errors ?? []).map((e) => `${e.path} : ${frenchFieldMessage(e.message)}`);
    return `données invalides : ${fields.join(" ; ")}`;
  }
  if (error instanceof AppError) {
    switch (error.code) {
      case "STORAGE_BUSY":
        return "S3 est occupé ou n'a pas répondu à temps (STORAGE_BUSY) : rien n'a été appliqué ; relancez";
      case "STORAGE_OUTCOME_UNKNOWN":
        return "S3 n'a pas pu confirmer l'écriture à temps (STORAGE_OUTCOME_UNKNOWN) : elle a peut-être été appliquée ; vérifiez avec npx rapatriements export avant de relancer";
      default:
        // Configuration, access and unreadable data: already written in French, as the guide is.
        return `${error.name}: ${error.message}`;
    }
  }
  return String(error);
}

/** Node's parseArgs complaints (English) as the CLI's usage errors. */
export function frenchArgumentError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-[^' ]+)/.exec(message ?? "")?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `option inconnue ${option}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `valeur manquante ou en trop pour l'option ${option}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return "argument en trop";
    default:
      return "arguments invalides";
  }
}
