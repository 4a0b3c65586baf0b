import type { Database } from 'better-sqlite3';
import type { PortierEvent } from '../core/events.js';
import { backgroundQuery } from './background-query.js';

/**
 * The latest event of each (device, type) among the newest `scanRows` events of the given types, oldest first (the
 * dashboard's state seed). The scan, which grows with the log up to `scanRows`, runs on a thread of its own; this
 * thread reads only the rows it found.
 */
export async function latestEvents(db: Database, types: readonly string[], scanRows: number): Promise<PortierEvent[]> {
  const upTo = (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0;
  const sql = `SELECT MAX(seq) AS seq FROM (SELECT seq, dev, type FROM events WHERE seq <= ? AND type IN (${types.map(() => '?').join(', ')})
    ORDER BY seq DESC LIMIT ?) GROUP BY dev, type`;
  const params = [upTo, ...types, scanRows];
  const found = db.memory
    ? (db.prepare(sql).all(...params) as Array<{ seq: number }>)
    : await backgroundQuery<{ seq: number }>(db.name, sql, params);
  if (!db.open) return [];
  const body = db.prepare('SELECT body FROM events WHERE seq = ?').pluck();
  return found
    .map((r) => body.get(r.seq) as string | undefined)
    .filter((b): b is string => b !== undefined)
    .map((b) => JSON.parse(b) as PortierEvent)
    .sort((a, b) => a.seq - b.seq);
}
