/**
 * Messages: the French catalogue — what the CLI, doctor and `npm start`
 * say, what the HTTP API answers to `Accept-Language: fr`, and the wording
 * of the configuration errors that the users' operator guide promises
 * (`ValueError: AWS_REGION est obligatoire`). Key by key as english.ts.
 */

import { byCase } from "./cases.ts";
import type {
  BucketNameRule,
  Catalogue,
  GiveUpReason,
  Kind,
  Place,
  S3Action,
  Unreadable,
} from "./keys.ts";

const KINDS: Readonly<Record<Kind, string>> = {
  string: "un texte",
  number: "un nombre",
  integer: "un entier",
  lines: "une liste de lignes",
  object: "un objet",
};

const why = byCase<GiveUpReason, "why">("why", {
  noTimeToSave: () => "il ne restait pas de temps pour enregistrer",
  keptChanging: ({ attempts }) =>
    `l'objet de données changeait sans cesse ou S3 ne répondait pas, après ${attempts} tentatives`,
  noAnswerToLook: () => "S3 n'a pas répondu à un coup d'œil sur l'objet de données",
  noTimeToReload: () => "il ne restait pas de temps pour relire l'objet de données",
  noAnswerOnReload: () => "S3 n'a pas répondu à la relecture de l'objet de données",
});

const ACTIONS: Readonly<Record<S3Action, string>> = {
  read: "lire",
  write: "écrire",
  createBucket: "créer le bucket",
};

const BUCKET_RULES: Readonly<Record<BucketNameRule, string>> = {
  length: "de 3 à 63 caractères",
  characters:
    "minuscules, chiffres, points et tirets, commençant et finissant par une lettre ou un chiffre",
  dots: "pas deux points de suite",
  ipAddress: "pas une adresse IP",
  reserved: "préfixe ou suffixe réservé par AWS",
};

const TITLES: Readonly<Record<number, string>> = {
  400: "Requête invalide",
  403: "Interdit",
  404: "Introuvable",
  409: "Conflit",
  412: "Condition préalable non remplie",
  413: "Contenu trop volumineux",
  415: "Type de contenu non pris en charge",
  422: "Requête impossible à traiter",
  500: "Erreur interne",
  503: "Service occupé",
};

/** Why the object is unreadable; most add that it was left as it is. */
const unreadable = byCase<Unreadable, "problem">("problem", {
  empty: () => "l'objet est vide ; il n'a pas été modifié",
  notJson: () => untouched("l'objet n'est pas un document JSON valide"),
  jsonNotObject: () => untouched("le document JSON n'est pas un objet"),
  sqliteInJson: () =>
    untouched(
      "l'objet est un fichier SQLite alors que STORAGE_STRATEGY=json : corrigez STORAGE_STRATEGY ou importez le fichier",
    ),
  jsonInSqlite: () =>
    untouched(
      "l'objet est un document JSON alors que STORAGE_STRATEGY=sqlite : corrigez STORAGE_STRATEGY ou importez le fichier",
    ),
  noSqliteHeader: () => untouched("l'objet n'est pas un fichier SQLite (en-tête absent)"),
  sqliteWontOpen: () => "le fichier SQLite ne s'ouvre pas",
  sqliteCorrupt: () => untouched("le fichier SQLite est corrompu (PRAGMA quick_check)"),
  notApplication: ({ name, applicationId }) =>
    untouched(
      `ce fichier SQLite n'est pas une base ${name} (application_id ${applicationId}) : importez-le plutôt que de le déposer tel quel`,
    ),
  notFormat: ({ format }) => untouched(`le document JSON n'est pas au format ${format}`),
  notSchema: ({ name, schema }) =>
    untouched(`le document JSON n'est pas une base ${name} (schema "${schema}")`),
  noSchemaVersion: () => untouched("le document JSON n'a pas de schemaVersion entier"),
  noTables: () => untouched("le document JSON n'a pas d'objet tables"),
  newer: ({ format, version, current }) =>
    `le fichier ${format} est au schéma ${version}, plus récent que celui que ce code connaît (${current}) : mettez à jour l'application ; le fichier n'a pas été modifié`,
  jsonNewer: ({ version, current }) =>
    untouched(
      `le document JSON est au schéma ${version}, plus récent que celui que ce code connaît (${current}) : mettez à jour l'application`,
    ),
  jsonMismatch: () => untouched("le document JSON ne correspond pas au schéma"),
  unknownTable: ({ table }) => untouched(`table inconnue "${table}" dans le document JSON`),
  tableShape: ({ table }) =>
    untouched(
      `la table "${table}" n'est ni une liste d'objets ni un objet {"columns": […], "rows": […]}`,
    ),
  compactKey: ({ table, key }) =>
    untouched(`la table compacte "${table}" : clé inconnue "${key}" (attendues : columns, rows)`),
  compactColumns: ({ table }) =>
    untouched(`la table compacte "${table}" : "columns" n'est pas une liste de noms de colonnes`),
  compactRows: ({ table }) =>
    untouched(`la table compacte "${table}" : "rows" n'est pas une liste`),
  compactUnknownColumn: ({ table, column }) =>
    untouched(`la table compacte "${table}" : colonne inconnue "${column}"`),
  columnTwice: ({ table, column }) =>
    untouched(`la table compacte "${table}" : colonne "${column}" nommée deux fois`),
  unknownColumn: ({ at, column }) => untouched(`${at} : colonne inconnue "${column}"`),
  rowNotObject: ({ at }) => untouched(`${at} n'est pas un objet`),
  rowNotList: ({ at }) => untouched(`${at} n'est pas une liste`),
  rowLength: ({ at, values, columns }) =>
    untouched(`${at} a ${values} valeurs pour ${columns} colonnes`),
  badValue: ({ at, column }) => untouched(`${at}.${column} : valeur ni texte, ni nombre, ni null`),
  violates: ({ at }) => untouched(`${at} viole le schéma`),
  migrationFailed: ({ name, version, description }) =>
    `la migration ${version} (${description}) de la base ${name} a échoué`,
});

function untouched(problem: string): string {
  return `${problem} ; l'objet n'a pas été modifié`;
}

const where = (place: Place) => `s3://${place.bucket}/${place.key} (région ${place.region})`;

const FIELDS: Readonly<Record<"id" | "reference", string>> = { id: "id", reference: "référence" };

export const french: Catalogue = {
  rules: {
    invalid: () => "valeur refusée",
    required: () => "est obligatoire",
    requiredInPath: () => "est obligatoire dans le chemin",
    type: ({ kind }) => `doit être ${KINDS[kind]}`,
    loneSurrogate: () =>
      "doit être un texte Unicode valide (il contient un demi-caractère UTF-16 isolé)",
    empty: () => "ne doit pas être vide",
    maxCharacters: ({ max }) => `doit faire au plus ${max} caractères`,
    length: ({ max }) => `doit faire de 1 à ${max} caractères`,
    idLength: ({ max }) => `doit faire de 1 à ${max} caractères : un id tel que l'API l'a donné`,
    spaces: () => "ne doit ni commencer ni finir par une espace",
    dateTime: ({ example }) =>
      `doit être une date et heure ISO 8601 avec son fuseau, par exemple ${example}`,
    positive: () => "doit être un nombre supérieur à 0",
    reference: () => "doit faire de 1 à 64 caractères parmi A-Z a-z 0-9 . _ - /",
    noLines: () => "doit contenir au moins 1 ligne",
    maxLines: ({ max }) => `doit contenir au plus ${max} lignes`,
    oneOf: ({ allowed }) => `doit valoir l'un de : ${allowed.join(", ")}`,
    commaList: ({ allowed }) =>
      `doit être une liste séparée par des virgules de : ${allowed.join(", ")}`,
    jsonObject: () => "doit être un objet JSON",
    differs: ({ other }) => `doit être différente de ${other}`,
    notBefore: ({ other }) => `ne doit pas précéder ${other}`,
    unknownField: () => "champ inconnu",
    unknownParameter: ({ allowed }) => `paramètre inconnu ; possibles : ${allowed.join(", ")}`,
    integerRange: ({ min, max }) => `doit être un entier de ${min} à ${max}`,
    integerAtLeast: ({ min }) => `doit être un entier supérieur ou égal à ${min}`,
    idempotencyKey: ({ max }) => `doit faire de 1 à ${max} caractères ASCII imprimables`,
    cursor: () => "n'est pas un curseur donné par cette API (reprenez nextCursor tel quel)",
    etag: () => "doit être l'ETag de l'enregistrement tel que donné, par exemple \"3\", ou *",
    command: () => 'doit être une commande : { "action": "create" ou "update" ou "delete", … }',
    noChange: () => "la modification ne change aucun champ",
    readOnly: () => "ne peut pas être donné : le serveur le fixe lui-même",
    readOnlyIdentity: () =>
      "ne peut pas être donné : le serveur le tire de l'identité authentifiée de l'appelant",
    bodyNotJson: ({ position }) => `le corps n'est pas du JSON (erreur au caractère ${position})`,
    messageNotJson: ({ position }) =>
      `le message n'est pas du JSON (erreur au caractère ${position})`,
    notUtf8: () => "le corps n'est pas de l'UTF-8 valide",
    repeats: ({ index, field }) => `même ${FIELDS[field]} que l'enregistrement [${index}]`,
  },
  texts: {
    invalidRequest: () => "la requête est invalide",
    invalidCommand: () => "la commande est invalide",
    invalidFile: () => "Le fichier contient des enregistrements invalides.",
    notFound: ({ id }) => `aucun rapatriement n'a l'id « ${id} »`,
    receiptRecordDeleted: () =>
      "Le rapatriement que cette clé d'idempotence a créé a été supprimé depuis.",
    receiptRecordDeletedId: ({ id }) =>
      `Le rapatriement que cette clé d'idempotence a écrit (id « ${id} ») a été supprimé depuis.`,
    routeNotFound: ({ route, routes }) =>
      `Pas de route ${JSON.stringify(route)} dans cette API ; les routes sont : ${routes.join(", ")}.`,
    apiIdMismatch: ({ apiId }) =>
      `Cette fonction ne répond qu'aux requêtes de sa propre API HTTP ; cet événement nomme ${apiId === null ? "aucune API" : `l'API ${JSON.stringify(apiId)}`}. Envoyez la requête à l'URL de l'API (la sortie ApiUrl de la pile) au lieu d'invoquer la fonction directement.`,
    duplicateReference: ({ reference }) => `un rapatriement a déjà la référence « ${reference} »`,
    finalStatus: ({ status }) =>
      `le rapatriement est au statut ${status} : il ne peut plus changer`,
    forbiddenTransition: ({ from, to, allowed }) =>
      `un rapatriement au statut ${from} ne peut pas passer à ${to} (possibles : ${allowed.join(", ") || "aucun"})`,
    versionMismatch: ({ current, expected }) =>
      `le rapatriement est à la version ${current}, pas ${expected}`,
    idempotencyKeyReused: () => "cette clé d'idempotence a déjà servi à une autre commande",
    noCommandsQueue: () =>
      "La fonction n'a pas de file de commandes (COMMANDS_QUEUE_URL) : un événement SQS ne peut pas être confirmé, il n'est donc pas appliqué ; invoquez la fonction avec les commandes elles-mêmes.",
    unconfirmedMessage: ({ queueArn }) =>
      `SQS ne confirme pas cet enregistrement comme un message en cours sur ${queueArn} : il n'est pas appliqué.`,
    tooManyCommands: ({ max, count }) =>
      `Une invocation directe prend au plus ${max} commandes (reçu : ${count}) ; aucune n'a été appliquée : envoyez-les en plusieurs invocations.`,
    storageBusy: (reason) => `${why(reason)} ; rien n'a été appliqué : réessayez`,
    storageOutcomeUnknown: (reason) =>
      `${why(reason)} ; l'écriture a peut-être été appliquée : ne réessayez qu'avec la même clé d'idempotence`,
    noTimeToCall: ({ command }) => `il ne restait pas de temps pour appeler S3 (${command})`,
    noAnswer: () => "S3 n'a pas répondu ; réessayez",
    importRefused: ({ existing }) =>
      `les données contiennent déjà ${existing} ${existing < 2 ? "rapatriement" : "rapatriements"} : relancez avec --force pour les remplacer`,
    payloadTooLarge: ({ kib }) => `Le corps dépasse ${kib} Kio.`,
    requestTooLarge: ({ mb }) => `La requête dépasse la limite de ${mb} Mo d'API Gateway.`,
    unsupportedMediaType: ({ contentType }) =>
      `Le corps doit être du JSON envoyé avec "Content-Type: application/json" (reçu : "${contentType}").`,
    internalError: ({ code, requestId }) =>
      `Une erreur interne s'est produite (${code}) ; donnez l'identifiant de requête ${requestId} aux exploitants.`,
    commandInternalError: () => "erreur interne de la fonction des commandes : voyez son journal",
    title: ({ status }) => TITLES[status] ?? "Erreur",
    missingVariable: ({ variable }) => `${variable} est obligatoire`,
    missingVariableNearMiss: ({ variable, given }) =>
      `${variable} est obligatoire — ${given} est définie : vouliez-vous dire ${variable} ?`,
    envFileUnreadable: ({ file }) => `le fichier ${file} est illisible`,
    configurationInvalid: () => "configuration invalide",
    regionInvalid: ({ region }) =>
      `AWS_REGION n'est pas une région AWS valide (reçu : "${region}", exemple : eu-west-1)`,
    pathWithoutKey: ({ path, bucket }) =>
      `S3_RAPPATRIMENT_FILE_PATH doit nommer un fichier après le bucket (reçu : "${path}", exemple : s3://${bucket}/rappatriements.db)`,
    pathNotS3: ({ path }) =>
      `S3_RAPPATRIMENT_FILE_PATH doit être un chemin s3://bucket/clé ou une clé relative (reçu : "${path}")`,
    keyLeadingSlash: ({ key }) =>
      `S3_RAPPATRIMENT_FILE_PATH : la clé ne doit pas commencer par "/" (reçu : "${key}", exemple : rappatriements/rappatriements.db)`,
    keyTrailingSlash: ({ key }) =>
      `S3_RAPPATRIMENT_FILE_PATH doit nommer un fichier, pas un dossier (reçu : "${key}")`,
    keyTooLong: ({ max }) => `S3_RAPPATRIMENT_FILE_PATH : la clé dépasse ${max} octets`,
    bucketNameInvalid: ({ variable, name, rule }) =>
      `${variable} : nom de bucket invalide "${name}" (${BUCKET_RULES[rule]})`,
    strategyInvalid: ({ value, allowed }) =>
      `STORAGE_STRATEGY doit valoir ${allowed.map((s) => `"${s}"`).join(" ou ")} (reçu : "${value}")`,
    kmsAlias: ({ value, example }) =>
      `S3_SSE_KMS_KEY_ID doit nommer la clé KMS elle-même, pas un alias (reçu : "${value}", exemple : ${example})`,
    kmsInvalid: ({ value, example }) =>
      `S3_SSE_KMS_KEY_ID n'est ni l'ARN ni l'identifiant d'une clé KMS (reçu : "${value}", exemple : ${example})`,
    positiveInteger: ({ variable, value }) =>
      `${variable} doit être un entier positif (reçu : "${value}")`,
    queueArnInvalid: ({ value }) =>
      `COMMANDS_QUEUE_ARN n'est pas l'ARN d'une file SQS (reçu : "${value}", exemple : arn:aws:sqs:eu-west-1:123456789012:commandes)`,
    queuePair: () =>
      "COMMANDS_QUEUE_URL et COMMANDS_QUEUE_ARN vont ensemble : donnez les deux (sorties de la pile), ou aucun",
    endpointInvalid: ({ variable, value }) =>
      `${variable} n'est pas une URL http(s) (reçu : "${value}")`,
    credentialsMissing: ({ action, place, name }) =>
      `NoCredentialsError: identifiants AWS absents ou invalides pour ${ACTIONS[action]} ${where(place)} (${name}) : vérifiez AWS_ACCESS_KEY_ID et AWS_SECRET_ACCESS_KEY, ~/.aws/credentials ou le rôle IAM`,
    kmsKeyDenied: ({ action, place, name, permission }) =>
      `${name}: clé KMS refusée pour ${ACTIONS[action]} ${where(place)} (${permission}) : vérifiez que l'utilisateur ou le rôle AWS a kms:GenerateDataKey et kms:Decrypt sur la clé (S3_SSE_KMS_KEY_ID, ou celle qui a chiffré l'objet) et qu'elle est activée`,
    accessDenied: ({ action, place }) =>
      `AccessDenied: accès refusé pour ${ACTIONS[action]} ${where(place)} : vérifiez que l'utilisateur ou le rôle AWS a s3:GetObject, s3:PutObject, s3:DeleteObject et s3:ListBucket sur arn:aws:s3:::${place.bucket} et arn:aws:s3:::${place.bucket}/*`,
    regionMismatch: ({ bucket, region, name }) =>
      `IllegalLocationConstraintException: le bucket ${bucket} n'est pas dans la région ${region} (${name}) : vérifiez AWS_REGION et que le bucket existe dans cette région`,
    bucketNameTaken: ({ bucket }) =>
      `le bucket ${bucket} appartient à un autre compte AWS : choisissez un autre nom dans S3_RAPPATRIMENT_FILE_PATH ou S3_BUCKET_NAME`,
    bucketCreationDenied: ({ bucket, region }) =>
      `le bucket ${bucket} n'existe pas et la création est refusée (AccessDenied) dans la région ${region} : créez-le (aws s3 mb s3://${bucket} --region ${region}) ou accordez s3:CreateBucket`,
    dataObjectDeleted: ({ place }) =>
      `DATA_OBJECT_DELETED : l'objet de données ${where(place)} a été supprimé (sa version actuelle est un marqueur de suppression) ; rien n'a été lu ni écrit, et aucune base vide ne le remplacera. Trouvez la dernière version avec npx rapatriements versions, puis restaurez-la : npx rapatriements restore VERSION_ID`,
    storageUnreadable: unreadable,
  },
};
