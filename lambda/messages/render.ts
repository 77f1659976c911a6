/**
 * Messages: words from keys, in the language asked for — a rule or an error
 * message rendered from its catalogue — and the language an HTTP request
 * asks for (`Accept-Language`, RFC 9110 §12.5.4).
 */
import { english } from "./english.ts";
import { french } from "./french.ts";
import type { Catalogue, Language, Rule, Text } from "./keys.ts";

const CATALOGUES: Readonly<Record<Language, Catalogue>> = { en: english, fr: french };

/** The catalogue of `language`. */
export function catalogue(language: Language): Catalogue {
  return CATALOGUES[language];
}

/** A field error's rule, in words. */
export function ruleText(language: Language, rule: Rule): string {
  const say = CATALOGUES[language].rules[rule.rule] as (params: Rule["params"]) => string;
  return say(rule.params);
}

/** An error message, in words. */
export function text(language: Language, message: Text): string {
  const say = CATALOGUES[language].texts[message.key] as (params: Text["params"]) => string;
  return say(message.params);
}

/**
 * The language to answer in, from an `Accept-Language` header: the served
 * language with the highest q-value among the ranges the client lists
 * (`fr-FR` and `fr` both ask for French; `q=0` refuses a language), English
 * when none is served or the header is absent or malformed. Ties keep the
 * client's order.
 */
export function languageOf(acceptLanguage: string | undefined): Language {
  let best: { language: Language; q: number } | undefined;
  // Stryker disable next-line StringLiteral: any text without a served language reads as no header
  for (const part of (acceptLanguage ?? "").split(",")) {
    // Stryker disable next-line StringLiteral: split always gives a first part; the default is for the type only
    const [range = "", ...parameters] = part.split(";").map((piece) => piece.trim());
    const language = servedLanguage(range.toLowerCase());
    if (language === undefined) continue;
    const q = quality(parameters);
    if (q > 0 && (best === undefined || q > best.q)) best = { language, q };
  }
  return best?.language ?? "en";
}

function servedLanguage(range: string): Language | undefined {
  const primary = range.split("-")[0];
  return primary === "fr" || primary === "en" ? primary : undefined;
}

/** A range's weight: `q=` with 0 to 3 decimals between 0 and 1; absent means 1, unreadable 0. */
function quality(parameters: readonly string[]): number {
  const q = parameters.find((parameter) => parameter.toLowerCase().startsWith("q="));
  if (q === undefined) return 1;
  const value = q.slice(2);
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(value) ? Number(value) : 0;
}
