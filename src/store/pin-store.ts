import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { PinSlot } from '../access/pin.js';
import { ErrorCode, PortierError } from '../core/errors.js';

/** Keypad lock-out: after `freeTries` wrong codes in a row, wait `baseMs`, doubling per further wrong code. */
export interface LockoutPolicy {
  /** Wrong codes allowed before the first lock-out, 1-20, default 5. */
  freeTries: number;
  /** ms of the first lock-out, default 30000. */
  baseMs: number;
  /** ms cap of a lock-out, default 3600000 (1 h). */
  maxMs: number;
  /** ms without a wrong code after which the count starts again, default 86400000 (24 h). */
  forgetMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  freeTries: 5,
  baseMs: 30_000,
  maxMs: 3_600_000,
  forgetMs: 86_400_000,
};

/** Bytes of a per-lock PIN secret (the HMAC-SHA-256 block is 64; 32 is its full strength). */
export const PIN_SECRET_BYTES = 32;

/** Read a secret from a file's text: hex or base64url of 16-64 bytes. */
export function parsePinSecret(text: string): Buffer {
  const t = text.trim();
  const bytes = /^([0-9a-fA-F]{2})+$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64url');
  if (bytes.length < 16 || bytes.length > 64 || !/^[A-Za-z0-9_=-]+$/.test(t)) {
    throw new PortierError(ErrorCode.AccessKeyInvalid, 'a PIN secret is 16-64 bytes written as hex or base64url');
  }
  return bytes;
}

/**
 * What the keypads need to remember: each lock's secret, the one-time codes already used, and the wrong-code
 * counts. Lock-outs live in SQLite so that pulling the plug does not give a guesser fresh tries.
 */
export class PinStore {
  private readonly getSecret: Statement;
  private readonly getKeypad: Statement;
  private readonly putKeypad: Statement;
  private readonly usedOnce: Statement;
  private readonly markOnce: Statement;

  constructor(
    private readonly db: Database,
    private readonly lockout: LockoutPolicy = DEFAULT_LOCKOUT,
  ) {
    this.getSecret = db.prepare('SELECT secret FROM access_pin_secrets WHERE lock = ?').pluck();
    this.getKeypad = db.prepare('SELECT failures, locked_until, last_failure FROM access_keypad WHERE lock = ?');
    this.putKeypad = db.prepare(
      `INSERT INTO access_keypad (lock, failures, locked_until, last_failure) VALUES (?, ?, ?, ?)
       ON CONFLICT(lock) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
         last_failure = excluded.last_failure`,
    );
    this.usedOnce = db.prepare('SELECT 1 FROM access_pin_uses WHERE lock = ? AND slot = ? AND hours = ?').pluck();
    this.markOnce = db.prepare('INSERT INTO access_pin_uses (lock, slot, hours, until_ms) VALUES (?, ?, ?, ?)');
  }

  secret(lock: string): Buffer | undefined {
    return this.getSecret.get(lock) as Buffer | undefined;
  }

  /** Set a lock's secret (given, or a new random one); returns it. Replacing a secret voids every issued code. */
  setSecret(lock: string, secret: Buffer = randomBytes(PIN_SECRET_BYTES), at = new Date().toISOString()): Buffer {
    this.db
      .prepare(
        `INSERT INTO access_pin_secrets (lock, secret, created_at) VALUES (?, ?, ?)
         ON CONFLICT(lock) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
      )
      .run(lock, secret, at);
    return secret;
  }

  /** ms until the keypad takes codes again; 0 when it does now. */
  lockedFor(lock: string, nowMs: number): number {
    const row = this.getKeypad.get(lock) as { locked_until: number } | undefined;
    return row && row.locked_until > nowMs ? row.locked_until - nowMs : 0;
  }

  /** Count a wrong code; returns the wrong codes in a row and the ms of lock-out it caused (0 = none). */
  recordFailure(lock: string, nowMs: number): { failures: number; lockedMs: number } {
    const row = this.getKeypad.get(lock) as { failures: number; last_failure: number } | undefined;
    const prior = row && nowMs - row.last_failure < this.lockout.forgetMs ? row.failures : 0;
    const failures = prior + 1;
    const over = failures - this.lockout.freeTries;
    const lockedMs = over < 0 ? 0 : Math.min(this.lockout.maxMs, this.lockout.baseMs * 2 ** Math.min(over, 30));
    this.putKeypad.run(lock, failures, nowMs + lockedMs, nowMs);
    return { failures, lockedMs };
  }

  /** A good code clears the count. */
  recordSuccess(lock: string): void {
    this.db.prepare('DELETE FROM access_keypad WHERE lock = ?').run(lock);
  }

  oneTimeUsed(lock: string, slot: PinSlot): boolean {
    return this.usedOnce.get(lock, slot.slotStart, slot.hours) !== undefined;
  }

  markOneTimeUsed(lock: string, slot: PinSlot): void {
    this.markOnce.run(lock, slot.slotStart, slot.hours, (slot.slotStart + slot.hours * 3600) * 1000);
  }

  /** Forget one-time marks of codes that can no longer be valid. */
  prune(beforeMs: number): number {
    return this.db.prepare('DELETE FROM access_pin_uses WHERE until_ms < ?').run(beforeMs).changes;
  }
}
