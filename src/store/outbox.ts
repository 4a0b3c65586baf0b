import type { Database, Statement } from 'better-sqlite3';
import type { Lane } from '../core/events.js';
import { backgroundQuery } from './background-query.js';
import { type EventLog, LANES_BY_CODE, type OutboxAppend } from './event-log.js';

/** One outbox row with the stored event JSON, as the batcher reads it. */
export interface OutboxRow {
  seq: number;
  body: string;
  /** the event's ISO 8601 time */
  ts: string;
}

/** Backlog of one lane. */
export interface LaneBacklog {
  /** events waiting for the cloud's acknowledgement */
  count: number;
  /** UTF-8 bytes of their JSON */
  bytes: number;
}

/** A contiguous run of one lane's outbox rows (every row of that lane with seq in [first, last]). */
export interface LaneRange {
  lane: number;
  first: number;
  last: number;
}

const COUNT_SQL = `SELECT o.lane AS lane, COUNT(*) AS n, COALESCE(SUM(octet_length(e.body)), 0) AS bytes
  FROM outbox o JOIN events e ON e.seq = o.seq`;

/**
 * The outbox as the sync service sees it: reads in drain order, deletes after acknowledgement, and keeps
 * per-lane counts and bytes in memory (one scan after the start, on a thread of its own, then updated by every
 * append, ack and shed) so that neither the start nor metrics nor the health report scan a week's backlog on the
 * event loop. Nothing may delete outbox rows before `counted` resolves (the sync service starts draining and
 * shedding only then); rows appended meanwhile are counted as they come.
 *
 * Assumes one writing process per database, as the event log does (it numbers `seq` in memory).
 */
export class Outbox {
  private readonly takeStmt: Statement<[number, number, number], OutboxRow>;
  private readonly ackStmt: Statement<[number, number, number]>;
  private readonly oldestStmt: Statement<[number, number], { ts: string } | undefined>;
  private readonly backlog: LaneBacklog[] = LANES_BY_CODE.map(() => ({ count: 0, bytes: 0 }));
  /** The highest seq acknowledged per lane: rows at or below it may wait in the log's next commit to be deleted. */
  private readonly ackedTo: number[] = LANES_BY_CODE.map(() => 0);
  /** Resolves once the rows already in the outbox at construction are counted. Never rejects. */
  readonly counted: Promise<void>;

  /**
   * `legacy`: events stored before log epochs existed (seq below `below`) are sent with `epoch` added to their JSON,
   * so every event the cloud receives names its epoch.
   */
  /**
   * `log`: the event log, whose next group commit deletes acknowledged rows (in the same transaction as the events
   * it writes, so acknowledgements cost no commit of their own). Without it each acknowledgement commits at once.
   */
  constructor(
    private readonly db: Database,
    legacy?: { epoch: string; below: number },
    private readonly log?: Pick<EventLog, 'deleteFromOutbox' | 'flush'>,
  ) {
    const body = legacy
      ? `CASE WHEN o.seq < ${Math.floor(legacy.below)} THEN json_set(e.body, '$.epoch', ${sqlText(legacy.epoch)}) ELSE e.body END`
      : 'e.body';
    this.takeStmt = db.prepare(
      `SELECT o.seq AS seq, ${body} AS body, e.ts AS ts FROM outbox o JOIN events e ON e.seq = o.seq
       WHERE o.lane = ? AND o.seq > ? ORDER BY o.seq LIMIT ?`,
    );
    this.ackStmt = db.prepare('DELETE FROM outbox WHERE lane = ? AND seq BETWEEN ? AND ?');
    this.oldestStmt = db.prepare(
      'SELECT e.ts AS ts FROM outbox o JOIN events e ON e.seq = o.seq WHERE o.lane = ? AND o.seq > ? ORDER BY o.seq LIMIT 1',
    ) as Statement<[number, number], { ts: string } | undefined>;
    this.counted = this.countExisting();
  }

  /**
   * Count the rows on disk now (seq up to the highest one now) on a thread of its own; later appends have higher
   * seqs and are counted by `appended`, so nothing is counted twice.
   */
  private async countExisting(): Promise<void> {
    const upTo = (this.db.prepare('SELECT MAX(seq) FROM outbox').pluck().get() as number | null) ?? 0;
    if (upTo === 0) return;
    if (this.db.memory) {
      this.recount();
      return;
    }
    try {
      const rows = await backgroundQuery<{ lane: number; n: number; bytes: number }>(
        this.db.name,
        `${COUNT_SQL} WHERE o.seq <= ? GROUP BY o.lane`,
        [upTo],
      );
      for (const r of rows) {
        const b = this.backlog[r.lane];
        if (!b) continue;
        b.count += r.n;
        b.bytes += r.bytes;
      }
    } catch {
      // Counted here instead; a table that cannot be read at all shows as empty until the next recount.
      try {
        this.recount();
      } catch {}
    }
  }

  /** Rebuild the in-memory counts from the table (start, and after another process may have written). */
  recount(): void {
    this.log?.flush();
    for (const b of this.backlog) {
      b.count = 0;
      b.bytes = 0;
    }
    const rows = this.db.prepare(`${COUNT_SQL} GROUP BY o.lane`).all() as Array<{
      lane: number;
      n: number;
      bytes: number;
    }>;
    for (const r of rows) {
      const b = this.backlog[r.lane];
      if (b) {
        b.count = r.n;
        b.bytes = r.bytes;
      }
    }
  }

  /** Account for rows the event log just committed (wire to `EventLog.onOutboxAppend`). */
  appended(rows: readonly OutboxAppend[]): void {
    for (const r of rows) {
      const b = this.backlog[r.lane];
      if (!b) continue;
      b.count++;
      b.bytes += r.bytes;
    }
  }

  /** Account for rows deleted elsewhere (the shedder). */
  removed(lane: number, count: number, bytes: number): void {
    const b = this.backlog[lane];
    if (!b) return;
    b.count = Math.max(0, b.count - count);
    b.bytes = Math.max(0, b.bytes - bytes);
  }

  /** Up to `limit` rows of one lane with seq above `afterSeq`, oldest first. */
  take(lane: number, afterSeq: number, limit: number): OutboxRow[] {
    // Reading from before the last acknowledgement (a resend from the oldest): its deletes are committed first.
    if (afterSeq < (this.ackedTo[lane] ?? 0)) this.log?.flush();
    return this.takeStmt.all(lane, afterSeq, limit);
  }

  /**
   * Delete acknowledged rows. Each range is every row of its lane between first and last: the batcher took them
   * as consecutive rows of that lane, and rows appended later have higher seq, so the range holds nothing else.
   */
  acknowledge(ranges: readonly LaneRange[], counts: readonly LaneBacklog[]): void {
    if (this.log) {
      for (const r of ranges) this.ackedTo[r.lane] = Math.max(this.ackedTo[r.lane] ?? 0, r.last);
      this.log.deleteFromOutbox(ranges);
    } else {
      this.db.transaction(() => {
        for (const r of ranges) this.ackStmt.run(r.lane, r.first, r.last);
      })();
    }
    counts.forEach((c, lane) => {
      this.removed(lane, c.count, c.bytes);
    });
  }

  /** Commit the deletes of acknowledged rows still waiting for the log's next commit (before reading the table). */
  settle(): void {
    this.log?.flush();
  }

  /** Current backlog of one lane (in-memory counts). */
  lane(lane: number): LaneBacklog {
    return { ...(this.backlog[lane] ?? { count: 0, bytes: 0 }) };
  }

  /** Whether any row waits, from the table (an index probe): a cheap check of the in-memory counts. */
  anyWaiting(): boolean {
    this.log?.flush();
    return this.db.prepare('SELECT EXISTS (SELECT 1 FROM outbox) AS x').pluck().get() === 1;
  }

  /** Total events waiting. */
  total(): number {
    return this.backlog.reduce((n, b) => n + b.count, 0);
  }

  /** ISO time of the oldest waiting event of a lane, or undefined when the lane is empty. */
  oldestTs(lane: number): string | undefined {
    // Rows acknowledged and not yet deleted (their delete waits for the log's next commit) are not waiting.
    return this.oldestStmt.get(lane, this.ackedTo[lane] ?? 0)?.ts;
  }

  /** Per-lane summary with ages in seconds relative to `nowMs`. */
  summary(nowMs: number): Record<Lane, LaneBacklog & { oldest_age_s: number | null }> {
    const out = {} as Record<Lane, LaneBacklog & { oldest_age_s: number | null }>;
    LANES_BY_CODE.forEach((name, code) => {
      const ts = this.backlog[code]!.count > 0 ? this.oldestTs(code) : undefined;
      out[name] = { ...this.lane(code), oldest_age_s: ts ? Math.max(0, (nowMs - Date.parse(ts)) / 1000) : null };
    });
    return out;
  }
}

/** A string as an SQL literal. */
function sqlText(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
