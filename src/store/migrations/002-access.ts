import type { Migration } from './migration.js';

/**
 * Offline access (docs/passes.md, docs/pins.md): the issuer keyring, the revocation list, use counts and replay
 * marks of passes, per-lock PIN secrets, one-time PIN marks, keypad lock-outs, and the card list. The list
 * versions and the subject-hash key live in `meta`.
 */
export const accessMigration: Migration = {
  version: 2,
  name: 'access',
  up(db) {
    db.exec(`
      CREATE TABLE access_keys (
        kid      TEXT PRIMARY KEY,
        alg      TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
        jwk      TEXT NOT NULL,
        added_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE access_revocations (
        kind     TEXT NOT NULL CHECK (kind IN ('pass', 'sub')),
        value    TEXT NOT NULL,
        reason   TEXT,
        added_at TEXT NOT NULL,
        PRIMARY KEY (kind, value)
      ) WITHOUT ROWID;
      CREATE TABLE access_uses (
        pass_id  TEXT PRIMARY KEY,
        used     INTEGER NOT NULL,
        max_uses INTEGER NOT NULL,
        exp      INTEGER NOT NULL,
        last_ms  INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX access_uses_exp ON access_uses(exp);
      CREATE TABLE access_pin_secrets (
        lock       TEXT PRIMARY KEY,
        secret     BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE access_pin_uses (
        lock     TEXT NOT NULL,
        slot     INTEGER NOT NULL,
        hours    INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        PRIMARY KEY (lock, slot, hours)
      ) WITHOUT ROWID;
      CREATE TABLE access_keypad (
        lock           TEXT PRIMARY KEY,
        failures       INTEGER NOT NULL,
        locked_until   INTEGER NOT NULL,
        last_failure   INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE access_cards (
        card     TEXT PRIMARY KEY,
        aud      TEXT NOT NULL,
        sub      TEXT,
        nbf      INTEGER,
        exp      INTEGER,
        added_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
  },
};
