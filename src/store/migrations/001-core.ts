import type { Migration } from './migration.js';

/**
 * The event log (seq is the rowid: one B-tree, append-only), the outbox (a thin index of what the cloud has not
 * acknowledged yet: seq and lane only, so a week's backlog costs the payload once), the device registry and meta.
 */
export const coreMigration: Migration = {
  version: 1,
  name: 'core',
  up(db) {
    db.exec(`
      CREATE TABLE events (
        seq  INTEGER PRIMARY KEY,
        id   TEXT NOT NULL,
        dev  TEXT NOT NULL,
        type TEXT NOT NULL,
        ts   TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE outbox (
        seq  INTEGER PRIMARY KEY REFERENCES events(seq),
        lane INTEGER NOT NULL
      );
      CREATE INDEX outbox_lane ON outbox(lane, seq);
      CREATE TABLE devices (
        id         TEXT PRIMARY KEY,
        driver     TEXT NOT NULL,
        config     TEXT NOT NULL,
        source     TEXT NOT NULL CHECK (source IN ('config', 'runtime')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `);
  },
};
