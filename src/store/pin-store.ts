import { randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { PinSlot } from '../access/pin.js';
import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * A keypad's guess budget, a token bucket of wrong codes: `burst` wrong codes at once, then one more per `refillMs`.
 * Wrong codes in any window of T ms are at most `burst + floor(T / refillMs)`, whatever the guesser's pacing, power
 * cuts (the state is in SQLite) or good codes in between (they refill nothing). docs/pins.md has the arithmetic.
 */
export interface GuessBudget {
  burst: number;
  /** ms per wrong code after the burst */
  refillMs: number;
}

/**
 * The budget for each code length, chosen so that a guesser at one keypad has at most 0.01 % chance in 24 h and 0.1 %
 * in 30 days (docs/pins.md; test/integration/access/pin-guessing.test.ts simulates it). At 8 digits a guess hits one
 * of 416 codes with 4.3e-6: 10 + 6 a day. At 9 digits 5.8e-7: 10 + 48 a day. At 10 digits 1.9e-7: 10 + 144 a day.
 */
export const GUESS_BUDGETS: Readonly<Record<number, GuessBudget>> = {
  8: { burst: 10, refillMs: 4 * 3_600_000 },
  9: { burst: 10, refillMs: 30 * 60_000 },
  10: { burst: 10, refillMs: 10 * 60_000 },
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

  constructor(private readonly db: Database) {
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

  /**
   * Count a wrong code against the keypad's budget (GCRA: `locked_until` is when the next wrong code is taken);
   * returns the wrong codes in a row and the ms the keypad now refuses codes (0 = none).
   */
  recordFailure(lock: string, nowMs: number, budget: GuessBudget): { failures: number; lockedMs: number } {
    const row = this.getKeypad.get(lock) as { failures: number; locked_until: number } | undefined;
    const tolerance = (budget.burst - 1) * budget.refillMs;
    const tat = row ? row.locked_until + tolerance : Number.NEGATIVE_INFINITY;
    const lockedUntil = Math.max(tat, nowMs) + budget.refillMs - tolerance;
    const failures = (row?.failures ?? 0) + 1;
    this.putKeypad.run(lock, failures, lockedUntil, nowMs);
    return { failures, lockedMs: Math.max(0, lockedUntil - nowMs) };
  }

  /** A good code clears the count of wrong codes in a row, not the budget: it must not buy a guesser more tries. */
  recordSuccess(lock: string): void {
    this.db.prepare('UPDATE access_keypad SET failures = 0 WHERE lock = ?').run(lock);
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
