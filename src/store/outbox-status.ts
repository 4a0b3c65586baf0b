import BetterSqlite3, { type Database } from 'better-sqlite3';
import { usedBytes } from './disk.js';
import { LANES_BY_CODE } from './event-log.js';
import { type LaneBacklog, type OutboxBacklog, OutboxQuery } from './outbox-query.js';

/** Cumulative shed counts by lane name and policy (downsampled, dropped, coalesced). */
export type ShedTotals = Record<string, Record<string, number>>;

/** One lane of `portier outbox status`. */
export type LaneStatus = LaneBacklog;

export interface OutboxStatus extends OutboxBacklog {
  /** cumulative events shed under the disk budget, by lane and policy */
  shed: ShedTotals;
  /** bytes of database pages in use */
  used_bytes: number;
}

/**
 * The outbox read straight from the database (any process): per lane the count, the oldest event's age and the
 * bytes waiting (the admin API's query), the shed counts and the pages in use. Scans the outbox once; meant for
 * the CLI, not for a hot path.
 */
export function readOutboxStatus(db: Database, nowMs: number): OutboxStatus {
  return { ...new OutboxQuery(db).read(nowMs, { bytes: true }), shed: readShedTotals(db), used_bytes: usedBytes(db) };
}

/**
 * `readOutboxStatus` of the database file at `path`, opened read-only: a status command must never migrate,
 * quarantine or write the daemon's database. Waits up to 5 s for a writer's lock.
 */
export function readOutboxStatusAt(path: string, nowMs: number): OutboxStatus {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return readOutboxStatus(db, nowMs);
  } finally {
    db.close();
  }
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
