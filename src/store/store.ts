import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Clock, type ClockOptions } from '../core/clock.js';
import { openDatabase } from './database.js';
import { DeviceRegistry } from './device-registry.js';
import { EventLog } from './event-log.js';
import { type EpochStart, openLogEpoch, readLogEpoch } from './log-epoch.js';
import { MetaStore } from './meta.js';

/** Everything the gateway keeps on disk, opened together from one state directory. */
export interface Store {
  db: Database;
  events: EventLog;
  devices: DeviceRegistry;
  meta: MetaStore;
  clock: Clock;
  quarantinedTo?: string;
  /** Set when this open started a new log epoch (record it as the `log_epoch_started` alarm). */
  epochStarted?: EpochStart;
  close(): void;
}

export function openStore(opts: {
  stateDir: string;
  gatewayId: string;
  log: Logger;
  clock?: ClockOptions;
  /** Group commits on a writer thread (the daemon); one-shot commands write inline. */
  writerThread?: boolean;
  /**
   * Borrow the log of a running daemon (CLI commands): its epoch is read, not decided, and the log refuses to number
   * events. Default: this process owns the log (the daemon, a one-off gateway in a test).
   */
  borrow?: boolean;
}): Store {
  const { db, quarantinedTo } = openDatabase(opts.stateDir, opts.log);
  const meta = new MetaStore(db);
  const clock = new Clock(meta, opts.clock);
  const epoch = opts.borrow
    ? readLogEpoch(db)
    : openLogEpoch(db, opts.stateDir, { quarantined: quarantinedTo !== undefined });
  const events = new EventLog(db, opts.gatewayId, clock, epoch);
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
      const last = events.lastSeq();
      db.close();
      // Only after the database closed cleanly: the log then ends exactly at `last`.
      epoch.mark?.closeClean(last);
    },
  };
  if (quarantinedTo) store.quarantinedTo = quarantinedTo;
  if (epoch.started) store.epochStarted = epoch.started;
  return store;
}
