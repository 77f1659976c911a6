/**
 * Domain: the tables that hold rapatriements, as forward-only migrations. A
 * new version appends a migration; a shipped migration is never edited.
 */
import type { Database } from "sql.js";
import type { DatabaseSchema } from "../storage/migrations.ts";
import { OUTBOX_TABLE_SQL, sealOutbox } from "./outbox.ts";
import {
  type Action,
  ANY_REQUEST,
  API_KEY_WINDOW_MS,
  COMMAND_RECEIPT_WINDOW_MS,
  expiryMinute,
  fingerprint,
  fingerprintBits,
  LEGACY_SCOPE,
  receiptHash,
  receiptKey,
} from "./receipts.ts";
import { pruneReceipts } from "./repository.ts";

/** "RAPA" in ASCII: stamped in the SQLite header as `PRAGMA application_id`. */
export const APPLICATION_ID = 0x52415041;

export const rapatriementsSchema: DatabaseSchema = {
  name: "rapatriements",
  applicationId: APPLICATION_ID,
  migrations: [
    {
      version: 1,
      description: "rapatriements, their lines, idempotency keys",
      up(db) {
        db.run(`
          CREATE TABLE rapatriements (
            seq          INTEGER PRIMARY KEY,
            id           TEXT NOT NULL UNIQUE,
            reference    TEXT NOT NULL UNIQUE,
            origin       TEXT NOT NULL,
            destination  TEXT NOT NULL,
            status       TEXT NOT NULL
                         CHECK (status IN ('draft', 'requested', 'in_transit', 'received', 'cancelled')),
            requested_at TEXT,
            expected_at  TEXT,
            comment      TEXT,
            created_at   TEXT NOT NULL,
            updated_at   TEXT NOT NULL,
            version      INTEGER NOT NULL CHECK (version >= 1)
          );
          CREATE INDEX rapatriements_by_status ON rapatriements (status, seq);
          CREATE INDEX rapatriements_by_origin ON rapatriements (origin, seq);
          CREATE INDEX rapatriements_by_destination ON rapatriements (destination, seq);
          CREATE TABLE rapatriement_lines (
            rapatriement_id TEXT NOT NULL,
            position        INTEGER NOT NULL,
            sku             TEXT NOT NULL,
            quantity        REAL NOT NULL CHECK (quantity > 0),
            unit            TEXT,
            PRIMARY KEY (rapatriement_id, position)
          ) WITHOUT ROWID;
          CREATE TABLE idempotency_keys (
            key             TEXT PRIMARY KEY,
            request_hash    TEXT NOT NULL,
            rapatriement_id TEXT NOT NULL,
            response        TEXT NOT NULL,
            created_at      TEXT NOT NULL
          ) WITHOUT ROWID;
        `);
      },
    },
    {
      version: 2,
      description: "receipts of applied commands, so a redelivered message changes nothing",
      up(db) {
        db.run(`
          CREATE TABLE command_receipts (
            key        TEXT PRIMARY KEY,
            action     TEXT NOT NULL,
            response   TEXT NOT NULL,
            created_at TEXT NOT NULL
          ) WITHOUT ROWID;
          CREATE INDEX command_receipts_by_age ON command_receipts (created_at);
        `);
      },
    },
    {
      version: 3,
      description:
        "receipts that keep what a replay needs, not a copy of the record; list positions never reused",
      up(db) {
        db.run(`
          CREATE TABLE receipts (
            key             TEXT PRIMARY KEY,
            fingerprint     TEXT NOT NULL,
            action          TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
            rapatriement_id TEXT NOT NULL,
            version         INTEGER NOT NULL,
            expires_at      TEXT NOT NULL
          ) WITHOUT ROWID;
          CREATE INDEX receipts_by_expiry ON receipts (expires_at);
          CREATE TABLE counters (
            name  TEXT PRIMARY KEY,
            value INTEGER NOT NULL
          ) WITHOUT ROWID;
        `);
        carryOverSchema2Receipts(db);
        db.run("DROP TABLE idempotency_keys; DROP TABLE command_receipts;");
      },
    },
    {
      version: 4,
      description: "who created and who last changed each rapatriement",
      up(db) {
        // Each caller's name (an ARN is ~100 characters) is kept once in
        // `actors` and records point at it: a name per record would add a
        // quarter to a half to the object, which every write uploads whole.
        // No default and no backfill: who wrote an older record is not known,
        // and saying so (NULL) is the truth. No rows are added, so the JSON
        // codec's rows of an older document go in before it runs.
        db.run(`
          CREATE TABLE actors (
            id   INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
          );
          ALTER TABLE rapatriements ADD COLUMN created_by INTEGER;
          ALTER TABLE rapatriements ADD COLUMN updated_by INTEGER;
        `);
      },
    },
    {
      version: 5,
      description: "receipts of a few integers, each scoped to its caller",
      up(db) {
        // A receipt was 256 to 297 bytes (its key and the record's id as
        // text, a 64-character fingerprint, an ISO date and an index on it),
        // and every command keeps one for days: 20,000 commands added 5 to
        // 6 MB to an object that every write uploads whole. Now a rowid table
        // keyed by a hash, with no index (see PRUNE_INTERVAL_MINUTES): 35
        // bytes a receipt in the SQLite file, 51 in the JSON document, where
        // the table is compact (test/reliability/receipt-size.test.ts).
        db.run(`
          ALTER TABLE receipts RENAME TO receipts_schema4;
          CREATE TABLE receipts (
            key_hash       INTEGER PRIMARY KEY,
            fingerprint    INTEGER NOT NULL,
            record_seq     INTEGER NOT NULL,
            version        INTEGER NOT NULL,
            expires_minute INTEGER NOT NULL
          );
        `);
        carryOverSchema4Receipts(db);
        db.run("DROP TABLE receipts_schema4");
      },
    },
    {
      version: 6,
      description: "the outbox: each change's event, saved with the change itself",
      up(db) {
        // Kept by age (OUTBOX_WINDOW_MS), never by traffic: see outbox.ts.
        db.run(OUTBOX_TABLE_SQL);
      },
    },
  ],
  housekeeping: (db, save) => {
    pruneReceipts(db, save.now);
    sealOutbox(db, save);
  },
  compactTables: ["receipts", "outbox"],
};

/**
 * Receipts written before schema 3 held whole responses. What a replay needs
 * is kept (key, action, id, version) with the windows of schema 3: 24 hours
 * after creation for the API's keys, 15 days for commands. Their request
 * fingerprint was not kept: an empty one replays whatever is sent under the
 * key, as schema 2 did, until the receipt expires.
 */
function carryOverSchema2Receipts(db: Database): void {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO receipts (key, fingerprint, action, rapatriement_id, version, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const expiry = (createdAt: unknown, windowMs: number) =>
    new Date(new Date(String(createdAt)).getTime() + windowMs).toISOString();
  try {
    const keys = db.exec(
      "SELECT key, request_hash, rapatriement_id, created_at FROM idempotency_keys",
    )[0];
    for (const [key, hash, id, createdAt] of keys?.values ?? []) {
      const expires = expiry(createdAt, API_KEY_WINDOW_MS);
      insert.run([receiptKey.api(String(key)), String(hash), "create", String(id), 1, expires]);
    }
    const receipts = db.exec("SELECT key, action, response, created_at FROM command_receipts")[0];
    for (const [key, action, response, createdAt] of receipts?.values ?? []) {
      const record = (
        JSON.parse(String(response)) as { record?: { id?: unknown; version?: unknown } }
      ).record;
      if (typeof record?.id !== "string" || typeof record.version !== "number") continue;
      // Event and message ids were already namespaced; the rest were idempotency keys.
      const name = String(key);
      const namespaced =
        name.startsWith("event:") || name.startsWith("sqs-message:")
          ? name
          : receiptKey.command(name);
      const expires = expiry(createdAt, COMMAND_RECEIPT_WINDOW_MS);
      insert.run([namespaced, "", String(action), record.id, record.version, expires]);
    }
  } finally {
    // Stryker disable next-line CallExpression: sql.js frees a statement only when told, and exposes no count of them: a leak no test can observe
    insert.free();
  }
}

/**
 * Receipts written before schema 5 keep answering replays until they expire:
 * under the legacy scope, since their keys were shared by every caller (see
 * `LEGACY_SCOPE`); with the first 48 bits of their fingerprint, or for the
 * empty one of schema 2 the rule it had (any request of the same action);
 * with the record's list position in place of its id (0 once the record is
 * gone: a create's replay then says so, an update's or delete's takes its id
 * from the request); their expiry rounded up to the minute. An expiry that
 * is not a date (only a hand edit makes one) leaves the receipt out: it was
 * never a window.
 */
function carryOverSchema4Receipts(db: Database): void {
  const rows =
    db.exec(
      `SELECT r.key, r.fingerprint, r.action, COALESCE(p.seq, 0), r.version, r.expires_at
       FROM receipts_schema4 r LEFT JOIN rapatriements p ON p.id = r.rapatriement_id`,
    )[0]?.values ?? [];
  // Two keys with one hash (about 1 in 2 million among 100,000 receipts): the first is kept.
  const insert = db.prepare(
    `INSERT OR IGNORE INTO receipts (key_hash, fingerprint, record_seq, version, expires_minute)
     VALUES (?, ?, ?, ?, ?)`,
  );
  try {
    for (const [key, print, action, seq, version, expiresAt] of rows) {
      const expires = Date.parse(String(expiresAt));
      if (Number.isNaN(expires)) continue;
      insert.run([
        receiptHash(LEGACY_SCOPE, String(key)),
        legacyFingerprint(String(print), String(action) as Action),
        Number(seq),
        Number(version),
        expiryMinute(expires),
      ]);
    }
  } finally {
    // Stryker disable next-line CallExpression: sql.js frees a statement only when told, and exposes no count of them: a leak no test can observe
    insert.free();
  }
}

/**
 * The 48 bits a schema-5 receipt keeps of a schema-4 fingerprint. Any text
 * other than a SHA-256 in hex (only a hand edit makes one) matched no
 * request before: its own hash matches none now.
 */
function legacyFingerprint(print: string, action: Action): number {
  if (print === "") return ANY_REQUEST[action];
  return fingerprintBits(/^[0-9a-f]{64}$/.test(print) ? print : fingerprint(print));
}
