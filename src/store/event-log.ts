import type { Database, Statement } from 'better-sqlite3';
import { monotonicFactory } from 'ulid';
import type { Clock } from '../core/clock.js';
import type { EventInput, Lane, PortierEvent } from '../core/events.js';
import { laneOf } from '../core/events.js';

export const LANE_CODES: Record<Lane, number> = { critical: 0, state: 1, telemetry: 2 };

/** The lanes by code, in drain order (critical first). */
export const LANES_BY_CODE: readonly Lane[] = ['critical', 'state', 'telemetry'];

/** One row put into the outbox by a commit: what the sync service needs to account for it without a query. */
export interface OutboxAppend {
  seq: number;
  /** Lane code (LANE_CODES). */
  lane: number;
  /** UTF-8 bytes of the stored event JSON, as it will be sent. */
  bytes: number;
}

export interface AppendOptions {
  /** Commit with synchronous=FULL before returning (access decisions, audit). Default for the critical lane. */
  durable?: boolean;
  /** Override the type's default lane. */
  lane?: Lane;
  /** Keep the event out of the outbox (local-only records). */
  localOnly?: boolean;
}

/**
 * The event log and outbox. Each event gets a ULID and the next `seq` of this gateway, and is written together with
 * its outbox row in one transaction. Ordinary events are group-committed: `record()` queues them and one
 * transaction per turn of the event loop writes the batch, after which `onCommitted` sees each in order. Durable
 * events (`recordNow`) are written at once with synchronous=FULL and returned committed, before anything acts on them.
 */
export class EventLog {
  private readonly insertEvent: Statement;
  private readonly insertOutbox: Statement;
  private readonly ulid = monotonicFactory();
  private nextSeq: number;
  private pending: Array<{ input: EventInput; opts: AppendOptions }> = [];
  private flushScheduled = false;
  private readonly committedListeners: Array<(events: PortierEvent[]) => void> = [];
  private readonly outboxListeners: Array<(rows: OutboxAppend[]) => void> = [];

  constructor(
    private readonly db: Database,
    private readonly gw: string,
    private readonly clock: Clock,
  ) {
    this.insertEvent = db.prepare('INSERT INTO events (seq, id, dev, type, ts, body) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertOutbox = db.prepare('INSERT INTO outbox (seq, lane) VALUES (?, ?)');
    this.nextSeq = this.maxSeq() + 1;
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

  /** Queue an event for the next group commit. */
  record(input: EventInput, opts: AppendOptions = {}): void {
    const lane = opts.lane ?? laneOf(input.type);
    if (opts.durable ?? lane === 'critical') {
      this.recordNow(input, opts);
      return;
    }
    this.pending.push({ input, opts });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Write one event now with synchronous=FULL (after any queued ones, to keep seq order) and return it. */
  recordNow(input: EventInput, opts: AppendOptions = {}): PortierEvent {
    this.flush();
    this.db.pragma('synchronous = FULL');
    try {
      const [event] = this.commit([{ input, opts }]);
      return event!;
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** Commit everything queued. Safe to call at any time (shutdown calls it). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.commit(batch);
  }

  private commit(batch: Array<{ input: EventInput; opts: AppendOptions }>): PortierEvent[] {
    const firstSeq = this.nextSeq;
    const events: PortierEvent[] = [];
    const appended: OutboxAppend[] = [];
    const measure = this.outboxListeners.length > 0;
    try {
      this.db.transaction(() => {
        let seq = firstSeq;
        for (const { input, opts } of batch) {
          const now = this.clock.now();
          const event: PortierEvent = {
            id: this.ulid(now.ms),
            seq,
            gw: this.gw,
            dev: input.dev,
            type: input.type,
            ts: new Date(now.ms).toISOString(),
            tq: now.tq,
            data: input.data,
          };
          const body = JSON.stringify(event);
          this.insertEvent.run(seq, event.id, event.dev, event.type, event.ts, body);
          if (!opts.localOnly) {
            const lane = LANE_CODES[opts.lane ?? laneOf(input.type)];
            this.insertOutbox.run(seq, lane);
            if (measure) appended.push({ seq, lane, bytes: Buffer.byteLength(body) });
          }
          events.push(event);
          seq++;
        }
      })();
    } catch (err) {
      // Nothing of the batch was written; seq stays where the database says it is.
      this.nextSeq = this.maxSeq() + 1;
      throw err;
    }
    this.nextSeq = firstSeq + events.length;
    if (appended.length) for (const listener of this.outboxListeners) listener(appended);
    for (const listener of this.committedListeners) listener(events);
    return events;
  }

  private maxSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number | null };
    return row.m ?? 0;
  }

  /** The last `limit` events, newest last, optionally of one device or type. */
  tail(limit = 50, filter: { dev?: string; type?: string; afterSeq?: number } = {}): PortierEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.dev) {
      where.push('dev = ?');
      args.push(filter.dev);
    }
    if (filter.type) {
      where.push('type = ?');
      args.push(filter.type);
    }
    if (filter.afterSeq !== undefined) {
      where.push('seq > ?');
      args.push(filter.afterSeq);
    }
    const sql = `SELECT body FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit) as Array<{ body: string }>;
    return rows.reverse().map((r) => JSON.parse(r.body) as PortierEvent);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }
}
