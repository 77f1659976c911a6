/**
 * An object in the other format, or in none, is named for what it is before
 * anything is trusted: STORAGE_UNREADABLE with a message that says which
 * setting or action fixes it, and the object left exactly as it is. Through
 * the real S3 API of the local server.
 */
import { describe, test } from "vitest";
import { rapatriementsSchema } from "../../../lambda/rapatriements/tables.ts";
import { currentVersion } from "../../../lambda/storage/migrations.ts";
import { loadSqlJs } from "../../../lambda/storage/sql-js.ts";
import {
  expectStoredAndRefused as expectRefused,
  getBytes,
  newEngine,
  newTarget,
  sampleInput,
} from "../../support/local-s3.ts";

const KEPT = "l'objet n'a pas été modifié";
const SQLITE_UNDER_JSON = `l'objet est un fichier SQLite alors que STORAGE_STRATEGY=json : corrigez STORAGE_STRATEGY ou importez le fichier ; ${KEPT}`;
const JSON_UNDER_SQLITE = `l'objet est un document JSON alors que STORAGE_STRATEGY=sqlite : corrigez STORAGE_STRATEGY ou importez le fichier ; ${KEPT}`;
const NOT_SQLITE = `l'objet n'est pas un fichier SQLite (en-tête absent) ; ${KEPT}`;

describe("a SQLite file that is not a rapatriements database", () => {
  test("an operator's own sqlite3 file dropped in place is refused, naming its application_id", async () => {
    const SQL = await loadSqlJs();
    const other = new SQL.Database();
    other.run("CREATE TABLE stock (sku TEXT PRIMARY KEY, quantity INTEGER)");
    other.run("INSERT INTO stock VALUES ('SKU-1', 4)");
    const file = other.export();
    other.close();

    await expectRefused(
      await newTarget("sqlite"),
      file,
      `ce fichier SQLite n'est pas une base rapatriements (application_id 0) : importez-le plutôt que de le déposer tel quel ; ${KEPT}`,
    );
  });
});

describe("an object in another format than STORAGE_STRATEGY says", () => {
  test("a SQLite file under STORAGE_STRATEGY=json is named as one, as is its header alone", async () => {
    const sqlite = await newTarget("sqlite");
    await (await newEngine(sqlite)).service.create(sampleInput(1));
    const file = await getBytes(sqlite);

    await expectRefused(await newTarget("json"), file, SQLITE_UNDER_JSON);
    await expectRefused(await newTarget("json"), file.slice(0, 16), SQLITE_UNDER_JSON);
  });

  test.each([
    ["an object", "{}"],
    ["a list", "[]"],
    ["an object after spaces", '  {"format":"x"}'],
    ["a list after a line break", "\n[1]"],
    ["an object after CR LF", "\r\n{}"],
    ["an object after a tab", "\t{}"],
    ["an object after all four", " \t\r\n {}"],
  ])("a JSON document (%s) under STORAGE_STRATEGY=sqlite is named as one", async (_label, body) => {
    await expectRefused(await newTarget("sqlite"), body, JSON_UNDER_SQLITE);
  });

  test.each([
    ["text", "rapatriements"],
    ["text after spaces", "   x{}"],
    ["only spaces", "  \n "],
    ["the start of a SQLite header", "SQLite format"],
  ])(
    "other bytes (%s) under STORAGE_STRATEGY=sqlite are not a SQLite file",
    async (_label, body) => {
      await expectRefused(await newTarget("sqlite"), body, NOT_SQLITE);
    },
  );

  test("a SQLite file from newer code is refused, asking for an update", async () => {
    const target = await newTarget("sqlite");
    await (await newEngine(target)).service.create(sampleInput(1));
    const SQL = await loadSqlJs();
    const db = new SQL.Database(await getBytes(target));
    const newer = currentVersion(rapatriementsSchema) + 1;
    db.run(`PRAGMA user_version = ${newer}`);
    const file = db.export();
    db.close();

    await expectRefused(
      target,
      file,
      `le fichier sqlite est au schéma ${newer}, plus récent que celui que ce code connaît (${newer - 1}) : mettez à jour l'application ; le fichier n'a pas été modifié`,
    );
  });
});
