/**
 * Domain: the tables that hold rapatriements, as forward-only migrations. A
 * new version appends a migration; a shipped migration is never edited.
 */
import type { DatabaseSchema } from "../storage/schema.ts";

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
  ],
};
