/**
 * Local tools: what an import says, in French, of the file it read — how
 * many records and how the file was understood, then what was taken as it is
 * from an old file: columns left out, integer ids kept as text, zone-less
 * dates and the zone they were read in. Shared by `npx rapatriements import`
 * and `npm start -- --from`, so that both say the same.
 */
import { plural } from "./plural.ts";
import { DEFAULT_TIME_ZONE, type RecordsFile } from "./records-file.ts";

export function fileReport(read: RecordsFile, timeZone: string): string[] {
  const lines = [
    `${plural(read.records.length, "enregistrement trouvé", "enregistrements trouvés")} (${read.source})`,
  ];
  if (read.ignoredColumns.length > 0) {
    lines.push(
      `${plural(read.ignoredColumns.length, "colonne ignorée", "colonnes ignorées")} (aucun champ de ce nom) : ${read.ignoredColumns.join(", ")}`,
    );
  }
  const { integerIds, zonelessDates } = read.normalised;
  if (integerIds > 0) {
    lines.push(
      `${plural(integerIds, "identifiant entier conservé", "identifiants entiers conservés")} en texte (42 devient "42")`,
    );
  }
  if (zonelessDates > 0) {
    lines.push(
      `${plural(zonelessDates, "date sans fuseau lue", "dates sans fuseau lues")} dans le fuseau ${timeZone}${timeZone === DEFAULT_TIME_ZONE ? " (par défaut, celui de CURRENT_TIMESTAMP de SQLite ; --timezone Europe/Paris pour l'heure de Paris)" : ""}`,
    );
  }
  return lines;
}
