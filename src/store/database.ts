import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../core/errors.js';
import { backgroundQuery } from './background-query.js';
import { CACHE_SIZE_PRAGMA } from './cache-size.js';
import { isDiskFull } from './disk-space.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { ensurePrivateDir, narrowToOwner, touchPrivateFile } from './private-files.js';

export const DB_FILE = 'portier.db';
/** Bytes per database page of a new database (SQLite's default is 4096). */
export const PAGE_SIZE = 1024;
/**
 * Left in the state directory when the integrity check, which runs after the start, finds a fault: the next start
 * quarantines the database without checking again (docs/architecture.md, Storage).
 */
export const CHECK_FAILED_FILE = 'portier.db.check-failed';

export interface OpenResult {
  db: Database;
  /** Set when the previous database failed its integrity check and was moved aside (kept, never deleted). */
  quarantinedTo?: string;
}

/**
 * Open the gateway database in WAL mode and migrate it. A database that cannot be opened or read (its header, its
 * schema, the end of its log), or that the last integrity check found faulty (CHECK_FAILED_FILE), is renamed with
 * its WAL and SHM files to `portier.db.corrupt-<time>` and a fresh one is started: the gateway must come back after
 * a power cut, and the old file stays for an operator to inspect. Nothing here reads the whole file, so the start
 * does not grow with the backlog; the full check runs after the start (`checkIntegrity`).
 */
export function openDatabase(stateDir: string, log: Logger, migrations: readonly Migration[] = MIGRATIONS): OpenResult {
  // The database holds PIN secrets and the subject key: the directory is 0700 and the files 0600 whatever the umask.
  ensurePrivateDir(stateDir, log);
  const path = join(stateDir, DB_FILE);
  let quarantinedTo: string | undefined;
  let db: Database | undefined;
  const marker = join(stateDir, CHECK_FAILED_FILE);
  try {
    if (existsSync(marker) && existsSync(path)) {
      throw new PortierError(ErrorCode.StoreCorrupt, 'the integrity check of the last run found a fault');
    }
    db = open(path, log);
    probe(db);
  } catch (err) {
    db?.close();
    if (!existsSync(path)) throw err;
    // A full disk is no corruption: the database is left as it is (the disk guard released its reserve before this).
    if (isDiskFull(err)) {
      throw new PortierError(
        ErrorCode.StoreFull,
        `the disk of ${stateDir} is full: free space to open the database`,
        {},
        { cause: err },
      );
    }
    quarantinedTo = quarantine(path);
    log.error(
      { err, quarantinedTo },
      'DATABASE FAILED ITS INTEGRITY CHECK: moved aside and kept; starting on a fresh database',
    );
    db = open(path, log);
  }
  rmSync(marker, { force: true });
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
  // A new database gets small pages: every commit writes whole pages to the WAL, and most commits add a few hundred
  // bytes (docs/architecture.md, Storage writes). An existing database keeps its page size (changing it means a
  // VACUUM of the whole file).
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  for (const suffix of ['-wal', '-shm']) narrowToOwner(path + suffix, log);
  // NORMAL in WAL survives a process crash (kill -9); access commits switch to FULL for power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  db.pragma('busy_timeout = 5000');
  db.pragma(CACHE_SIZE_PRAGMA);
  return db;
}

/** Read what every start reads anyway (header, schema, the log's last page): a torn file fails here, at once. */
function probe(db: Database): void {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  if (tables.includes('events')) db.prepare('SELECT MAX(seq) FROM events').get();
  if (tables.includes('meta')) db.prepare('SELECT COUNT(*) FROM meta').get();
}

/**
 * `PRAGMA integrity_check` of the whole file on a thread of its own (a read snapshot beside the running gateway).
 * Resolves with the first problems found, or undefined when the database is sound.
 */
export async function checkIntegrity(stateDir: string): Promise<string | undefined> {
  const rows = await backgroundQuery<{ integrity_check: string }>(join(stateDir, DB_FILE), 'PRAGMA integrity_check(3)');
  const bad = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
  return bad.length ? bad.join('; ') : undefined;
}

/** Have the next start quarantine the database (a fault found while running): written atomically, 0600. */
export function quarantineAtNextStart(stateDir: string, problem: string): void {
  const marker = join(stateDir, CHECK_FAILED_FILE);
  const tmp = `${marker}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${JSON.stringify({ at: new Date().toISOString(), problem })}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, marker);
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
