import type { Database, Statement } from 'better-sqlite3';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { EventInput, PortierEvent } from '../core/events.js';
import { laneOf } from '../core/events.js';
import { CommitWindow, type Queued } from './commit-window.js';
import type { CrashJournal } from './crash-journal.js';
import { isDiskFull } from './disk-space.js';
import { EventLogReader } from './event-log-reader.js';
import type { AppendOptions, OutboxAppend, SpaceGuard } from './event-log-types.js';
import { EventStamper } from './event-stamp.js';
import {
  DELETE_OUTBOX_SQL,
  EventWriter,
  INSERT_EVENT_SQL,
  INSERT_OUTBOX_SQL,
  type WriterDelete,
  type WriterReply,
  type WriterRow,
} from './event-writer.js';
import type { LogEpoch } from './log-epoch.js';

export {
  type AppendOptions,
  eventJson,
  LANE_CODES,
  LANES_BY_CODE,
  type OutboxAppend,
  type SpaceGuard,
} from './event-log-types.js';

interface InflightBatch {
  id: number;
  batch: Queued[];
  /** Stamped, never empty, in seq order. */
  events: PortierEvent[];
  appended: OutboxAppend[];
  deletes: WriterDelete[];
}

/**
 * The event log and outbox. Each event gets a ULID and the next `seq` of this gateway, and is written together with
 * its outbox row in one transaction. Ordinary events are group-committed: `record()` queues them in the commit
 * window (commit-window.ts; journaled against a crash, crash-journal.ts) and one transaction at its end writes the
 * batch, after which `onCommitted` sees each in order. Durable events (`recordNow`) are written at once with
 * synchronous=FULL and returned committed, before anything acts on them.
 */
export class EventLog extends EventLogReader {
  private readonly insertEvent: Statement;
  private readonly insertOutbox: Statement;
  private readonly stamper: EventStamper;
  private nextSeq: number;
  /** What waits for the next group commit (commit-window.ts). */
  private readonly window = new CommitWindow(() => this.groupCommit());
  private readonly deleteOutbox: Statement;
  private readonly committedListeners: Array<(events: PortierEvent[]) => void> = [];
  private readonly outboxListeners: Array<(rows: OutboxAppend[]) => void> = [];
  private writer: EventWriter | undefined;
  /** Batches posted to the writer thread, oldest first, until their commit is confirmed. */
  private inflight: InflightBatch[] = [];
  private lastBatchId = 0;
  /** Replies still to come for batches already given back and written here. */
  private readonly discard = new Set<number>();
  /** Batches the writer thread gave back and this thread wrote instead (a lock held by this thread, or a fault). */
  givenBack = 0;
  /** The highest seq committed and announced. */
  private committedSeq: number;
  /** `whenCommitted` callers, by the seq that must be committed first (ascending). */
  private waiters: Array<{ seq: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  /** Watches the disk (the daemon): keeps non-critical events off a full disk, makes room for critical ones. */
  private guard: SpaceGuard | undefined;
  /** Written inside a caller's transaction (`appendWithin`), announced when the caller says it committed. */
  private within: Array<{ events: PortierEvent[]; appended: OutboxAppend[] }> = [];

  /**
   * `epoch` is the log's current epoch and, for the process that owns the log, the mark to raise before numbering;
   * without a mark the log can be read but refuses to number events (a CLI command beside the daemon).
   */
  constructor(
    db: Database,
    /** the gateway id every event carries */
    readonly gw: string,
    private readonly clock: Clock,
    readonly epoch: LogEpoch,
  ) {
    super(db);
    this.stamper = new EventStamper(gw, clock, epoch);
    this.insertEvent = db.prepare(INSERT_EVENT_SQL);
    this.insertOutbox = db.prepare(INSERT_OUTBOX_SQL);
    this.deleteOutbox = db.prepare(DELETE_OUTBOX_SQL);
    this.nextSeq = this.maxSeq() + 1;
    this.committedSeq = this.nextSeq - 1;
  }

  /**
   * Resolves once every event recorded before the call is committed (rejects when its commit failed). The local
   * MQTT link holds back its PUBACKs on it, so a broker never hears "delivered" for an uplink the log could still
   * lose to a kill -9. One waiter per call, cheap: callers ask once per turn, not per event.
   */
  whenCommitted(now = false): Promise<void> {
    if (now) this.window.closeSoon();
    // Seqs are handed out in record order: what is queued now gets the next `window.size` of them.
    const seq = this.nextSeq - 1 + this.window.size;
    if (seq <= this.committedSeq) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Called after every commit with the committed events, in seq order. */
  onCommitted(listener: (events: PortierEvent[]) => void): void {
    this.committedListeners.push(listener);
  }

  /**
   * Called after every commit that put rows into the outbox, with those rows in seq order (the sync service keeps
   * its per-lane counts from this instead of scanning the outbox).
   */
  onOutboxAppend(listener: (rows: OutboxAppend[]) => void): void {
    this.outboxListeners.push(listener);
  }

  /** Queue an event for the next group commit (unless the disk guard keeps it off a full disk). */
  record(input: EventInput, opts: AppendOptions = {}): void {
    const lane = opts.lane ?? laneOf(input.type);
    if (opts.durable ?? lane === 'critical') {
      this.recordNow(input, opts);
      return;
    }
    if (this.guard && !this.guard.admit(input, opts, lane)) return;
    const at = this.clock.now();
    this.window.add({ input, opts, at, id: this.stamper.id(at.ms) }, this.committedSeq);
  }

  /**
   * Run the handlers of a QoS 1 message whose PUBACK waits for the commit of what they record, on a session the
   * broker keeps: after a crash the broker delivers it again, so what they record needs no crash journal.
   */
  redelivered(handlers: () => void): void {
    this.window.redelivered(handlers);
  }

  /**
   * Replay what a process that died left in `journal` (before anything new is recorded: its events keep their seq
   * order, ids and times), commit it, empty the journal, and journal the commit window from now on.
   */
  useCrashJournal(journal: CrashJournal): void {
    for (const e of journal.leftovers((after) => this.idsAfter(after))) {
      this.window.restore({ input: e.input, opts: e.opts, at: e.at, id: e.id });
    }
    this.flush();
    journal.clear();
    this.window.journal = journal;
  }

  /** Events waiting in memory for their commit. */
  get waiting(): number {
    return this.window.size;
  }

  /**
   * Delete acknowledged outbox rows in the next group commit (the sync service, on a PUBACK): in steady state the
   * outbox's pages are the ones the commit writes anyway. Until then the rows are still on disk; a crash or a power
   * cut before that commit sends them again (delivery is at least once; the cloud deduplicates by id).
   */
  deleteFromOutbox(ranges: ReadonlyArray<{ lane: number; first: number; last: number }>): void {
    this.window.addDeletes(ranges);
  }

  /**
   * Keep non-critical events in memory up to `ms` and commit them together, each commit with synchronous=FULL when
   * `ms` > 0 (the daemon: docs/sync.md, Durability). A burst of WINDOW_MAX_EVENTS closes the window at once.
   * Call before `useWriterThread`.
   */
  useCommitWindow(ms: number): void {
    this.window.ms = Math.max(0, ms);
  }

  /** The safety level of group commits: FULL inside a commit window (a power cut costs at most the window). */
  private get groupSync(): 'FULL' | 'NORMAL' {
    return this.window.ms > 0 ? 'FULL' : 'NORMAL';
  }

  /**
   * Write group commits on a thread of their own from now on (the daemon does; see event-writer.ts). Listeners
   * then hear of a batch when the thread has committed it; `flush` and `recordNow` still return with everything
   * before them committed. `startAt`: rows of group commits within a second from which the thread is started (0: at
   * the first batch; see EventWriter.takes); until then batches are committed here.
   */
  useWriterThread(startAt = 0): void {
    this.writer ??= new EventWriter(this.db.name, (reply) => this.onReply(reply), this.groupSync, startAt);
  }

  /** Whether the writer thread runs (`useWriterThread` with a rate starts it at a burst only). */
  get writerStarted(): boolean {
    return this.writer?.started ?? false;
  }

  /** Let `guard` keep events off a full disk and make room when a commit finds none (see disk-guard.ts). */
  useDiskGuard(guard: SpaceGuard): void {
    this.guard = guard;
  }

  /** The disk is full (a commit failed with SQLITE_FULL outside this log): make room as for a commit of ours. */
  relieve(cause: unknown): boolean {
    if (!this.guard) return false;
    this.guard.relieve(cause, true);
    return true;
  }

  /**
   * Write an event inside the caller's open transaction (an access decision with its use count) and return it;
   * listeners hear of it only when the caller reports its transaction's outcome with `settleWithin`, so an event
   * whose transaction failed at COMMIT (a full disk) is never announced and its seq is used again.
   */
  appendWithin(input: EventInput, opts: AppendOptions = {}): PortierEvent {
    if (!this.db.inTransaction) throw new Error('appendWithin needs an open transaction');
    this.flush();
    const { events, appended, rows } = this.stamper.stamp([{ input, opts }], this.nextSeq, this.measure);
    this.insertRows(rows);
    this.nextSeq += events.length;
    this.within.push({ events, appended });
    return events[0]!;
  }

  /** The caller's transaction committed (announce what `appendWithin` wrote) or not (forget it, seq included). */
  settleWithin(committed: boolean): void {
    const done = this.within;
    this.within = [];
    if (!committed) {
      this.nextSeq = this.maxSeq() + 1;
      return;
    }
    for (const w of done) this.announce(w.events, w.appended);
  }

  /** Commit what is queued, then stop the writer thread (the database stays open). */
  close(): void {
    this.flush();
    this.writer?.close();
    this.writer = undefined;
    this.window.journal?.close();
  }

  /** Write one event now with synchronous=FULL (after any queued ones, to keep seq order) and return it. */
  recordNow(input: EventInput, opts: AppendOptions = {}): PortierEvent {
    this.flush();
    return this.fully(() => this.commit([{ input, opts }]))[0]!;
  }

  /** Run `fn` with synchronous=FULL (its commit fsyncs), then back to NORMAL. */
  private fully<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** Commit everything queued, and wait for what the writer thread has. Safe to call at any time. */
  flush(): void {
    this.window.reset();
    this.writer?.settle();
    if (this.window.empty) return;
    const { batch, deletes } = this.window.take();
    if (this.groupSync === 'NORMAL' || this.db.inTransaction) this.commit(batch, deletes);
    else this.fully(() => this.commit(batch, deletes));
  }

  /** The turn's batch: to the writer thread when there is one, else written here. */
  private groupCommit(): void {
    const writer = this.writer;
    // Inside a transaction of this thread the rows must be part of it (and the thread would wait for its lock).
    if (!writer?.usable || this.db.inTransaction || !writer.takes(this.window.size)) {
      this.flush();
      return;
    }
    this.window.reset();
    if (this.window.empty) return;
    const { batch, deletes } = this.window.take();
    const firstSeq = this.nextSeq;
    const stamped = this.stamper.stamp(batch, firstSeq, this.measure);
    this.nextSeq = firstSeq + stamped.events.length;
    const id = ++this.lastBatchId;
    this.inflight.push({ id, batch, events: stamped.events, appended: stamped.appended, deletes });
    writer.post(id, stamped.rows, deletes);
  }

  /** The writer thread's answer for the oldest batch in flight (or, with id -1, for all of them). */
  private onReply(reply: WriterReply): void {
    if (this.discard.delete(reply.id)) return;
    if (reply.ok) {
      const head = this.inflight[0];
      if (head?.id !== reply.id) return; // a late answer for a batch already written here
      this.inflight.shift();
      this.announce(head.events, head.appended);
      return;
    }
    // Given back: the thread gives back every later batch too, so all in flight are written here, in seq order.
    // A thread that died (or stopped answering) may have committed some before it went: its batches are atomic and
    // in order, so those are exactly the ones at or below the log's highest seq, and are only announced.
    const chain = this.inflight;
    this.inflight = [];
    if (chain.length === 0) return;
    if (reply.id !== -1) for (const b of chain) if (b.id !== reply.id) this.discard.add(b.id);
    const written = this.maxSeq();
    // What is rewritten here continues right after what the thread wrote; commit() keeps nextSeq from then on.
    this.nextSeq = written + 1;
    let failure: unknown;
    for (const b of chain) {
      const last = b.events.at(-1)?.seq;
      // A batch of deletes alone: deleting again is harmless, whether the thread did or not.
      if (last !== undefined && last <= written) {
        this.announce(b.events, b.appended);
        continue;
      }
      this.givenBack++;
      try {
        this.commit(b.batch, b.deletes);
      } catch (err) {
        failure ??= err;
      }
    }
    if (this.writer?.usable) this.writer.resume();
    if (failure !== undefined) throw failure;
  }

  /**
   * Write a batch in this thread, in one transaction, and announce it. On a full disk (and outside a caller's
   * transaction, which its owner retries) the guard makes room and the batch is tried once more; a batch that still
   * does not fit is handed to the guard (counted, state held) unless it holds a critical event, which throws.
   */
  private commit(batch: Queued[], deletes: WriterDelete[] = []): PortierEvent[] {
    const guard = this.guard;
    if (!guard || this.db.inTransaction) return this.commitOnce(batch, deletes);
    // The reserve is given back only for what must be written: critical and durable events.
    const must = batch.some((b) => b.opts.durable || (b.opts.lane ?? laneOf(b.input.type)) === 'critical');
    try {
      return this.commitOnce(batch, deletes);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      guard.relieve(err, must);
    }
    try {
      return this.commitOnce(batch, deletes);
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (must) {
        const message = 'the disk is full: the event could not be committed';
        throw new PortierError(ErrorCode.StoreFull, message, {}, { cause: err });
      }
      guard.lost(batch);
      this.window.dropped(batch);
      return [];
    }
  }

  private commitOnce(batch: Queued[], deletes: WriterDelete[] = []): PortierEvent[] {
    const firstSeq = this.nextSeq;
    const { events, appended, rows } = this.stamper.stamp(batch, firstSeq, this.measure);
    try {
      this.db.transaction(() => {
        this.insertRows(rows);
        for (const d of deletes) this.deleteOutbox.run(d[0], d[1], d[2]);
      })();
    } catch (err) {
      // Nothing of the batch was written; seq stays where the database says it is, and whoever waits for these
      // events hears that they are not on disk.
      this.nextSeq = this.maxSeq() + 1;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(err);
      throw err;
    }
    this.nextSeq = firstSeq + events.length;
    this.announce(events, appended);
    return events;
  }

  private insertRows(rows: readonly WriterRow[]): void {
    for (const r of rows) {
      this.insertEvent.run(r[0], r[1], r[2], r[3], r[4], r[5]);
      if (r[6] >= 0) this.insertOutbox.run(r[0], r[6]);
    }
  }

  /** Whether stamping measures the outbox rows (someone listens for them). */
  private get measure(): boolean {
    return this.outboxListeners.length > 0;
  }

  private announce(events: PortierEvent[], appended: OutboxAppend[]): void {
    // Waiters first: the events are on disk whatever a listener below does.
    const last = events.at(-1)?.seq ?? 0;
    if (last > this.committedSeq) this.committedSeq = last;
    while (this.waiters.length > 0 && this.waiters[0]!.seq <= this.committedSeq) this.waiters.shift()!.resolve();
    this.window.committed(events);
    if (appended.length) for (const listener of this.outboxListeners) listener(appended);
    for (const listener of this.committedListeners) listener(events);
  }
}
