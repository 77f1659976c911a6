/**
 * Local tools: a count and its noun in French, where 0 and 1 take the
 * singular ("0 erreur", "1 enregistrement", "2 enregistrements").
 */
// @ts-nocheck

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${Math.abs(count) < 2 ? singular : pluralForm}`;
}
