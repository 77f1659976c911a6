/**
 * The catalogues (lambda/messages): every rule and every message has an
 * English and a French rendering, non-empty, each using the same data; every
 * rule the validation and the commands' checks give is in both; and the
 * language an `Accept-Language` header asks for.
 */
import { describe, expect, test } from "vitest";
import { type FieldError, ValidationError } from "../../../lambda/errors.ts";
import { english } from "../../../lambda/messages/english.ts";
import { french } from "../../../lambda/messages/french.ts";
import {
  type Catalogue,
  LANGUAGES,
  type RuleParams,
  type TextParams,
} from "../../../lambda/messages/keys.ts";
import { catalogue, languageOf, ruleText, text } from "../../../lambda/messages/render.ts";
import { parseCommand } from "../../../lambda/rapatriements/commands.ts";
import { parseOperation } from "../../../lambda/rapatriements/operation.ts";
import {
  parseCreate,
  parseId,
  parseImportedRecord,
  parseListQuery,
  parsePatch,
} from "../../../lambda/rapatriements/validation.ts";
import { sampleInput } from "../../support/local-s3.ts";

const PLACE = { bucket: "b-sample", key: "k/sample.db", region: "eu-west-3" };

/** Data for every rule: the type checker makes sure none is missing and each has all its params. */
const RULES: { [K in keyof RuleParams]: RuleParams[K] } = {
  invalid: {},
  required: {},
  requiredInPath: {},
  type: { kind: "lines" },
  loneSurrogate: {},
  empty: {},
  maxCharacters: { max: 2000 },
  length: { max: 64 },
  idLength: { max: 128 },
  spaces: {},
  dateTime: { example: "2026-03-01T08:00:00Z" },
  positive: {},
  reference: {},
  noLines: {},
  maxLines: { max: 500 },
  oneOf: { allowed: ["draft", "requested"] },
  commaList: { allowed: ["draft", "requested"] },
  jsonObject: {},
  differs: { other: "origin" },
  notBefore: { other: "requestedAt" },
  unknownField: {},
  unknownParameter: { allowed: ["status", "limit"] },
  integerRange: { min: 1, max: 100 },
  integerAtLeast: { min: 1 },
  idempotencyKey: { max: 255 },
  cursor: {},
  etag: {},
  command: {},
  noChange: {},
  readOnly: {},
  readOnlyIdentity: {},
  bodyNotJson: { position: 17 },
  messageNotJson: { position: 17 },
  notUtf8: {},
  repeats: { index: 3, field: "reference" },
};

/** Data for every message, likewise. */
const TEXTS: { [K in keyof TextParams]: TextParams[K] } = {
  invalidRequest: {},
  invalidCommand: {},
  invalidFile: {},
  notFound: { id: "id-sample" },
  receiptRecordDeleted: {},
  receiptRecordDeletedId: { id: "id-sample" },
  routeNotFound: { route: "GET /elsewhere", routes: ["GET /rapatriements"] },
  apiIdMismatch: { apiId: "api-sample" },
  duplicateReference: { reference: "RAP-SAMPLE" },
  finalStatus: { status: "cancelled" },
  forbiddenTransition: { from: "draft", to: "received", allowed: ["requested", "cancelled"] },
  versionMismatch: { current: 4, expected: 2 },
  idempotencyKeyReused: {},
  noCommandsQueue: {},
  unconfirmedMessage: { queueArn: "arn:aws:sqs:eu-west-1:123456789012:commandes" },
  tooManyCommands: { max: 10, count: 11 },
  storageBusy: { why: "keptChanging", attempts: 6 },
  storageOutcomeUnknown: { why: "keptChanging", attempts: 6 },
  noTimeToCall: { command: "PutObject" },
  noAnswer: {},
  importRefused: { existing: 3 },
  payloadTooLarge: { kib: 256 },
  requestTooLarge: { mb: 10 },
  unsupportedMediaType: { contentType: "text/plain" },
  internalError: { code: "STORAGE_UNREADABLE", requestId: "req-sample" },
  commandInternalError: {},
  title: { status: 412 },
  missingVariable: { variable: "AWS_REGION" },
  missingVariableNearMiss: { variable: "AWS_REGION", given: "AWS_REGON" },
  envFileUnreadable: { file: "/sample/.env" },
  configurationInvalid: {},
  regionInvalid: { region: "mars-1" },
  pathWithoutKey: { path: "s3://b-sample", bucket: "b-sample" },
  pathNotS3: { path: "https://sample" },
  keyLeadingSlash: { key: "/k.db" },
  keyTrailingSlash: { key: "k/" },
  keyTooLong: { max: 1024 },
  bucketNameInvalid: { variable: "S3_BUCKET_NAME", name: "B_SAMPLE", rule: "characters" },
  strategyInvalid: { value: "csv", allowed: ["sqlite", "json"] },
  kmsAlias: { value: "alias/sample", example: "arn:sample" },
  kmsInvalid: { value: "sample", example: "arn:sample" },
  positiveInteger: { variable: "COMMANDS_MAX_RECEIVE_COUNT", value: "-2" },
  queueArnInvalid: { value: "arn:sample" },
  queuePair: {},
  endpointInvalid: { variable: "AWS_ENDPOINT_URL_S3", value: "ftp://sample" },
  credentialsMissing: { action: "write", place: PLACE, name: "ExpiredToken" },
  kmsKeyDenied: { action: "read", place: PLACE, name: "AccessDenied", permission: "kms:Decrypt" },
  accessDenied: { action: "createBucket", place: PLACE },
  regionMismatch: { bucket: "b-sample", region: "eu-west-3", name: "PermanentRedirect" },
  bucketNameTaken: { bucket: "b-sample" },
  bucketCreationDenied: { bucket: "b-sample", region: "eu-west-3" },
  dataObjectDeleted: { place: PLACE },
  storageUnreadable: { problem: "rowLength", at: "t.rows[2]", values: 3, columns: 4 },
};

/** Every case of the messages whose data is one of several cases, each with its data. */
const CASES: {
  key: "storageBusy" | "storageOutcomeUnknown" | "storageUnreadable";
  params: object;
}[] = [
  ...(["noTimeToSave", "noAnswerToLook", "noTimeToReload", "noAnswerOnReload"] as const).flatMap(
    (why) => [
      { key: "storageBusy" as const, params: { why } },
      { key: "storageOutcomeUnknown" as const, params: { why } },
    ],
  ),
  ...[
    { problem: "empty" },
    { problem: "notJson" },
    { problem: "jsonNotObject" },
    { problem: "sqliteInJson" },
    { problem: "jsonInSqlite" },
    { problem: "noSqliteHeader" },
    { problem: "sqliteWontOpen" },
    { problem: "sqliteCorrupt" },
    { problem: "notApplication", name: "rapatriements", applicationId: 42 },
    { problem: "notFormat", format: "rapatriements-s3" },
    { problem: "notSchema", name: "rapatriements", schema: "other" },
    { problem: "noSchemaVersion" },
    { problem: "noTables" },
    { problem: "newer", format: "sqlite", version: 9, current: 5 },
    { problem: "jsonNewer", version: 9, current: 5 },
    { problem: "jsonMismatch" },
    { problem: "unknownTable", table: "t-sample" },
    { problem: "tableShape", table: "t-sample" },
    { problem: "compactKey", table: "t-sample", key: "k-sample" },
    { problem: "compactColumns", table: "t-sample" },
    { problem: "compactRows", table: "t-sample" },
    { problem: "compactUnknownColumn", table: "t-sample", column: "c-sample" },
    { problem: "columnTwice", table: "t-sample", column: "c-sample" },
    { problem: "unknownColumn", at: "t[1]", column: "c-sample" },
    { problem: "rowNotObject", at: "t[1]" },
    { problem: "rowNotList", at: "t[1]" },
    { problem: "badValue", at: "t[1]", column: "c-sample" },
    { problem: "violates", at: "t[1]" },
    { problem: "migrationFailed", name: "rapatriements", version: 3, description: "d-sample" },
  ].map((params) => ({ key: "storageUnreadable" as const, params })),
];

type Say = (params: object) => string;

/** `value` changed so that a rendering that uses it must change too. */
function other(value: unknown): unknown {
  if (typeof value === "number") return value + 1000;
  if (typeof value === "string") return `${value}-autre`;
  if (Array.isArray(value)) return [...value, "autre"];
  if (value === null) return "autre";
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, other(v)]));
}

/**
 * The params of `params` that change what `say` says. A param whose cases
 * pick a sentence (`why`, `problem`, `kind`, `rule`, `action`, `field`) is
 * changed among its own cases, not to a value no case has.
 */
function paramsUsed(say: Say, params: object): string[] {
  const said = say(params);
  return Object.entries(params)
    .filter(([name, value]) => {
      if (SELECTORS.has(name)) return true;
      return say({ ...params, [name]: other(value) }) !== said;
    })
    .map(([name]) => name);
}

/** Params that select a sentence or a word among fixed cases: each must have both renderings. */
const SELECTORS = new Set(["why", "problem"]);

describe("the catalogues", () => {
  test("have the same keys, in English and in French, and no other", () => {
    const keys = (c: Catalogue) => ({
      rules: Object.keys(c.rules).sort(),
      texts: Object.keys(c.texts).sort(),
    });
    expect(keys(french)).toEqual(keys(english));
    expect(keys(english)).toEqual({
      rules: Object.keys(RULES).sort(),
      texts: Object.keys(TEXTS).sort(),
    });
  });

  test("say every rule and every message in both languages, non-empty, with the same data", () => {
    const problems: string[] = [];
    const check = (name: string, en: Say, fr: Say, params: object) => {
      const saidEn = en(params);
      const saidFr = fr(params);
      for (const [language, said] of [
        ["en", saidEn],
        ["fr", saidFr],
      ] as const) {
        if (said.trim() === "" || said.includes("undefined") || said.includes("[object")) {
          problems.push(`${name} (${language}): ${JSON.stringify(said)}`);
        }
      }
      if (saidEn === saidFr) problems.push(`${name}: the same words in both languages`);
      const usedEn = paramsUsed(en, params);
      const usedFr = paramsUsed(fr, params);
      if (JSON.stringify(usedEn) !== JSON.stringify(Object.keys(params))) {
        problems.push(`${name} (en) uses ${usedEn} of ${Object.keys(params)}`);
      }
      if (JSON.stringify(usedFr) !== JSON.stringify(Object.keys(params))) {
        problems.push(`${name} (fr) uses ${usedFr} of ${Object.keys(params)}`);
      }
    };
    for (const [rule, params] of Object.entries(RULES)) {
      const key = rule as keyof RuleParams;
      check(`rule ${rule}`, english.rules[key] as Say, french.rules[key] as Say, params);
    }
    for (const [key, params] of Object.entries(TEXTS)) {
      const name = key as keyof TextParams;
      check(`text ${key}`, english.texts[name] as Say, french.texts[name] as Say, params);
    }
    for (const { key, params } of CASES) {
      check(
        `text ${key} ${JSON.stringify(params)}`,
        english.texts[key] as Say,
        french.texts[key] as Say,
        params,
      );
    }
    expect(problems).toEqual([]);
  });

  test("say each word-picking case in its own words (kinds, actions, bucket rules, titles)", () => {
    for (const language of LANGUAGES) {
      const kinds = (["string", "number", "integer", "lines", "object"] as const).map((kind) =>
        ruleText(language, { rule: "type", params: { kind } }),
      );
      expect(new Set(kinds).size, language).toBe(5);
      const actions = (["read", "write", "createBucket"] as const).map((action) =>
        text(language, { key: "accessDenied", params: { action, place: PLACE } }),
      );
      expect(new Set(actions).size, language).toBe(3);
      const bucketRules = (["length", "characters", "dots", "ipAddress", "reserved"] as const).map(
        (rule) =>
          text(language, {
            key: "bucketNameInvalid",
            params: { variable: "S3_BUCKET_NAME", name: "x", rule },
          }),
      );
      expect(new Set(bucketRules).size, language).toBe(5);
      const titles = [400, 403, 404, 409, 412, 413, 415, 422, 500, 503].map((status) =>
        text(language, { key: "title", params: { status } }),
      );
      expect(new Set(titles).size, language).toBe(10);
      expect(catalogue(language).texts.title({ status: 418 }), language).not.toBe("");
    }
  });

  test("say each case of a message in words of its own, not only in the ending the cases share", () => {
    for (const language of LANGUAGES) {
      for (const key of ["storageBusy", "storageOutcomeUnknown", "storageUnreadable"] as const) {
        const said = CASES.filter((c) => c.key === key).map((c) =>
          (catalogue(language).texts[key] as Say)(c.params),
        );
        // A case whose own words were lost would be only the ending the others share.
        const bare = said.filter((words, i) =>
          said.some((longer, j) => j !== i && longer.endsWith(words)),
        );
        expect(bare, `${language} ${key}`).toEqual([]);
      }
    }
  });

  test("say lists, plurals and the absence of an API as a reader expects", () => {
    const allowed = ["draft", "requested", "cancelled"];
    expect(ruleText("fr", { rule: "commaList", params: { allowed } })).toBe(
      "doit être une liste séparée par des virgules de : draft, requested, cancelled",
    );
    expect(ruleText("fr", { rule: "unknownParameter", params: { allowed } })).toBe(
      "paramètre inconnu ; possibles : draft, requested, cancelled",
    );
    expect(
      text("fr", { key: "forbiddenTransition", params: { from: "a", to: "b", allowed } }),
    ).toBe(
      "un rapatriement au statut a ne peut pas passer à b (possibles : draft, requested, cancelled)",
    );
    expect(
      text("fr", { key: "forbiddenTransition", params: { from: "a", to: "b", allowed: [] } }),
    ).toBe("un rapatriement au statut a ne peut pas passer à b (possibles : aucun)");
    expect(text("fr", { key: "routeNotFound", params: { route: null, routes: ["A", "B"] } })).toBe(
      "Pas de route null dans cette API ; les routes sont : A, B.",
    );
    expect(
      text("en", { key: "strategyInvalid", params: { value: "csv", allowed: ["sqlite", "json"] } }),
    ).toBe('STORAGE_STRATEGY must be "sqlite" or "json" (got "csv")');
    for (const language of LANGUAGES) {
      const named = text(language, { key: "apiIdMismatch", params: { apiId: "abc123" } });
      const none = text(language, { key: "apiIdMismatch", params: { apiId: null } });
      expect(named).toContain('"abc123"');
      expect(none).not.toContain("null");
      expect(none).toContain(language === "fr" ? "aucune API" : "no API");
      expect(none).not.toBe(named.replace('"abc123"', ""));
    }
    const refused = (existing: number) =>
      text("fr", { key: "importRefused", params: { existing } });
    expect([0, 1, 2, 3].map(refused)).toEqual([
      "les données contiennent déjà 0 rapatriement : relancez avec --force pour les remplacer",
      "les données contiennent déjà 1 rapatriement : relancez avec --force pour les remplacer",
      "les données contiennent déjà 2 rapatriements : relancez avec --force pour les remplacer",
      "les données contiennent déjà 3 rapatriements : relancez avec --force pour les remplacer",
    ]);
  });

  test("keep the operator guide's words for a missing variable", () => {
    expect(text("fr", { key: "missingVariable", params: { variable: "AWS_REGION" } })).toBe(
      "AWS_REGION est obligatoire",
    );
  });
});

/** The field errors `parse` throws. */
function errorsOf(parse: () => unknown): FieldError[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors ?? [];
    throw error;
  }
  return [];
}

describe("every rule the checks give", () => {
  test("has both renderings, and its English is the field error's message", () => {
    const long = (n: number) => "x".repeat(n);
    const errors = [
      ...errorsOf(() => parseCreate({})),
      ...errorsOf(() => parseCreate("text")),
      ...errorsOf(() =>
        parseCreate({ ...sampleInput(1), reference: "a b", origin: " L", destination: long(65) }),
      ),
      ...errorsOf(() => parseCreate({ ...sampleInput(2), origin: "", lines: [] })),
      ...errorsOf(() => parseCreate({ ...sampleInput(3), lines: "x", status: "lost", id: "i" })),
      ...errorsOf(() =>
        parseCreate({
          ...sampleInput(4),
          lines: Array.from({ length: 501 }, () => ({ sku: "A", quantity: 1 })),
          createdBy: "me",
          colour: "red",
        }),
      ),
      ...errorsOf(() =>
        parseCreate({ ...sampleInput(5), lines: [{ sku: "A", quantity: 0 }, 7, { sku: 3 }] }),
      ),
      ...errorsOf(() =>
        parseCreate({
          ...sampleInput(6),
          destination: sampleInput(6).origin,
          requestedAt: "2026-03-02T00:00:00Z",
          expectedAt: "2026-03-01T00:00:00Z",
          comment: "\ud800",
        }),
      ),
      ...errorsOf(() => parseCreate({ ...sampleInput(7), requestedAt: "soon" })),
      ...errorsOf(() => parsePatch({})),
      ...errorsOf(() => parseId("")),
      ...errorsOf(() => parseListQuery({ colour: "red", status: "lost", limit: "0", origin: "" })),
      ...errorsOf(() => parseImportedRecord({ ...sampleInput(8), version: 1.5 }, 0)),
      ...errorsOf(() => parseCommand({ action: "archive" })),
      ...errorsOf(() => parseCommand({ action: "update", id: "", expectedVersion: 0 })),
      ...errorsOf(() =>
        parseOperation({ action: "update", id: "r", data: {}, expectedVersion: 2 ** 53 }),
      ),
    ];
    const rules = new Set(errors.map((e) => e.rule));
    expect(rules.size).toBeGreaterThanOrEqual(20);
    // No check is left without a rule of its own.
    expect(rules.has("invalid")).toBe(false);
    for (const e of errors) {
      expect(e.message).toBe(ruleText("en", e));
      expect(ruleText("fr", e)).not.toBe("");
      expect(ruleText("fr", e)).not.toBe(e.message);
    }
  });
});

describe("the language of a request", () => {
  test.each([
    [undefined, "en"],
    ["", "en"],
    ["fr", "fr"],
    ["FR", "fr"],
    ["fr-FR", "fr"],
    ["fr-CA,fr;q=0.9", "fr"],
    ["fr;q=0.9, en;q=0.8", "fr"],
    ["en;q=0.8, fr;q=0.9", "fr"],
    ["en, fr", "en"],
    ["fr, en", "fr"],
    ["en-GB,en;q=0.9,fr;q=0.8", "en"],
    ["de-DE, fr;q=0.5", "fr"],
    ["de, it", "en"],
    ["*", "en"],
    ["fr;q=0", "en"],
    ["fr;q=0.000, en;q=0.1", "en"],
    ["fr; q=1.0", "fr"],
    ["fr;q=1.5, en;q=0.5", "en"],
    ["fr;q=abc", "en"],
    ["en;q=0.9, fr;q=10.5", "en"],
    ["en;q=0.5, fr;q=1", "fr"],
    ["en;q=0.2, fr;q=0.25", "fr"],
    ["en;q=0.9, fr;q=1.00", "fr"],
    ["en;q=0.5, fr;q= 0.9", "en"],
    ["fr;level=1;q=0.7, en;q=0.6", "fr"],
    ["français", "en"],
    [" ,, fr ;Q=0.4 , ", "fr"],
  ])("Accept-Language %j asks for %s", (header, language) => {
    expect(languageOf(header)).toBe(language);
  });
});
