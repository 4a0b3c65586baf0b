import type { Database, Statement } from 'better-sqlite3';
import type { Lane } from '../core/events.js';

/** Lanes by their code in the `outbox.lane` column (src/store/event-log.ts LANE_CODES). */
export const LANE_NAMES: readonly Lane[] = ['critical', 'state', 'telemetry'];

export interface LaneBacklog {
  /** events waiting for the cloud's acknowledgement */
  count: number;
  /** s since the oldest waiting event's timestamp, 0.1 s resolution; null when none waits */
  oldest_age_s: number | null;
  /** UTF-8 bytes of the waiting events' JSON (0 when not measured) */
  bytes: number;
}

export interface OutboxBacklog {
  lanes: Record<Lane, LaneBacklog>;
  total: LaneBacklog;
}

/**
 * Per-lane counts kept in memory by whoever drains the outbox (the cloud sync's Outbox has this `summary`): with
 * one, reading the backlog costs nothing however long the gateway was offline.
 */
export interface BacklogSource {
  summary(nowMs: number): Record<Lane, { count: number; bytes: number; oldest_age_s: number | null }>;
}

/**
 * The outbox read from SQLite: count and oldest age per lane from the `outbox_lane` index (cheap enough for every
 * scrape), and on request the bytes, which join `events` and read every waiting row (for the API, not for metrics).
 */
export class OutboxQuery {
  private readonly counts: Statement;
  private readonly withBytes: Statement;
  private readonly tsOf: Statement;

  constructor(
    db: Pick<Database, 'prepare'>,
    private readonly source?: BacklogSource,
  ) {
    this.counts = db.prepare('SELECT lane, COUNT(*) AS n, MIN(seq) AS first FROM outbox GROUP BY lane');
    this.withBytes = db.prepare(
      `SELECT o.lane AS lane, COUNT(*) AS n, MIN(o.seq) AS first, COALESCE(SUM(length(CAST(e.body AS BLOB))), 0) AS bytes
       FROM outbox o JOIN events e ON e.seq = o.seq GROUP BY o.lane`,
    );
    this.tsOf = db.prepare('SELECT ts FROM events WHERE seq = ?').pluck();
  }

  read(nowMs: number, opts: { bytes?: boolean } = {}): OutboxBacklog {
    if (this.source) return tally(this.source.summary(nowMs));
    const rows = (opts.bytes ? this.withBytes : this.counts).all() as Array<{
      lane: number;
      n: number;
      first: number;
      bytes?: number;
    }>;
    const byLane: Partial<Record<Lane, LaneBacklog>> = {};
    for (const r of rows) {
      const name = LANE_NAMES[r.lane];
      if (!name) continue;
      const ts = this.tsOf.get(r.first) as string | undefined;
      const age = ts === undefined ? null : (nowMs - Date.parse(ts)) / 1000;
      byLane[name] = { count: r.n, oldest_age_s: age, bytes: r.bytes ?? 0 };
    }
    return tally(byLane);
  }
}

/** Every lane (absent ones empty) and the total, ages to 0.1 s and never negative (a clock set back). */
function tally(byLane: Partial<Record<Lane, LaneBacklog>>): OutboxBacklog {
  const lanes = {} as Record<Lane, LaneBacklog>;
  const total: LaneBacklog = { count: 0, oldest_age_s: null, bytes: 0 };
  for (const name of LANE_NAMES) {
    const l = byLane[name] ?? { count: 0, bytes: 0, oldest_age_s: null };
    const age = l.oldest_age_s === null ? null : Math.max(0, Math.round(l.oldest_age_s * 10) / 10);
    lanes[name] = { count: l.count, oldest_age_s: age, bytes: l.bytes };
    total.count += l.count;
    total.bytes += l.bytes;
    if (age !== null && (total.oldest_age_s === null || age > total.oldest_age_s)) total.oldest_age_s = age;
  }
  return { lanes, total };
}
