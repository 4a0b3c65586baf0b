import type { Database } from 'better-sqlite3';
import { ErrorCode, PortierError } from '../core/errors.js';
import { deviceMemoryKey } from './meta.js';

export interface DeviceRecord {
  id: string;
  driver: string;
  /** The driver-specific settings, already validated by the driver's schema. */
  config: Record<string, unknown>;
  /** `config` when declared in the YAML file, `runtime` when added by CLI, API or cloud. */
  source: 'config' | 'runtime';
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  driver: string;
  config: string;
  source: 'config' | 'runtime';
  created_at: string;
  updated_at: string;
}

/** The devices this gateway drives: provisioned from the config file at start, or added at run time. */
export class DeviceRegistry {
  constructor(private readonly db: Database) {}

  list(): DeviceRecord[] {
    return (this.db.prepare('SELECT * FROM devices ORDER BY id').all() as Row[]).map(toRecord);
  }

  get(id: string): DeviceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** Insert or replace a device. */
  upsert(rec: Pick<DeviceRecord, 'id' | 'driver' | 'config' | 'source'>, at = new Date().toISOString()): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, driver, config, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET driver = excluded.driver, config = excluded.config,
           source = excluded.source, updated_at = excluded.updated_at`,
      )
      .run(rec.id, rec.driver, JSON.stringify(rec.config), rec.source, at, at);
  }

  /** Remove the device, and what its driver kept across restarts: a device added again later starts afresh. */
  remove(id: string): void {
    const res = this.db.prepare('DELETE FROM devices WHERE id = ?').run(id);
    if (res.changes === 0) throw new PortierError(ErrorCode.DeviceNotFound, `no device "${id}"`);
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(deviceMemoryKey(id));
  }

  /**
   * Make the registry hold exactly the config file's devices plus the runtime ones. A config device that left
   * the file is removed; a runtime device whose id the file now declares is taken over by the file.
   */
  syncFromConfig(devices: Array<Pick<DeviceRecord, 'id' | 'driver' | 'config'>>): void {
    this.db.transaction(() => {
      const declared = new Set(devices.map((d) => d.id));
      for (const rec of this.list()) {
        if (rec.source === 'config' && !declared.has(rec.id)) this.remove(rec.id);
      }
      for (const d of devices) this.upsert({ ...d, source: 'config' });
    })();
  }
}

function toRecord(row: Row): DeviceRecord {
  return {
    id: row.id,
    driver: row.driver,
    config: JSON.parse(row.config) as Record<string, unknown>,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
