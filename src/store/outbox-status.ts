import type { Database } from 'better-sqlite3';
import type { Lane } from '../core/events.js';
import { usedBytes } from './disk.js';
import { LANES_BY_CODE } from './event-log.js';

/** Cumulative shed counts by lane name and policy (downsampled, dropped, coalesced). */
export type ShedTotals = Record<string, Record<string, number>>;

/** One lane of `portier outbox status`. */
export interface LaneStatus {
  /** events waiting for the cloud's acknowledgement */
  count: number;
  /** s since the oldest waiting event (by its timestamp), null when none waits */
  oldest_age_s: number | null;
  /** UTF-8 bytes of the waiting events' JSON */
  bytes: number;
}

export interface OutboxStatus {
  lanes: Record<Lane, LaneStatus>;
  total: LaneStatus;
  /** cumulative events shed under the disk budget, by lane and policy */
  shed: ShedTotals;
  /** bytes of database pages in use */
  used_bytes: number;
}

/**
 * The outbox read straight from the database (any process, read-only): per lane the count, the oldest event's
 * age and the bytes waiting. Scans the outbox once; meant for the CLI, not for a hot path.
 */
export function readOutboxStatus(db: Database, nowMs: number): OutboxStatus {
  const rows = db
    .prepare(
      `SELECT o.lane AS lane, COUNT(*) AS n, COALESCE(SUM(octet_length(e.body)), 0) AS bytes, MIN(o.seq) AS first
       FROM outbox o JOIN events e ON e.seq = o.seq GROUP BY o.lane`,
    )
    .all() as Array<{ lane: number; n: number; bytes: number; first: number }>;
  const tsOf = db.prepare('SELECT ts FROM events WHERE seq = ?');
  const lanes = {} as Record<Lane, LaneStatus>;
  for (const name of LANES_BY_CODE) lanes[name] = { count: 0, oldest_age_s: null, bytes: 0 };
  const total: LaneStatus = { count: 0, oldest_age_s: null, bytes: 0 };
  for (const r of rows) {
    const name = LANES_BY_CODE[r.lane];
    if (!name) continue;
    const ts = (tsOf.get(r.first) as { ts: string } | undefined)?.ts;
    const age = ts ? Math.max(0, Math.round((nowMs - Date.parse(ts)) / 100) / 10) : null;
    lanes[name] = { count: r.n, oldest_age_s: age, bytes: r.bytes };
    total.count += r.n;
    total.bytes += r.bytes;
    if (age !== null && (total.oldest_age_s === null || age > total.oldest_age_s)) total.oldest_age_s = age;
  }
  return { lanes, total, shed: readShedTotals(db), used_bytes: usedBytes(db) };
}

/** Cumulative shed counts from `sync_shed` (empty on a database without it). */
export function readShedTotals(db: Database): ShedTotals {
  const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sync_shed'").get();
  if (!exists) return {};
  const out: ShedTotals = {};
  const rows = db.prepare('SELECT lane, policy, count FROM sync_shed').all() as Array<{
    lane: number;
    policy: string;
    count: number;
  }>;
  for (const r of rows) {
    const name = LANES_BY_CODE[r.lane] ?? String(r.lane);
    out[name] = { ...out[name], [r.policy]: r.count };
  }
  return out;
}
