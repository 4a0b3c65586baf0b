import type { Migration } from './migration.js';

/**
 * Cloud sync state:
 * - `sync_commands`: every downlink command id the gateway has handled, with the acknowledgement it sent, so a
 *   command redelivered by the broker (QoS 1 after a reconnect) is answered again but never applied twice.
 * - `sync_shed`: cumulative counts of events shed under the disk budget, by lane and policy, written in the same
 *   transaction as the deletion so a crash can never shed without counting.
 */
export const syncMigration: Migration = {
  version: 3,
  name: 'sync',
  up(db) {
    db.exec(`
      CREATE TABLE sync_commands (
        id          TEXT PRIMARY KEY,
        command     TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'ok', 'error')),
        ack         TEXT,
        received_ms INTEGER NOT NULL
      );
      CREATE INDEX sync_commands_received ON sync_commands(received_ms);
      CREATE TABLE sync_shed (
        lane   INTEGER NOT NULL,
        policy TEXT NOT NULL,
        count  INTEGER NOT NULL,
        PRIMARY KEY (lane, policy)
      ) WITHOUT ROWID;
    `);
  },
};
