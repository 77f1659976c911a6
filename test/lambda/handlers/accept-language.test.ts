/**
 * The HTTP API in the caller's language: with `Accept-Language: fr` an error
 * answers the same status, code, type and paths as in English, its words in
 * French; without the header (or asking for a language not served), in
 * English. Through the HTTP function as API Gateway calls it, on the real S3
 * API of the local server; every answer conforms to docs/openapi.yaml.
 */
import { describe, expect, test } from "vitest";
import { newHttpApi } from "../../support/http-api-events.ts";
import { sampleInput } from "../../support/local-s3.ts";
import { openApiChecker } from "../../support/openapi.ts";

const conforms = openApiChecker();

type Api = Awaited<ReturnType<typeof newHttpApi>>;

/** A body with a fault in nearly every field, and an unknown one. */
const BAD_BODY = {
  reference: "RAP 1",
  origin: "LYON-01",
  destination: "LYON-01",
  lines: [{ sku: "PAL-EUR", quantity: 0 }, { sku: "" }],
  status: "lost",
  requestedAt: "2026-03-02T00:00:00Z",
  expectedAt: "yesterday",
  comment: "\ud800",
  colour: "red",
};

function post(api: Api, body: unknown, headers: Record<string, string> = {}) {
  return api.send({
    routeKey: "POST /rapatriements",
    rawPath: "/rapatriements",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
  });
}

function problemOf(sent: { json: unknown }) {
  return sent.json as {
    type: string;
    title: string;
    status: number;
    detail: string;
    code: string;
    errors: { path: string; message: string }[];
  };
}

describe("POST /rapatriements with a bad body", () => {
  test("answers the same 400, codes and paths in French to Accept-Language: fr, in English without it", async () => {
    const api = await newHttpApi();
    const english = await post(api, BAD_BODY);
    const french = await post(api, BAD_BODY, { "Accept-Language": "fr" });

    expect(english.status).toBe(400);
    expect(french.status).toBe(400);
    const en = problemOf(english);
    const fr = problemOf(french);
    const { title: _t, detail: _d, errors: enErrors, ...enRest } = en;
    const { title: _u, detail: _e, errors: frErrors, ...frRest } = fr;
    expect({ ...frRest, requestId: "" }).toEqual({ ...enRest, requestId: "" });
    expect(fr.code).toBe("VALIDATION_FAILED");
    expect(frErrors.map((e) => e.path)).toEqual(enErrors.map((e) => e.path));

    expect(en.title).toBe("Invalid request");
    expect(en.detail).toBe("The request is invalid.");
    expect(enErrors).toEqual([
      { path: "reference", message: "must be 1 to 64 of A-Z a-z 0-9 . _ - /" },
      { path: "lines[0].quantity", message: "must be a number greater than 0" },
      { path: "lines[1].sku", message: "must not be empty" },
      { path: "lines[1].quantity", message: "is required" },
      {
        path: "status",
        message: "must be one of draft, requested, in_transit, received, cancelled",
      },
      {
        path: "expectedAt",
        message: "must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T08:00:00Z",
      },
      {
        path: "comment",
        message: "must be valid Unicode text (it holds a lone UTF-16 surrogate)",
      },
      { path: "colour", message: "unknown field" },
      { path: "destination", message: "must differ from origin" },
    ]);

    expect(fr.title).toBe("Requête invalide");
    expect(fr.detail).toBe("la requête est invalide");
    expect(frErrors).toEqual([
      { path: "reference", message: "doit faire de 1 à 64 caractères parmi A-Z a-z 0-9 . _ - /" },
      { path: "lines[0].quantity", message: "doit être un nombre supérieur à 0" },
      { path: "lines[1].sku", message: "ne doit pas être vide" },
      { path: "lines[1].quantity", message: "est obligatoire" },
      {
        path: "status",
        message: "doit valoir l'un de : draft, requested, in_transit, received, cancelled",
      },
      {
        path: "expectedAt",
        message:
          "doit être une date et heure ISO 8601 avec son fuseau, par exemple 2026-03-01T08:00:00Z",
      },
      {
        path: "comment",
        message: "doit être un texte Unicode valide (il contient un demi-caractère UTF-16 isolé)",
      },
      { path: "colour", message: "champ inconnu" },
      { path: "destination", message: "doit être différente de origin" },
    ]);

    // Each answer says its language and that it depends on the header.
    expect(english.recorded.headers["content-language"]).toBe("en");
    expect(french.recorded.headers["content-language"]).toBe("fr");
    for (const sent of [english, french]) {
      expect(sent.recorded.headers.vary).toBe("Accept-Language");
      expect(sent.recorded.headers["content-type"]).toBe("application/problem+json");
      expect(conforms(sent.recorded)).toEqual([]);
    }
    // Bad input changes nothing, in any language.
    expect(await api.service.listAll()).toEqual([]);
  });

  test.each([
    ["fr-FR", "fr"],
    ["fr;q=0.9, en;q=0.8", "fr"],
    ["en-GB, fr;q=0.5", "en"],
    ["de, fr;q=0.3", "fr"],
    ["de", "en"],
    ["fr;q=0, en;q=0.1", "en"],
  ])("Accept-Language %j is answered in %s", async (header, language) => {
    const api = await newHttpApi();
    const sent = await post(api, { ...sampleInput(1), lines: [] }, { "accept-language": header });
    expect(sent.status).toBe(400);
    expect(sent.recorded.headers["content-language"]).toBe(language);
    expect(problemOf(sent).errors).toEqual([
      {
        path: "lines",
        message: language === "fr" ? "doit contenir au moins 1 ligne" : "must hold at least 1 line",
      },
    ]);
  });
});

describe("other answers in French", () => {
  test("a 404, a 409 and a 412 say their detail in French, with the same codes", async () => {
    const api = await newHttpApi();
    const fr = { "accept-language": "fr" };
    const created = await post(api, sampleInput("fr-1"), fr);
    expect(created.status).toBe(201);
    const { id } = created.json as { id: string };

    const missing = await api.send({
      routeKey: "GET /rapatriements/{id}",
      rawPath: "/rapatriements/absent",
      pathParameters: { id: "absent" },
      headers: fr,
    });
    expect(missing.status).toBe(404);
    expect(problemOf(missing)).toMatchObject({
      code: "NOT_FOUND",
      title: "Introuvable",
      detail: "aucun rapatriement n'a l'id « absent »",
    });

    const duplicate = await post(api, sampleInput("fr-1"), fr);
    expect(duplicate.status).toBe(409);
    expect(problemOf(duplicate)).toMatchObject({
      code: "DUPLICATE_REFERENCE",
      detail: "un rapatriement a déjà la référence « RAP-fr-1 »",
    });

    const stale = await api.send({
      routeKey: "PATCH /rapatriements/{id}",
      rawPath: `/rapatriements/${id}`,
      pathParameters: { id },
      body: JSON.stringify({ comment: "x" }),
      headers: { ...fr, "content-type": "application/json", "if-match": '"7"' },
    });
    expect(stale.status).toBe(412);
    expect(problemOf(stale)).toMatchObject({
      code: "VERSION_MISMATCH",
      detail: "le rapatriement est à la version 1, pas 7",
    });
    for (const sent of [missing, duplicate, stale]) {
      expect(sent.recorded.headers["content-language"]).toBe("fr");
      expect(conforms(sent.recorded)).toEqual([]);
    }
  });

  test("a record reads the same in any language: no Content-Language, and a 304 still answers its ETag", async () => {
    const api = await newHttpApi();
    const created = await post(api, sampleInput("same"));
    const { id } = created.json as { id: string };
    const read = (headers: Record<string, string>) =>
      api.send({
        routeKey: "GET /rapatriements/{id}",
        rawPath: `/rapatriements/${id}`,
        pathParameters: { id },
        headers,
      });
    const english = await read({});
    const french = await read({ "accept-language": "fr" });
    expect(french.status).toBe(200);
    expect(french.json).toEqual(english.json);
    expect(french.recorded.headers.etag).toBe(english.recorded.headers.etag);
    expect(french.recorded.headers["content-language"]).toBeUndefined();
    expect(french.recorded.headers.vary).toBeUndefined();
    const notModified = await read({
      "accept-language": "fr",
      "if-none-match": english.recorded.headers.etag ?? "",
    });
    expect(notModified.status).toBe(304);
    expect(notModified.recorded.headers.etag).toBe(english.recorded.headers.etag);
  });
});
