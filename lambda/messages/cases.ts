/**
 * Messages: a message whose data is one of several cases (why a write gave
 * up, why the object is unreadable), said by the case's own sentence.
 */

/** One sentence per case of `U`, told apart by its field `field`. */
export type Cases<U extends Record<F, string>, F extends keyof U> = {
  readonly [C in U[F]]: (data: Extract<U, Record<F, C>>) => string;
};

/** The function that says any case of `U` with the sentence `cases` has for it. */
export function byCase<U extends Record<F, string>, F extends keyof U>(
  field: F,
  cases: Cases<U, F>,
): (data: U) => string {
  return (data) => (cases[data[field]] as (data: U) => string)(data);
}
