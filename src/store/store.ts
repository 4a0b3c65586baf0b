import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Clock, type ClockOptions } from '../core/clock.js';
import { openDatabase } from './database.js';
import { DeviceRegistry } from './device-registry.js';
import { EventLog } from './event-log.js';
import { EventPurge } from './event-purge.js';
import { EventQuery } from './event-query.js';
import { MetaStore } from './meta.js';
import { type BacklogSource, OutboxQuery } from './outbox-query.js';

/** Everything the gateway keeps on disk, opened together from one state directory. */
export interface Store {
  db: Database;
  events: EventLog;
  devices: DeviceRegistry;
  meta: MetaStore;
  clock: Clock;
  quarantinedTo?: string;
  /** The outbox's backlog per lane (from the cloud sync's in-memory counts when given `source`). */
  backlog(source?: BacklogSource): OutboxQuery;
  /** Reads of the committed log as stored JSON, for the operator surface. */
  query: EventQuery;
  /** Deleting old events in batches (retention); `waitForCloud` keeps what the outbox still holds. */
  purge(waitForCloud: boolean): EventPurge;
  /** Run `fn` in one transaction (nested calls become savepoints); returns what it returns. */
  transaction<T>(fn: () => T): T;
  /** Throws when the database does not answer (the systemd watchdog pings only while it does). */
  ping(): void;
  close(): void;
}

export function openStore(opts: {
  stateDir: string;
  gatewayId: string;
  log: Logger;
  clock?: ClockOptions;
  /** Group commits on a writer thread (the daemon); one-shot commands write inline. */
  writerThread?: boolean;
}): Store {
  const { db, quarantinedTo } = openDatabase(opts.stateDir, opts.log);
  const meta = new MetaStore(db);
  const clock = new Clock(meta, opts.clock);
  const events = new EventLog(db, opts.gatewayId, clock);
  if (opts.writerThread) events.useWriterThread();
  const store: Store = {
    db,
    events,
    devices: new DeviceRegistry(db),
    meta,
    clock,
    backlog: (source) => new OutboxQuery(db, source),
    purge: (waitForCloud) => new EventPurge(db, waitForCloud),
    query: new EventQuery(db),
    transaction: (fn) => db.transaction(fn)(),
    ping: () => {
      db.prepare('SELECT 1').get();
    },
    close() {
      events.close();
      clock.persist();
      db.close();
    },
  };
  if (quarantinedTo) store.quarantinedTo = quarantinedTo;
  return store;
}
