import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Clock, type ClockOptions } from '../core/clock.js';
import type { PortierEvent } from '../core/events.js';
import { openDatabase } from './database.js';
import { DeviceRegistry } from './device-registry.js';
import { EventLog } from './event-log.js';
import { EventPurge } from './event-purge.js';
import { EventQuery } from './event-query.js';
import { latestEvents } from './latest-events.js';
import { type EpochStart, openLogEpoch, readLogEpoch } from './log-epoch.js';
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
  /** Set when this open started a new log epoch (record it as the `log_epoch_started` alarm). */
  epochStarted?: EpochStart;
  /** The outbox's backlog per lane (from the cloud sync's in-memory counts when given `source`). */
  backlog(source?: BacklogSource): OutboxQuery;
  /** Reads of the committed log as stored JSON, for the operator surface. */
  query: EventQuery;
  /** Deleting old events in batches (retention); `waitForCloud` keeps what the outbox still holds. */
  purge(waitForCloud: boolean): EventPurge;
  /** Run `fn` in one transaction (nested calls become savepoints); returns what it returns. */
  transaction<T>(fn: () => T): T;
  /** The latest event of each (device, type) among the newest `scanRows` of `types`, oldest first (a thread scans). */
  latestEvents(types: readonly string[], scanRows: number): Promise<PortierEvent[]>;
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
    backlog: (source) => new OutboxQuery(db, source),
    purge: (waitForCloud) => new EventPurge(db, waitForCloud),
    query: new EventQuery(db),
    transaction: (fn) => db.transaction(fn)(),
    latestEvents: (types, scanRows) => latestEvents(db, types, scanRows),
    ping: () => {
      db.prepare('SELECT 1').get();
    },
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
