import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, narrowToOwner, touchPrivateFile, writePrivateFile } from './private-files.js';

/** The issuer's database file in its state dir. */
export const ISSUER_DB_FILE = 'issuer.db';
/** The secret that keys the hashes of client addresses and phone numbers (0600). */
export const ISSUER_HASH_KEY_FILE = 'issuer-hash.key';
/** Issued passes are kept this long for the audit, then deleted. */
export const PASS_RETENTION_DAYS = 30;

const HOUR_S = 3600;

/** One issued pass as the audit keeps it: never the pass text, the PIN or who asked in clear. */
export interface IssuedRow {
  id: string;
  door: string;
  channel: 'web' | 'api' | 'sms';
  iat: number;
  exp: number;
  uses: number;
  /** online, offline, or refused (the gateway answered no) */
  delivered: string;
  reason?: string | undefined;
  /** keyed hash of the client (address or phone number) */
  client: string;
  pinHours?: number | undefined;
}

/**
 * The issuer's own SQLite: issued passes (the audit), hourly counters for the rate limits, and which one-time PIN
 * variants of an hour were handed out. Client addresses and phone numbers only enter as HMAC-SHA-256 under a key
 * kept in a 0600 file beside the database, so the file alone tells nobody who asked.
 */
export class IssuerStore {
  readonly db: Database.Database;
  private readonly hashKey: Buffer;

  constructor(stateDir: string) {
    ensurePrivateDir(stateDir);
    this.hashKey = loadOrCreateKey(join(stateDir, ISSUER_HASH_KEY_FILE));
    const file = join(stateDir, ISSUER_DB_FILE);
    // Created 0600 before SQLite opens it: SQLite gives its WAL and SHM files the database file's mode.
    touchPrivateFile(file);
    narrowToOwner(file);
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    for (const suffix of ['-wal', '-shm']) narrowToOwner(file + suffix);
    this.db.pragma('synchronous = NORMAL');
    if ((this.db.pragma('user_version', { simple: true }) as number) === 0) {
      this.db.exec(`
        CREATE TABLE issued (id TEXT PRIMARY KEY, door TEXT NOT NULL, channel TEXT NOT NULL, iat INTEGER NOT NULL,
          exp INTEGER NOT NULL, uses INTEGER NOT NULL, delivered TEXT NOT NULL, reason TEXT, client TEXT NOT NULL,
          pin_hours INTEGER);
        CREATE INDEX issued_iat ON issued(iat);
        CREATE TABLE hits (key TEXT NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (key, hour));
        CREATE TABLE pin_handouts (door TEXT NOT NULL, slot INTEGER NOT NULL, hours INTEGER NOT NULL,
          PRIMARY KEY (door, slot, hours));
        PRAGMA user_version = 1;`);
    }
  }

  /** The keyed hash that stands for a client address or a phone number. */
  pseudonym(kind: 'ip' | 'tel', value: string): string {
    return createHmac('sha256', this.hashKey).update(`${kind}\0${value}`).digest('base64url');
  }

  /**
   * Count one request against each limit for the hour of `nowS`, all or none: when any key is at its limit nothing
   * is counted and the key that is full is returned.
   */
  take(limits: ReadonlyArray<{ key: string; max: number }>, nowS: number): string | undefined {
    const hour = Math.floor(nowS / HOUR_S);
    const get = this.db.prepare<[string, number], { n: number }>('SELECT n FROM hits WHERE key = ? AND hour = ?');
    const bump = this.db.prepare(
      'INSERT INTO hits (key, hour, n) VALUES (?, ?, 1) ON CONFLICT (key, hour) DO UPDATE SET n = n + 1',
    );
    return this.db.transaction(() => {
      for (const l of limits) if ((get.get(l.key, hour)?.n ?? 0) >= l.max) return l.key;
      for (const l of limits) bump.run(l.key, hour);
      return undefined;
    })();
  }

  /**
   * Claim the first one-time PIN variant (by its hours) of this hour's slot not yet handed out for the door; each
   * variant is a different code, each opens once. Undefined when all are gone.
   */
  claimPinVariant(door: string, slot: number, variants: readonly number[]): number | undefined {
    const ins = this.db.prepare('INSERT OR IGNORE INTO pin_handouts (door, slot, hours) VALUES (?, ?, ?)');
    return this.db.transaction(() => {
      for (const h of variants) if (ins.run(door, slot, h).changes === 1) return h;
      return undefined;
    })();
  }

  record(row: IssuedRow): void {
    this.db
      .prepare(
        `INSERT INTO issued (id, door, channel, iat, exp, uses, delivered, reason, client, pin_hours)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        row.id,
        row.door,
        row.channel,
        row.iat,
        row.exp,
        row.uses,
        row.delivered,
        row.reason ?? null,
        row.client,
        row.pinHours ?? null,
      );
  }

  /** The audit rows, newest first. */
  issued(limit = 100): IssuedRow[] {
    const rows = this.db
      .prepare<[number], Record<string, unknown>>('SELECT * FROM issued ORDER BY iat DESC, rowid DESC LIMIT ?')
      .all(limit);
    return rows.map((r) => ({
      id: String(r.id),
      door: String(r.door),
      channel: r.channel as IssuedRow['channel'],
      iat: Number(r.iat),
      exp: Number(r.exp),
      uses: Number(r.uses),
      delivered: String(r.delivered),
      reason: r.reason === null ? undefined : String(r.reason),
      client: String(r.client),
      pinHours: r.pin_hours === null ? undefined : Number(r.pin_hours),
    }));
  }

  /** Delete what is past its keeping: counters of past hours, handouts of past days, passes after the retention. */
  purge(nowS: number): void {
    const hour = Math.floor(nowS / HOUR_S);
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM hits WHERE hour < ?').run(hour - 1);
      this.db.prepare('DELETE FROM pin_handouts WHERE slot < ?').run(nowS - 2 * 86_400);
      this.db.prepare('DELETE FROM issued WHERE iat < ?').run(nowS - PASS_RETENTION_DAYS * 86_400);
    })();
  }

  close(): void {
    this.db.close();
  }
}

function loadOrCreateKey(path: string): Buffer {
  try {
    writePrivateFile(path, randomBytes(32).toString('hex'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  narrowToOwner(path);
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
}
