import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { ensurePrivateDir, narrowToOwner, touchPrivateFile } from './private-files.js';

export const DB_FILE = 'portier.db';

export interface OpenResult {
  db: Database;
  /** Set when the previous database failed its integrity check and was moved aside (kept, never deleted). */
  quarantinedTo?: string;
}

/**
 * Open the gateway database in WAL mode, check its integrity, and migrate it. A database that cannot be opened or
 * fails `PRAGMA quick_check` is renamed with its WAL and SHM files to `portier.db.corrupt-<time>` and a fresh one is
 * started: the gateway must come back after a power cut, and the old file stays for an operator to inspect.
 */
export function openDatabase(stateDir: string, log: Logger, migrations: readonly Migration[] = MIGRATIONS): OpenResult {
  // The database holds PIN secrets and the subject key: the directory is 0700 and the files 0600 whatever the umask.
  ensurePrivateDir(stateDir, log);
  const path = join(stateDir, DB_FILE);
  let quarantinedTo: string | undefined;
  let db: Database | undefined;
  try {
    db = open(path, log);
    const problem = integrityProblem(db);
    if (problem) throw new PortierError(ErrorCode.StoreCorrupt, `integrity check failed: ${problem}`);
  } catch (err) {
    db?.close();
    if (!existsSync(path)) throw err;
    quarantinedTo = quarantine(path);
    log.error(
      { err, quarantinedTo },
      'DATABASE FAILED ITS INTEGRITY CHECK: moved aside and kept; starting on a fresh database',
    );
    db = open(path, log);
  }
  migrate(db, migrations);
  return quarantinedTo ? { db, quarantinedTo } : { db };
}

/**
 * Open (or create) the database. A new file is created 0600 before SQLite opens it: SQLite gives the WAL and SHM
 * files it creates the database file's mode, so they are 0600 too. Files an older version left open are narrowed.
 */
function open(path: string, log: Logger): Database {
  touchPrivateFile(path);
  narrowToOwner(path, log);
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  for (const suffix of ['-wal', '-shm']) narrowToOwner(path + suffix, log);
  // NORMAL in WAL survives a process crash (kill -9); access commits switch to FULL for power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  db.pragma('busy_timeout = 5000');
  return db;
}

function integrityProblem(db: Database): string | undefined {
  const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
  const bad = rows.map((r) => r.quick_check).filter((r) => r !== 'ok');
  return bad.length ? bad.slice(0, 3).join('; ') : undefined;
}

function quarantine(path: string): string {
  const target = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

/** Apply every migration above the database's `user_version`, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new PortierError(
      ErrorCode.StoreMigration,
      `database schema ${current} is newer than this Portier (${latest}); refusing to touch it`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
