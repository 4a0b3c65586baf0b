import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Clock, type ClockOptions } from '../core/clock.js';
import { openDatabase } from './database.js';
import { DeviceRegistry } from './device-registry.js';
import { EventLog } from './event-log.js';
import { MetaStore } from './meta.js';

/** Everything the gateway keeps on disk, opened together from one state directory. */
export interface Store {
  db: Database;
  events: EventLog;
  devices: DeviceRegistry;
  meta: MetaStore;
  clock: Clock;
  quarantinedTo?: string;
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
    close() {
      events.close();
      clock.persist();
      db.close();
    },
  };
  if (quarantinedTo) store.quarantinedTo = quarantinedTo;
  return store;
}
