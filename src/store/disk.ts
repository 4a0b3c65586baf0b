import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';

/** Bytes of database pages holding data: (page_count - freelist_count) * page_size. Cheap: header reads only. */
export function usedBytes(db: Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/** Bytes of free pages inside the file (kept by SQLite for reuse until an incremental vacuum returns them). */
export function freeBytes(db: Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  return (db.pragma('freelist_count', { simple: true }) as number) * pageSize;
}

/** bytes; a database smaller than this is converted to incremental auto-vacuum at start (one quick VACUUM) */
const CONVERT_BELOW_BYTES = 64 * 1024 * 1024;

/**
 * Make the database able to give pages back to the file system (auto_vacuum = INCREMENTAL), so that shedding and
 * draining really return disk. The mode can only change with a VACUUM, which rewrites the file; that is quick on
 * a young database and is done then. A large existing one keeps its mode (its freed pages are still reused by
 * SQLite, so it does not grow further) and the log says so. Returns the mode in force.
 */
export function ensureIncrementalVacuum(db: Database, log: Logger): 'incremental' | 'none' | 'full' {
  const mode = db.pragma('auto_vacuum', { simple: true }) as number;
  if (mode === 2) return 'incremental';
  if (mode === 1) return 'full';
  const size =
    (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number);
  if (size >= CONVERT_BELOW_BYTES) {
    log.info(
      { sizeBytes: size },
      'database is not in incremental auto-vacuum mode; freed pages are reused, not returned',
    );
    return 'none';
  }
  try {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
    return (db.pragma('auto_vacuum', { simple: true }) as number) === 2 ? 'incremental' : 'none';
  } catch (err) {
    log.warn({ err }, 'could not switch the database to incremental auto-vacuum');
    return 'none';
  }
}

/** Return up to `maxPages` free pages to the file system (no-op unless in incremental mode). */
export function releaseFreePages(db: Database, maxPages: number): void {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) return;
  db.pragma(`incremental_vacuum(${Math.max(1, Math.floor(maxPages))})`);
}
