import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  candidateSlots,
  DURATION_HOURS,
  dynamicTruncate,
  matchPin,
  ONE_TIME_HOURS,
  pinCode,
  pinMessage,
  pinSlot,
} from '../../../src/access/pin.js';
import { RFC4226_HOTP } from './vectors.js';

/** The docs/pins.md test vectors: secret 00 01 .. 1f, slot 2025-06-11T08:00:00Z (1749628800). */
const SECRET = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const VECTORS: Array<{ lock: string; slot: number; hours: number; oneTime: boolean; digits: number; code: string }> = [
  { lock: 'toilet-1', slot: 1749628800, hours: 1, oneTime: false, digits: 8, code: '49560756' },
  { lock: 'toilet-1', slot: 1749628800, hours: 24, oneTime: false, digits: 8, code: '83771841' },
  { lock: 'toilet-1', slot: 1749628800, hours: 24, oneTime: true, digits: 8, code: '74972217' },
  { lock: 'toilet-1', slot: 1749628800, hours: 24, oneTime: false, digits: 9, code: '783771841' },
  { lock: 'toilet-1', slot: 1749628800, hours: 24, oneTime: false, digits: 10, code: '0783771841' },
  { lock: 'bike-garage', slot: 1749628800, hours: 168, oneTime: false, digits: 10, code: '1317269282' },
  { lock: 'toilet-1', slot: 1749632400, hours: 1, oneTime: true, digits: 9, code: '108169273' },
];

/** An independent implementation of docs/pins.md in Python's hmac module, written from the document. */
const PYTHON = `
import hmac, hashlib, struct, sys, json
secret = bytes.fromhex(sys.argv[1])
out = []
for v in json.loads(sys.argv[2]):
    msg = v['lock'].encode() + b'\\x00' + struct.pack('>QHB', v['slot'], v['hours'], 1 if v['oneTime'] else 0)
    mac = hmac.new(secret, msg, hashlib.sha256).digest()
    off = mac[-1] & 0x0f
    n = int.from_bytes(mac[off:off + 4], 'big') & 0x7fffffff
    out.append(str(n % 10 ** v['digits']).zfill(v['digits']))
print(json.dumps(out))
`;

describe('offline PIN codes (docs/pins.md)', () => {
  it('truncates like RFC 4226 (Appendix D HOTP values, HMAC-SHA-1)', () => {
    const secret = Buffer.from('12345678901234567890');
    RFC4226_HOTP.forEach((expected, counter) => {
      const msg = Buffer.alloc(8);
      msg.writeBigUInt64BE(BigInt(counter));
      expect(dynamicTruncate(createHmac('sha1', secret).update(msg).digest(), 6)).toBe(expected);
    });
  });

  it('matches the documented vectors, which an independent Python implementation reproduces', () => {
    for (const v of VECTORS) {
      expect(pinCode(SECRET, v.lock, { slotStart: v.slot, hours: v.hours, oneTime: v.oneTime }, v.digits)).toBe(v.code);
    }
    const python = JSON.parse(
      execFileSync('python3', ['-c', PYTHON, SECRET.toString('hex'), JSON.stringify(VECTORS)], { encoding: 'utf8' }),
    ) as string[];
    expect(python).toEqual(VECTORS.map((v) => v.code));
    const doc = readFileSync(new URL('../../../docs/pins.md', import.meta.url), 'utf8');
    for (const v of VECTORS) expect(doc).toContain(v.code);
  });

  it('writes the MAC input as lock, NUL, u64 slot start, u16 hours, flags (openssl-checkable)', () => {
    expect(pinMessage('toilet-1', { slotStart: 1749628800, hours: 24, oneTime: false }).toString('hex')).toBe(
      '746f696c65742d31000000000068493780001800',
    );
  });

  it('accepts a code during its slot (and 15 min early), and not before or after', () => {
    const slot = pinSlot(1749628800 + 1234, 4, false); // aligned down to 08:00 UTC
    expect(slot.slotStart).toBe(1749628800);
    const code = pinCode(SECRET, 'toilet-1', slot, 8);
    const at = (s: number) => matchPin(SECRET, 'toilet-1', code, 1749628800 + s);
    expect(at(0)).toEqual(slot);
    expect(at(4 * 3600 - 1)).toEqual(slot);
    expect(at(4 * 3600)).toBeUndefined();
    expect(at(-15 * 60)).toEqual(slot);
    expect(at(-16 * 60)).toBeUndefined();
    // the same code is not valid at another lock
    expect(matchPin(SECRET, 'toilet-2', code, 1749628800)).toBeUndefined();
  });

  it('tells one-time codes from duration codes of the same slot', () => {
    const once = pinSlot(1749628800, 24, true);
    const code = pinCode(SECRET, 'toilet-1', once, 8);
    expect(matchPin(SECRET, 'toilet-1', code, 1749628800 + 3600)).toEqual(once);
  });

  it('refuses durations outside the lists and digits outside 8-10', () => {
    expect(() => pinSlot(0, 5, false)).toThrow(/duration codes last one of/);
    expect(() => pinSlot(0, 48, true)).toThrow(/one-time codes last one of/);
    expect(() => pinCode(SECRET, 'x', pinSlot(0, 1, false), 7)).toThrow(/digits must be 8-10/);
    expect(() => pinCode(SECRET, 'x', pinSlot(0, 1, false), 11)).toThrow(/digits must be 8-10/);
    // the 6-digit truncation of a valid 8-digit code (docs' second vector) is no code any more
    expect(matchPin(SECRET, 'toilet-1', '771841', 1749628800 + 60)).toBeUndefined();
    expect(matchPin(SECRET, 'toilet-1', '83771841', 1749628800 + 60)).toMatchObject({ hours: 24 });
    expect(matchPin(SECRET, 'toilet-1', '12345', 1749628800)).toBeUndefined();
    expect(matchPin(SECRET, 'toilet-1', '12a45678', 1749628800)).toBeUndefined();
  });

  it('checks a bounded number of candidate slots (the guessing odds in docs/pins.md)', () => {
    const n = (list: readonly number[]) => list.reduce((a, b) => a + b, 0) + list.length;
    // inside the early grace: every duration also gets the next slot
    expect(candidateSlots(1749628800 + 3600 - 60).length).toBe(n(ONE_TIME_HOURS) + n(DURATION_HOURS));
    expect(candidateSlots(1749628800 + 60).length).toBe(
      n(ONE_TIME_HOURS) + n(DURATION_HOURS) - ONE_TIME_HOURS.length - DURATION_HOURS.length,
    );
  });
});
