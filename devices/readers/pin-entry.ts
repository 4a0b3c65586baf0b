import type { Key } from './wiegand-codec.js';

/** What one key press did to the code being typed. */
export type PinStep =
  | { kind: 'digit'; length: number }
  | { kind: 'cleared'; why: 'star' | 'timeout' }
  | { kind: 'submit'; code: string }
  | { kind: 'rejected'; reason: 'empty_pin' | 'pin_too_long' };

/**
 * Collects the digits of a PIN typed on a keypad that sends one frame per key: `*` clears, `#` submits, a pause of
 * `timeoutMs` forgets what was typed (the next person must not finish someone else's code). Pure; times in ms.
 */
export class PinEntry {
  private digits = '';
  private last = 0;
  private overflowed = false;

  constructor(
    /** digits kept at most; typing more makes the code void (Portier's offline codes have 8-10 digits) */
    readonly maxDigits = 10,
    /** ms without a key after which the typed digits are forgotten */
    readonly timeoutMs = 10_000,
  ) {}

  /** Digits typed so far (never logged). */
  get length(): number {
    return this.digits.length;
  }

  key(key: Key, atMs: number): PinStep {
    const stale = (this.digits.length > 0 || this.overflowed) && atMs - this.last > this.timeoutMs;
    this.last = atMs;
    if (stale) this.clear();
    if (key === '*') {
      this.clear();
      return { kind: 'cleared', why: 'star' };
    }
    if (key === '#') {
      const code = this.digits;
      const overflowed = this.overflowed;
      this.clear();
      if (overflowed) return { kind: 'rejected', reason: 'pin_too_long' };
      if (!code) return { kind: 'rejected', reason: 'empty_pin' };
      return { kind: 'submit', code };
    }
    if (this.digits.length >= this.maxDigits) {
      // Keep counting as void rather than keep the first digits: a truncated code would be a wrong guess.
      this.overflowed = true;
      this.digits = '';
      return { kind: 'digit', length: 0 };
    }
    if (!this.overflowed) this.digits += key;
    return { kind: 'digit', length: this.digits.length };
  }

  /** Forget the typed digits if the keypad has been idle for `timeoutMs`; true when something was forgotten. */
  expire(atMs: number): boolean {
    if ((this.digits.length === 0 && !this.overflowed) || atMs - this.last <= this.timeoutMs) return false;
    this.clear();
    return true;
  }

  clear(): void {
    this.digits = '';
    this.overflowed = false;
  }
}
