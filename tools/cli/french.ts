/**
 * Operators' CLI: what the CLI says of an error, in French. The words come
 * from the French catalogue (lambda/messages), from each error's key and
 * data and each field's rule — never from the English of a message — and,
 * for a bad command line, from what Node's parser found in the arguments.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { AppError, ValidationError } from "../../lambda/errors.ts";
import type { Rule, Text } from "../../lambda/messages/keys.ts";
import { ruleText, text } from "../../lambda/messages/render.ts";

/** A field error's rule in French; one without a rule (a letter from an older function) is said plainly. */
export function frenchRule(rule: Rule | undefined): string {
  return rule === undefined ? "valeur refusée" : ruleText("fr", rule);
}

/** `path : what is wrong`, or what is wrong alone for the whole body. */
export function frenchField(path: string, rule: Rule | undefined): string {
  const said = frenchRule(rule);
  return path === "" ? said : `${path} : ${said}`;
}

/**
 * Why the commands function refused a command, in French: its code says
 * what happened to the storage or that the command is invalid; the message's
 * key and data, what the domain said. A refusal without a key (a letter from
 * an older function) is said plainly, with its code, not in English.
 */
export function frenchRefusal(code: string, said: Text | undefined): string {
  switch (code) {
    case "VALIDATION_FAILED":
      return "la commande est invalide";
    case "STORAGE_BUSY":
      return "S3 était occupé ou n'a pas répondu à temps : rien n'a été appliqué";
    case "STORAGE_OUTCOME_UNKNOWN":
      return "S3 n'a pas pu confirmer l'écriture à temps : elle a peut-être été appliquée";
    case "DATA_OBJECT_DELETED":
      return "l'objet de données avait été supprimé : rien n'a été appliqué ; restaurez-le (npx rapatriements versions, puis restore VERSION_ID), puis renvoyez la commande";
  }
  return said === undefined
    ? "refus sans traduction : voyez le code et le journal de la fonction des commandes"
    : text("fr", said);
}

/** What the CLI says of an error of the product. */
export function frenchError(error: unknown): string {
  if (error instanceof ValidationError) {
    const fields = (error.errors ?? []).map((e) => `${e.path} : ${ruleText("fr", e)}`);
    return `données invalides : ${fields.join(" ; ")}`;
  }
  if (error instanceof AppError) {
    switch (error.code) {
      case "STORAGE_BUSY":
        return "S3 est occupé ou n'a pas répondu à temps (STORAGE_BUSY) : rien n'a été appliqué ; relancez";
      case "STORAGE_OUTCOME_UNKNOWN":
        return "S3 n'a pas pu confirmer l'écriture à temps (STORAGE_OUTCOME_UNKNOWN) : elle a peut-être été appliquée ; vérifiez avec npx rapatriements export avant de relancer";
      case "IMPORT_REFUSED":
        return french(error);
      default:
        // Configuration, access and unreadable data: named as the guide names them.
        return `${error.name}: ${french(error)}`;
    }
  }
  return String(error);
}

/** An error's message in French, from its key; one given as words is said as it was given. */
function french(error: AppError): string {
  return error.text === undefined ? error.message : text("fr", error.text);
}

/**
 * Node's parseArgs complaints as the CLI's usage errors. The option at fault
 * is found again in the arguments (the same parse, lenient, with its
 * tokens), not read out of Node's English message.
 */
export function frenchArgumentError(
  error: unknown,
  args: readonly string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): string {
  const { code } = error as { code?: string };
  const { tokens } = parseArgs({
    args: [...args],
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const known = (name: string) => Object.hasOwn(options, name);
  const wrongValue = (token: (typeof tokens)[number]) =>
    token.kind === "option" &&
    known(token.name) &&
    (options[token.name]?.type === "string") === (token.value === undefined);
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
      const token = tokens.find((t) => t.kind === "option" && !known(t.name));
      return `option inconnue ${token?.kind === "option" ? token.rawName : ""}`.trimEnd();
    }
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const token = tokens.find(wrongValue);
      return `valeur manquante ou en trop pour l'option ${token?.kind === "option" ? token.rawName : ""}`.trimEnd();
    }
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return "argument en trop";
    default:
      return "arguments invalides";
  }
}
