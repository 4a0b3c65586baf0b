import type { Database, Statement } from 'better-sqlite3';

/** An event as stored: its seq and its JSON, which an API can splice into a response without parsing. */
export interface StoredEvent {
  seq: number;
  body: string;
}

/**
 * Reads of the committed event log for the operator surface (the admin API, its live stream and its state view),
 * as the stored JSON. Reads only what is committed; it never flushes the writer.
 */
export class EventQuery {
  private readonly maxSeqStmt: Statement<[], number | null>;
  private readonly afterStmt: Statement<[number, number], string>;

  constructor(private readonly db: Database) {
    this.maxSeqStmt = db.prepare('SELECT MAX(seq) FROM events').pluck() as Statement<[], number | null>;
    this.afterStmt = db.prepare('SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?').pluck() as Statement<
      [number, number],
      string
    >;
  }

  /** The highest committed seq (0 for an empty log). */
  maxSeq(): number {
    return this.maxSeqStmt.get() ?? 0;
  }

  /** The JSON of up to `limit` events after `seq`, oldest first. */
  bodiesAfter(seq: number, limit: number): string[] {
    return this.afterStmt.all(seq, limit);
  }

  /**
   * A page of events, oldest first, optionally of one device and type: with `after`, the first `limit` events after
   * that seq; without it, the newest `limit`.
   */
  page(q: {
    dev?: string | undefined;
    type?: string | undefined;
    after?: number | undefined;
    limit: number;
  }): StoredEvent[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.dev) {
      where.push('dev = ?');
      args.push(q.dev);
    }
    if (q.type) {
      where.push('type = ?');
      args.push(q.type);
    }
    if (q.after !== undefined) {
      where.push('seq > ?');
      args.push(q.after);
      const sql = `SELECT seq, body FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`;
      return this.db.prepare(sql).all(...args, q.limit) as StoredEvent[];
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sql = `SELECT seq, body FROM events ${filter} ORDER BY seq DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as StoredEvent[]).reverse();
  }
}
