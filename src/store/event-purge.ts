import type { Database, Statement } from 'better-sqlite3';

/**
 * Deleting local events older than the retention period, in batches that each commit on their own (the caller
 * yields between them). The newest event is never deleted (its seq is the gateway's counter); an event still in the
 * outbox is kept while a cloud will drain it, and deleted with its outbox row when there is no cloud.
 */
export class EventPurge {
  private readonly scan: Statement<[number, number], { seq: number; ts: string; pending: number }>;
  private readonly maxSeq: Statement<[], number | null>;
  private readonly del: Statement<[number, number]>;
  private readonly delQueued: Statement<[number]>;

  constructor(
    private readonly db: Database,
    /** True when a cloud is configured: events in the outbox then wait for it. */
    private readonly waitForCloud: boolean,
  ) {
    this.scan = db.prepare(
      `SELECT e.seq AS seq, e.ts AS ts, EXISTS (SELECT 1 FROM outbox o WHERE o.seq = e.seq) AS pending
       FROM events e WHERE e.seq > ? ORDER BY e.seq LIMIT ?`,
    );
    this.maxSeq = db.prepare('SELECT MAX(seq) FROM events').pluck() as Statement<[], number | null>;
    this.del = db.prepare('DELETE FROM events WHERE seq = ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE seq = ?)');
    this.delQueued = db.prepare('DELETE FROM outbox WHERE seq = ?');
  }

  /**
   * One transaction: delete what is due among the next `size` events after seq `after` whose time is before
   * `cutoff` (ISO); `next` is where to go on, absent when done.
   */
  batch(after: number, cutoff: string, size: number): { deleted: number; next?: number } {
    return this.db.transaction(() => {
      const newest = this.maxSeq.get() ?? 0;
      const rows = this.scan.all(after, size);
      let deleted = 0;
      for (const r of rows) {
        if (r.ts >= cutoff || r.seq >= newest) return { deleted };
        if (r.pending && !this.waitForCloud) this.delQueued.run(r.seq);
        if (!r.pending || !this.waitForCloud) deleted += this.del.run(r.seq, r.seq).changes;
      }
      const last = rows.at(-1);
      return last && rows.length === size ? { deleted, next: last.seq } : { deleted };
    })();
  }
}
