import type { Database } from 'better-sqlite3';
import type { PortierEvent } from '../core/events.js';

/** Rows read per query by `since` */
const SINCE_PAGE = 1000;

/**
 * The event log's read side (src/store/event-log.ts adds the writes): the newest events, a replay from a seq, the
 * count. Reads that must see everything recorded so far flush the writer's queue first.
 */
export abstract class EventLogReader {
  constructor(protected readonly db: Database) {}

  /** Commit everything queued (the writer's). */
  abstract flush(): void;

  protected maxSeq(): number {
    const row = this.db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number | null };
    return row.m ?? 0;
  }

  /** The ids of the events with seq above `seq` (a crash journal's replay: which of its events are in). */
  protected idsAfter(seq: number): string[] {
    return this.db.prepare('SELECT id FROM events WHERE seq > ?').pluck().all(seq) as string[];
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

  /**
   * Committed events of the given types with seq above `afterSeq`, oldest first, read in pages (for a driver that
   * rebuilds its state at start). Flushes first, so everything recorded before the call is included.
   */
  *since(afterSeq: number, types: readonly string[]): Generator<PortierEvent> {
    this.flush();
    if (types.length === 0) return;
    const page = this.db.prepare(
      `SELECT seq, body FROM events WHERE seq > ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY seq LIMIT ${SINCE_PAGE}`,
    );
    let after = afterSeq;
    for (;;) {
      const rows = page.all(after, ...types) as Array<{ seq: number; body: string }>;
      for (const r of rows) yield JSON.parse(r.body) as PortierEvent;
      if (rows.length < SINCE_PAGE) return;
      after = rows.at(-1)!.seq;
    }
  }

  /** The highest committed seq (0 for an empty log). */
  lastSeq(): number {
    this.flush();
    return this.maxSeq();
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  }
}
