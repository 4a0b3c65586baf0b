import type { Database, Statement } from 'better-sqlite3';
import type { FloorStore } from '../core/clock.js';

/** The meta key under which a device's driver keeps its memory (DriverContext.memory). */
export function deviceMemoryKey(deviceId: string): string {
  return `device-memory/${deviceId}`;
}

const FLOOR_KEY = 'time_floor_ms';
/** Counts operator settings of the floor (`portier time floor`, the `time-floor` command). */
const FLOOR_EPOCH_KEY = 'time_floor_epoch';

/** Small key/value facts that outlive a restart: the time floor, the gateway's own secrets. */
export class MetaStore implements FloorStore {
  private readonly getStmt: Statement<[string], string | undefined>;
  private readonly setStmt: Statement<[string, string]>;
  private readonly deleteStmt: Statement<[string]>;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare('SELECT value FROM meta WHERE key = ?').pluck() as Statement<
      [string],
      string | undefined
    >;
    this.setStmt = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    this.deleteStmt = db.prepare('DELETE FROM meta WHERE key = ?');
  }

  get(key: string): string | undefined {
    return this.getStmt.get(key);
  }

  set(key: string, value: string): void {
    this.setStmt.run(key, value);
  }

  readFloor(): number | undefined {
    const v = this.get(FLOOR_KEY);
    return v === undefined ? undefined : Number(v);
  }

  writeFloor(ms: number, epoch?: number): boolean {
    return this.db.transaction(() => {
      if (epoch !== undefined && this.floorEpoch() !== epoch) return false;
      this.set(FLOOR_KEY, String(ms));
      return true;
    })();
  }

  floorEpoch(): number {
    return Number(this.get(FLOOR_EPOCH_KEY) ?? '0');
  }

  replaceFloor(ms: number): number {
    return this.db.transaction(() => {
      const epoch = this.floorEpoch() + 1;
      if (ms > 0) this.set(FLOOR_KEY, String(ms));
      else this.deleteStmt.run(FLOOR_KEY);
      this.set(FLOOR_EPOCH_KEY, String(epoch));
      return epoch;
    })();
  }
}
