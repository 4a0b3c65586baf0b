import type { Database } from 'better-sqlite3';

/**
 * Run `fn` in one transaction committed with synchronous=FULL (it survives a power cut, not only a crash), then
 * go back to NORMAL. The safety level cannot change inside a transaction, so this must be the outermost one.
 */
export function durableTransaction<T>(db: Database, fn: () => T): T {
  db.pragma('synchronous = FULL');
  try {
    return db.transaction(fn)();
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}
