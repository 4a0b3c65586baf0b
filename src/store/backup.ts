import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { ErrorCode, PortierError } from '../core/errors.js';
import { DB_FILE } from './database.js';

/**
 * SQLite's online backup of the gateway database (`portier backup`): a consistent snapshot taken page by page while
 * the daemon keeps writing (a plain copy of a live WAL database can be torn). The copy is written to `dest`, which
 * must not exist; it is a complete database in rollback-journal mode with no WAL beside it.
 */
export async function backupDatabase(stateDir: string, dest: string): Promise<void> {
  const path = join(stateDir, DB_FILE);
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new PortierError(
      ErrorCode.StoreCorrupt,
      `cannot open ${path}: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  try {
    await db.backup(dest);
  } finally {
    db.close();
  }
  const copy = new BetterSqlite3(dest);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

/** What a database file holds, as `portier restore` checks it before putting it in place. */
export interface DatabaseSummary {
  /** `ok`, or the first problems `PRAGMA quick_check` found */
  check: string;
  /** the log epoch stored in the file ('' for a database made before epochs) */
  epoch: string;
  /** the last seq of its event log (0 when empty) */
  lastSeq: number;
}

/** Check a database file that is not in use (a backup's copy) and read its log's epoch and end. */
export function inspectDatabase(path: string): DatabaseSummary {
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new PortierError(ErrorCode.StoreCorrupt, `not a database: ${(err as Error).message}`, {}, { cause: err });
  }
  try {
    const rows = db.pragma('quick_check(3)') as Array<{ quick_check: string }>;
    const check = rows.map((r) => r.quick_check).join('; ');
    if (check !== 'ok') return { check, epoch: '', lastSeq: 0 };
    const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (!hasEvents) return { check: 'no events table: not a Portier database', epoch: '', lastSeq: 0 };
    const lastSeq = (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0;
    const epoch =
      (db.prepare("SELECT value FROM meta WHERE key = 'log_epoch'").pluck().get() as string | undefined) ?? '';
    return { check, epoch, lastSeq };
  } catch (err) {
    return { check: (err as Error).message, epoch: '', lastSeq: 0 };
  } finally {
    db.close();
  }
}
