/**
 * Entry adapters: where a body or a message stopped being JSON, as a number
 * the catalogues can say in any language. V8's SyntaxError gives the place
 * only inside its English sentence (`… in JSON at position 2 …`); read here,
 * once, at the source. Where it names none (`Unexpected end of JSON input`),
 * the text ended too soon: the place is its end.
 */
export function jsonErrorPosition(error: unknown, text: string): number {
  const named = /\bposition (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
  return named === undefined ? text.length : Number(named);
}
