import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { Clock, type ClockOptions } from '../core/clock.js';
import type { PortierEvent } from '../core/events.js';
import { CrashJournal, crashJournalPath } from './crash-journal.js';
import { openDatabase } from './database.js';
import { DeviceRegistry } from './device-registry.js';
import { DiskGuard, type DiskSettings, makeRoomToOpen } from './disk-guard.js';
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
  /** The disk guard (the daemon): free space, reserve, what is kept off a full disk. */
  disk?: DiskGuard;
  quarantinedTo?: string;
  /** The commit window's crash journal (the daemon), replayed at open. */
  journal?: CrashJournal;
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
  /**
   * Group commits on a writer thread (the daemon); one-shot commands write inline. A number: the rows of group
   * commits within a second from which the thread is started (EventWriter.takes); `true` starts it at the first batch.
   */
  writerThread?: boolean | number;
  /** ms non-critical events wait to be committed together (EventLog.useCommitWindow); default 0. */
  commitWindowMs?: number;
  /**
   * Directory of the commit window's crash journal (the daemon: crash-journal.ts, `crashJournalDir`); what a
   * process that died left there is replayed into the log before the store is returned. Default: no journal.
   */
  crashJournalDir?: string;
  /**
   * Borrow the log of a running daemon (CLI commands): its epoch is read, not decided, and the log refuses to number
   * events. Default: this process owns the log (the daemon, a one-off gateway in a test).
   */
  borrow?: boolean;
  /** Watch the disk and keep a reserve (the daemon); one-shot commands do not. */
  disk?: DiskSettings;
}): Store {
  if (opts.disk) makeRoomToOpen(opts.stateDir, opts.log);
  const { db, quarantinedTo } = openDatabase(opts.stateDir, opts.log);
  const meta = new MetaStore(db);
  const clock = new Clock(meta, opts.clock);
  const epoch = opts.borrow
    ? readLogEpoch(db)
    : openLogEpoch(db, opts.stateDir, { quarantined: quarantinedTo !== undefined });
  const events = new EventLog(db, opts.gatewayId, clock, epoch);
  if (opts.commitWindowMs) events.useCommitWindow(opts.commitWindowMs);
  if (opts.writerThread !== undefined && opts.writerThread !== false) {
    events.useWriterThread(opts.writerThread === true ? 0 : opts.writerThread);
  }
  const disk = opts.disk && guardDisk(db, events, { ...opts, disk: opts.disk });
  const journal = opts.crashJournalDir && !opts.borrow ? replayJournal(events, opts.crashJournalDir, opts) : undefined;
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
      disk?.stop();
      events.close();
      if (disk) disk.attempt('time floor', () => clock.persist());
      else clock.persist();
      const last = events.lastSeq();
      db.close();
      // Only after the database closed cleanly: the log then ends exactly at `last`.
      epoch.mark?.closeClean(last);
    },
  };
  if (quarantinedTo) store.quarantinedTo = quarantinedTo;
  if (epoch.started) store.epochStarted = epoch.started;
  if (disk) store.disk = disk;
  if (journal) store.journal = journal;
  return store;
}

/** Replay what a process that died left in the crash journal (one info line with the counts), then journal. */
function replayJournal(events: EventLog, dir: string, opts: { stateDir: string; log: Logger }): CrashJournal {
  const journal = new CrashJournal(crashJournalPath(dir, opts.stateDir), opts.log);
  events.useCrashJournal(journal);
  if (journal.replayed + journal.alreadyCommitted + journal.damaged > 0) {
    opts.log.info(
      {
        replayed: journal.replayed,
        already_committed: journal.alreadyCommitted,
        damaged: journal.damaged,
        path: journal.path,
      },
      'crash journal replayed: events a process crash left in the commit window are in the log',
    );
  }
  return journal;
}

/** The disk guard wired to the log: alarms as critical events, held state recorded when the disk is no longer full. */
function guardDisk(
  db: Database,
  events: EventLog,
  opts: { stateDir: string; gatewayId: string; log: Logger; disk: DiskSettings },
): DiskGuard {
  const guard = new DiskGuard(db, { stateDir: opts.stateDir, settings: opts.disk, log: opts.log });
  events.useDiskGuard(guard);
  guard.setAlarmSink((data) => events.recordNow({ dev: opts.gatewayId, type: 'alarm', data }));
  guard.onChange((_state, prev) => {
    if (prev === 'full') for (const h of guard.takeHeld()) events.record(h.input, h.opts);
  });
  guard.start();
  return guard;
}
