/**
 * Operators' CLI: the French catalogue. The HTTP API answers its clients
 * (programs) in English; the operators' tools speak French. What the domain
 * says in English — validation messages, storage errors — and what Node.js
 * says about bad options is turned into French here, in one place, so that a
 * test can check the catalogue against every message the domain can give.
 */
// @ts-nocheck

import { AppError, ImportRefusedError, ValidationError } from "../../lambda/errors.ts";
import { plural } from "../data/plural.ts";

const KINDS: Readonly<Record<string, string>> = {
  "a string": "un texte",
  "a number": "un nombre",
  "an integer": "un entier",
  "an array of lines": "une liste de lignes",
  "an object": "un objet",
};

/** Each message of lambda/rapatriements/validation.ts, and its French. */
export const FIELD_MESSAGES: readonly [RegExp, (...groups: string[]) => string][] = [
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
  // zod's own wording for the rules written without a message of ours.
  [/^Too small: expected number to be >=(\d+)$/, (n) => `doit être au moins ${n}`],
  [/^Invalid input: expected int, received number$/, () => "doit être un entier"],
];

/** A validation message in French; one the catalogue lacks is said plainly, not in English. */
export function frenchFieldMessage(message: string): string {
  for (const [pattern, french] of FIELD_MESSAGES) {
    const match = pattern.exec(message);
    if (match !== null) return french(...match.slice(1));
  }
  return "valeur refusée";
}

/** Whether the catalogue has `message` (a test keeps it complete). */
export function inCatalogue(message: string): boolean {
  return FIELD_MESSAGES.some(([pattern]) => pattern.test(message));
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
