/**
 * What a client is told about a bad body, query or id: every field at fault,
 * with its path and the message the API reference documents. Pure domain
 * functions: no storage involved.
 */
import { describe, expect, test } from "vitest";
import { ValidationError } from "../../../lambda/errors.ts";
import { ruleText } from "../../../lambda/messages/render.ts";
import {
  crossFieldErrors,
  LONE_SURROGATE,
  parseCreate,
  parseId,
  parseImportedRecord,
  parseListQuery,
  parsePatch,
} from "../../../lambda/rapatriements/validation.ts";
import { sampleInput } from "../../support/local-s3.ts";

/** The field errors `parse` throws, sorted by path, each as the API says it in English. */
function errorsOf(parse: () => unknown): { path: string; message: string }[] {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const errors = (error as ValidationError).errors ?? [];
    return [...errors]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((e) => ({ path: e.path, message: ruleText("en", e) }));
  }
  throw new Error("accepted, not refused");
}

const STATUS_LIST = "draft, requested, in_transit, received, cancelled";
const ISO_MESSAGE = "must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T08:00:00Z";

describe("a create body", () => {
  test("with a key named like an object's own property is refused as an unknown field", () => {
    for (const key of ["__proto__", "constructor", "toString"]) {
      const body = JSON.parse(JSON.stringify(sampleInput(1)).replace("{", `{"${key}":{"x":1},`));
      expect(
        errorsOf(() => parseCreate(body)),
        key,
      ).toEqual([{ path: key, message: "unknown field" }]);
    }
  });

  test("that is not a JSON object is refused as a whole", () => {
    for (const body of [null, [], "text", 3]) {
      expect(errorsOf(() => parseCreate(body))).toEqual([
        { path: "", message: "the body must be a JSON object" },
      ]);
    }
  });

  test("with every field missing names each required one", () => {
    expect(errorsOf(() => parseCreate({}))).toEqual([
      { path: "destination", message: "is required" },
      { path: "lines", message: "is required" },
      { path: "origin", message: "is required" },
      { path: "reference", message: "is required" },
    ]);
  });

  test("with every field of the wrong type says what each must be", () => {
    const body = {
      reference: 5,
      origin: 5,
      destination: "",
      lines: "a line",
      status: "done",
      requestedAt: "yesterday",
      expectedAt: 7,
      comment: false,
    };
    expect(errorsOf(() => parseCreate(body))).toEqual([
      { path: "comment", message: "must be a string" },
      { path: "destination", message: "must not be empty" },
      { path: "expectedAt", message: ISO_MESSAGE },
      { path: "lines", message: "must be an array of lines" },
      { path: "origin", message: "must be a string" },
      { path: "reference", message: "must be a string" },
      { path: "requestedAt", message: ISO_MESSAGE },
      { path: "status", message: `must be one of ${STATUS_LIST}` },
    ]);
  });

  test("with bad text: reference characters, spaces around a site, length, lone surrogates", () => {
    const body = sampleInput(1, {
      reference: "RAP 1",
      origin: " LYON-01",
      destination: "P".repeat(65),
      comment: "\uD800",
    });
    expect(errorsOf(() => parseCreate(body))).toEqual([
      { path: "comment", message: LONE_SURROGATE },
      { path: "destination", message: "must be at most 64 characters" },
      { path: "origin", message: "must not start or end with spaces" },
      { path: "reference", message: "must be 1 to 64 of A-Z a-z 0-9 . _ - /" },
    ]);
    // 64 characters, counted as a person counts them, are enough.
    expect(parseCreate(sampleInput(1, { destination: "😀".repeat(64) })).destination).toBe(
      "😀".repeat(64),
    );
  });

  test("with bad lines: none, too many, not objects, bad quantities, unknown fields", () => {
    const line = { sku: "SKU-1", quantity: 1 };
    expect(errorsOf(() => parseCreate(sampleInput(1, { lines: [] })))).toEqual([
      { path: "lines", message: "must hold at least 1 line" },
    ]);
    expect(
      errorsOf(() =>
        parseCreate(sampleInput(1, { lines: Array.from({ length: 501 }, () => line) })),
      ),
    ).toEqual([{ path: "lines", message: "must hold at most 500 lines" }]);
    const lines = [
      5,
      { sku: "SKU-2", quantity: 0 },
      { sku: "SKU-3", quantity: "3" },
      { sku: "SKU-4" },
      { sku: "SKU-5", quantity: 1, id: "x", colour: "red" },
    ];
    expect(errorsOf(() => parseCreate(sampleInput(1, { lines })))).toEqual([
      { path: "lines[0]", message: "must be an object" },
      { path: "lines[1].quantity", message: "must be a number greater than 0" },
      { path: "lines[2].quantity", message: "must be a number" },
      { path: "lines[3].quantity", message: "is required" },
      // Inside a line, `id` is just a field this API does not know.
      { path: "lines[4].colour", message: "unknown field" },
      { path: "lines[4].id", message: "unknown field" },
    ]);
  });

  test("with fields the server sets, or does not know, names each", () => {
    const body = sampleInput(1, { id: "x", version: 2, createdBy: "me", colour: "red" });
    expect(errorsOf(() => parseCreate(body))).toEqual([
      { path: "colour", message: "unknown field" },
      {
        path: "createdBy",
        message: "is read-only: the server takes it from the caller's authenticated identity",
      },
      { path: "id", message: "is read-only: the server sets it" },
      { path: "version", message: "is read-only: the server sets it" },
    ]);
  });

  test("with rules across fields: same sites, expected before requested", () => {
    const body = sampleInput(1, {
      destination: "LYON-01",
      requestedAt: "2026-03-02T08:00:00Z",
      expectedAt: "2026-03-01T08:00:00Z",
    });
    expect(errorsOf(() => parseCreate(body))).toEqual([
      { path: "destination", message: "must differ from origin" },
      { path: "expectedAt", message: "must not be before requestedAt" },
    ]);
  });

  test("with two problems in one field tells the first only", () => {
    // A date without a time zone is refused by its format; it is also before
    // requestedAt, which is not said twice.
    const body = sampleInput(1, {
      requestedAt: "2026-03-02T08:00:00Z",
      expectedAt: "2026-03-01",
    });
    expect(errorsOf(() => parseCreate(body))).toEqual([
      { path: "expectedAt", message: ISO_MESSAGE },
    ]);
  });
});

describe("the rules across fields", () => {
  test("judge only what is there, and dates given as text", () => {
    expect(crossFieldErrors({})).toEqual([]);
    expect(crossFieldErrors({ origin: "A", destination: "B" })).toEqual([]);
    expect(crossFieldErrors({ requestedAt: 2, expectedAt: 1 })).toEqual([]);
    expect(crossFieldErrors({ requestedAt: "2026-03-02T08:00:00Z", expectedAt: 1 })).toEqual([]);
    expect(crossFieldErrors({ requestedAt: "2026-03-02T08:00:00Z" })).toEqual([]);
    expect(
      crossFieldErrors({ requestedAt: "2026-03-01T08:00:00Z", expectedAt: "2026-03-02T08:00:00Z" }),
    ).toEqual([]);
    expect(
      crossFieldErrors({ requestedAt: "not a date", expectedAt: "2026-03-02T08:00:00Z" }),
    ).toEqual([]);
  });
});

describe("a patch", () => {
  test("that changes no field is refused, saying so", () => {
    expect(errorsOf(() => parsePatch({}))).toEqual([
      { path: "", message: "the patch changes no field" },
    ]);
  });

  test("that is not an object, or has a field at fault, is refused with each", () => {
    expect(errorsOf(() => parsePatch([]))).toEqual([
      { path: "", message: "the body must be a JSON object" },
    ]);
    expect(errorsOf(() => parsePatch({ status: "done", comment: null, version: 3 }))).toEqual([
      { path: "status", message: `must be one of ${STATUS_LIST}` },
      { path: "version", message: "is read-only: the server sets it" },
    ]);
  });
});

describe("a list query", () => {
  test("takes each filter, trims a comma list of statuses, and has no cursor unless given", () => {
    const parsed = parseListQuery({
      status: "draft, requested,draft",
      origin: "O".repeat(64),
      limit: "100",
    });
    expect(parsed).toStrictEqual({
      statuses: ["draft", "requested"],
      origin: "O".repeat(64),
      limit: 100,
    });
    expect(parseListQuery({ cursor: "abc" })).toStrictEqual({ limit: 20, cursor: "abc" });
  });

  test("refuses each bad parameter with what is allowed", () => {
    const query = {
      sort: "asc",
      status: "draft,shipped",
      origin: "",
      destination: "D".repeat(65),
      reference: "\uDC00",
      limit: "0",
    };
    expect(errorsOf(() => parseListQuery(query))).toEqual([
      { path: "destination", message: "must be 1 to 64 characters" },
      { path: "limit", message: "must be an integer from 1 to 100" },
      { path: "origin", message: "must be 1 to 64 characters" },
      { path: "reference", message: LONE_SURROGATE },
      {
        path: "sort",
        message:
          "unknown parameter; allowed: status, origin, destination, reference, limit, cursor",
      },
      { path: "status", message: `must be a comma list of ${STATUS_LIST}` },
    ]);
  });
});

describe("an id", () => {
  test("is 1 to 128 characters of text", () => {
    expect(parseId("I".repeat(128))).toBe("I".repeat(128));
    const tooLong = "must be 1 to 128 characters, an id as this API returned it";
    expect(errorsOf(() => parseId(""))).toEqual([{ path: "id", message: tooLong }]);
    expect(errorsOf(() => parseId("I".repeat(129)))).toEqual([{ path: "id", message: tooLong }]);
    expect(errorsOf(() => parseId(5))).toEqual([{ path: "id", message: "must be a string" }]);
    expect(errorsOf(() => parseId("\uD800"))).toEqual([{ path: "id", message: LONE_SURROGATE }]);
  });
});

describe("an imported record", () => {
  const stored = {
    id: "rap-1",
    createdAt: "2026-03-01T08:00:00Z",
    updatedAt: "2026-03-02T08:00:00Z",
    version: 3,
    createdBy: "arn:aws:iam::123456789012:user/alice",
    updatedBy: null,
  };

  test("keeps the server's fields it holds, and adds none it does not", () => {
    expect(parseImportedRecord({ ...sampleInput(1), ...stored }, 0)).toStrictEqual({
      fields: { ...sampleInput(1), status: "draft" },
      ...stored,
    });
    expect(parseImportedRecord(sampleInput(2), 1)).toStrictEqual({
      fields: { ...sampleInput(2), status: "draft" },
    });
  });

  test("that is not an object is refused under its index", () => {
    for (const raw of [5, null, [sampleInput(1)], "text"]) {
      expect(errorsOf(() => parseImportedRecord(raw, 12))).toEqual([
        { path: "[12]", message: "must be an object" },
      ]);
    }
  });

  test("names each bad field, client's and server's, under its index", () => {
    const raw = { ...sampleInput(1, { lines: [] }), ...stored, id: "", version: "3" };
    expect(errorsOf(() => parseImportedRecord(raw, 3))).toEqual([
      { path: "[3].id", message: "must not be empty" },
      { path: "[3].lines", message: "must hold at least 1 line" },
      { path: "[3].version", message: "must be an integer" },
    ]);
  });

  test("with only a client field at fault is refused", () => {
    expect(
      errorsOf(() => parseImportedRecord({ ...sampleInput(1, { lines: [] }), ...stored }, 4)),
    ).toEqual([{ path: "[4].lines", message: "must hold at least 1 line" }]);
  });

  test("with only a server field at fault is refused all the same", () => {
    for (const version of [0, 1.5]) {
      const paths = errorsOf(() =>
        parseImportedRecord({ ...sampleInput(1), ...stored, version }, 7),
      ).map((e) => e.path);
      expect(paths, String(version)).toEqual(["[7].version"]);
    }
    expect(
      errorsOf(() => parseImportedRecord({ ...sampleInput(1), createdAt: "yesterday" }, 7)),
    ).toEqual([{ path: "[7].createdAt", message: ISO_MESSAGE }]);
  });
});
