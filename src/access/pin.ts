import { createHmac } from 'node:crypto';
import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * Offline PIN codes for keypads (docs/pins.md). The issuer and the gateway share a per-lock secret; a code is
 *
 *   HMAC-SHA-256(secret, utf8(lock) || 0x00 || u64be(slot_start_s) || u16be(hours) || u8(flags))
 *
 * dynamically truncated as in RFC 4226 section 5.3 to 8-10 decimal digits (each lock takes exactly its `pin_length`). `slot_start_s` is a Unix time that is a
 * multiple of 3600 (an hour-aligned slot, the same everywhere whatever the time zone), `hours` the validity from
 * there, `flags` bit 0 = one-time code. Putting `flags` under the MAC keeps a one-time code from being replayed as
 * a duration code. The gateway needs no network: it recomputes the codes of the slots around now.
 */

export const SLOT_S = 3600;
/** Durations a duration code may have, hours. A short fixed list keeps the number of candidates (and so the odds
 * of a guessed code) small: see docs/pins.md. */
export const DURATION_HOURS = [1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 168] as const;
/** Durations of one-time codes, hours: the time within which the single opening must happen. */
export const ONE_TIME_HOURS = [1, 2, 4, 8, 12, 24] as const;
/**
 * Code lengths. Fewer than 8 digits cannot meet docs/pins.md's promise (at most 0.01 % in 24 h of guessing): with up
 * to 416 codes valid at once, one guess at 7 digits already has 0.004 %. 10 is the most a 31-bit truncation gives.
 */
export const MIN_DIGITS = 8;
export const MAX_DIGITS = 10;
/** The default code length of a lock (`pin_length`). */
export const DEFAULT_DIGITS = 8;
/** s before a slot starts during which its code is already accepted (someone arriving a little early). */
export const EARLY_GRACE_S = 15 * 60;

export interface PinSlot {
  /** Unix time, s, multiple of 3600. */
  slotStart: number;
  hours: number;
  oneTime: boolean;
}

/** RFC 4226 section 5.3 dynamic truncation of any HMAC output (20 bytes for SHA-1, 32 for SHA-256). */
export function dynamicTruncate(mac: Uint8Array, digits: number): string {
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The MAC input of docs/pins.md. */
export function pinMessage(lock: string, slot: PinSlot): Buffer {
  const lockBytes = Buffer.from(lock, 'utf8');
  const msg = Buffer.alloc(lockBytes.length + 1 + 8 + 2 + 1);
  lockBytes.copy(msg, 0);
  let o = lockBytes.length;
  msg[o++] = 0;
  msg.writeBigUInt64BE(BigInt(slot.slotStart), o);
  o += 8;
  msg.writeUInt16BE(slot.hours, o);
  o += 2;
  msg[o] = slot.oneTime ? 1 : 0;
  return msg;
}

/** The code for one slot. */
export function pinCode(secret: Uint8Array, lock: string, slot: PinSlot, digits = DEFAULT_DIGITS): string {
  if (!Number.isInteger(digits) || digits < MIN_DIGITS || digits > MAX_DIGITS) {
    throw new PortierError(ErrorCode.AccessMalformed, `PIN digits must be ${MIN_DIGITS}-${MAX_DIGITS}`);
  }
  const mac = createHmac('sha256', secret).update(pinMessage(lock, slot)).digest();
  return dynamicTruncate(mac, digits);
}

/** Check and complete an issue request: slot start aligned, a duration from the allowed lists. */
export function pinSlot(startS: number, hours: number, oneTime: boolean): PinSlot {
  const allowed: readonly number[] = oneTime ? ONE_TIME_HOURS : DURATION_HOURS;
  if (!allowed.includes(hours)) {
    throw new PortierError(
      ErrorCode.AccessMalformed,
      `${oneTime ? 'one-time' : 'duration'} codes last one of ${allowed.join(', ')} hours`,
    );
  }
  return { slotStart: Math.floor(startS / SLOT_S) * SLOT_S, hours, oneTime };
}

/**
 * Every slot whose code would be valid at `nowS`: for each allowed duration, the slot starts from `hours - 1`
 * hours ago up to the current hour, plus the next hour within the early grace.
 */
export function candidateSlots(nowS: number): PinSlot[] {
  const current = Math.floor(nowS / SLOT_S) * SLOT_S;
  const early = current + SLOT_S - nowS <= EARLY_GRACE_S ? current + SLOT_S : undefined;
  const out: PinSlot[] = [];
  for (const [oneTime, list] of [
    [true, ONE_TIME_HOURS],
    [false, DURATION_HOURS],
  ] as const) {
    for (const hours of list) {
      if (early !== undefined) out.push({ slotStart: early, hours, oneTime });
      for (let back = 0; back < hours; back++) out.push({ slotStart: current - back * SLOT_S, hours, oneTime });
    }
  }
  return out;
}

/** Find the slot a code belongs to at `nowS`, or undefined. Codes of 8-10 digits; the length gives the digits. */
export function matchPin(secret: Uint8Array, lock: string, code: string, nowS: number): PinSlot | undefined {
  if (!/^\d+$/.test(code) || code.length < MIN_DIGITS || code.length > MAX_DIGITS) return undefined;
  for (const slot of candidateSlots(nowS)) {
    if (pinCode(secret, lock, slot, code.length) === code) return slot;
  }
  return undefined;
}
