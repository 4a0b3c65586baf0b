import type { Database, Statement } from 'better-sqlite3';
import type { FloorStore } from '../core/clock.js';

/** The meta key under which a device's driver keeps its memory (DriverContext.memory). */
export function deviceMemoryKey(deviceId: string): string {
  return `device-memory/${deviceId}`;
}

/** Small key/value facts that outlive a restart: the time floor, the gateway's own secrets. */
export class MetaStore implements FloorStore {
  private readonly getStmt: Statement<[string], string | undefined>;
  private readonly setStmt: Statement<[string, string]>;

  constructor(db: Database) {
    this.getStmt = db.prepare('SELECT value FROM meta WHERE key = ?').pluck() as Statement<
      [string],
      string | undefined
    >;
    this.setStmt = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key);
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }

  readFloor(): number | undefined {
    const v = this.get('time_floor_ms');
    return v === undefined ? undefined : Number(v);
  }

  writeFloor(ms: number): void {
    this.set('time_floor_ms', String(ms));
  }
}
