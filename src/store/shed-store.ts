import type { Database, Statement } from 'better-sqlite3';
import { freeBytes, releaseFreePages, usedBytes } from './disk.js';
import { isDiskFull } from './disk-space.js';
import { readShedTotals, type ShedTotals } from './outbox-status.js';

/** A waiting outbox row as the disk budget weighs it. */
export interface ShedCandidate {
  seq: number;
  dev: string;
  type: string;
  ts: string;
  bytes: number;
}

/**
 * The rows the disk budget (src/sync/shedder.ts) reads and deletes: acknowledged events to prune, a lane's waiting
 * events to shed, and the `sync_shed` counts, each deletion counted in the same transaction. The newest event row
 * is never deleted: its seq is where the event log continues numbering.
 */
export class ShedStore {
  private readonly addShed: Statement<[number, string, number]>;
  private readonly delOutbox: Statement<[number]>;
  private readonly delEvent: Statement<[number]>;
  private readonly pickAcked: Statement<[number, number], { seq: number; ts: string }>;
  private readonly laneAsc: Statement<[number, number, number, number], ShedCandidate>;
  private readonly laneDesc: Statement<[number, number, number, number], ShedCandidate>;

  constructor(private readonly db: Database) {
    this.addShed = db.prepare(
      `INSERT INTO sync_shed (lane, policy, count) VALUES (?, ?, ?)
       ON CONFLICT(lane, policy) DO UPDATE SET count = count + excluded.count`,
    );
    this.delOutbox = db.prepare('DELETE FROM outbox WHERE seq = ?');
    this.delEvent = db.prepare('DELETE FROM events WHERE seq = ? AND seq < (SELECT MAX(seq) FROM events)');
    this.pickAcked = db.prepare(
      `SELECT e.seq AS seq, e.ts AS ts FROM events e
       WHERE e.seq > ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.seq = e.seq)
       ORDER BY e.seq LIMIT ?`,
    );
    const lane = (order: 'ASC' | 'DESC') =>
      db.prepare(
        `SELECT o.seq AS seq, e.dev AS dev, e.type AS type, e.ts AS ts, length(CAST(e.body AS BLOB)) AS bytes
         FROM outbox o JOIN events e ON e.seq = o.seq
         WHERE o.lane = ? AND o.seq ${order === 'ASC' ? '>' : '<'} ? AND o.seq > ? ORDER BY o.seq ${order} LIMIT ?`,
      ) as Statement<[number, number, number, number], ShedCandidate>;
    this.laneAsc = lane('ASC');
    this.laneDesc = lane('DESC');
  }

  usedBytes(): number {
    return usedBytes(this.db);
  }

  /** Cumulative shed counts (they survive restarts). */
  totals(): ShedTotals {
    return readShedTotals(this.db);
  }

  /**
   * Every free page back to the file system (in incremental auto-vacuum mode), in slices of `slice` pages so each
   * needs little WAL: on a full disk that is all the room there is. A slice that finds none stops here; SQLite
   * reuses the free pages meanwhile and they go back at a later pass.
   */
  giveBack(slice = 256): void {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    try {
      for (let left = freeBytes(this.db); left > 0; left = freeBytes(this.db)) {
        releaseFreePages(this.db, Math.min(slice, left / pageSize));
        if (freeBytes(this.db) >= left) return;
      }
    } catch (err) {
      if (!isDiskFull(err)) throw err;
    }
  }

  /** Up to `limit` events after seq `from` that wait for no one (acknowledged or local-only), oldest first. */
  acked(from: number, limit: number): Array<{ seq: number; ts: string }> {
    return this.pickAcked.all(from, limit);
  }

  /** Delete these event rows in one transaction; returns how many went. */
  deleteEvents(seqs: readonly number[]): number {
    let deleted = 0;
    this.db.transaction(() => {
      for (const seq of seqs) deleted += this.delEvent.run(seq).changes;
    })();
    return deleted;
  }

  /** A lane's waiting rows past `cursor` in `order`, above `takenUpTo` (rows in flight are never offered). */
  waiting(lane: number, order: 'ASC' | 'DESC', cursor: number, takenUpTo: number, limit: number): ShedCandidate[] {
    return (order === 'ASC' ? this.laneAsc : this.laneDesc).all(lane, cursor, takenUpTo, limit);
  }

  /**
   * Shed these events (outbox row and event row) and count them under `policy`, in one transaction. A row the
   * uplink got acknowledged meanwhile is delivered, not shed, and not counted.
   */
  shed(lane: number, policy: string, victims: readonly ShedCandidate[]): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    this.db.transaction(() => {
      for (const v of victims) {
        if (this.delOutbox.run(v.seq).changes === 0) continue;
        this.delEvent.run(v.seq);
        count++;
        bytes += v.bytes;
      }
      if (count > 0) this.addShed.run(lane, policy, count);
    })();
    return { count, bytes };
  }
}
