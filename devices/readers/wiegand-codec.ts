/**
 * Wiegand frames as bits: card formats with their parity, and keypad keys. Pure (no I/O, no timing), so a frame can
 * be tested as a bit string. Bits are in wire order: index 0 is the first bit sent, the most significant.
 *
 * Layouts (HID format definitions, restated):
 * - 26-bit H10301: even parity over bits 0-12, 8-bit facility at 1, 16-bit card at 9, odd parity over 13-25.
 * - 34-bit H10306: even parity over bits 0-16, 16-bit facility at 1, 16-bit card at 17, odd parity over 17-33.
 * - 37-bit H10304: even parity over bits 0-18, 16-bit facility at 1, 19-bit card at 17, odd parity over 18-36
 *   (the two spans share bit 18, as HID defines it).
 * - Keys: 4 bits, the key's value (0-9, * = 10, # = 11), no parity; or 8 bits, the ones' complement of that value
 *   in the high nibble (HID PINpad "8-bit burst"; Rosslare "single key, 8-bit, nibbles complemented").
 */

export type Bit = 0 | 1;

/** One card format: its length, parity spans (inclusive bit indices, parity bit included) and fields. */
export interface CardFormat {
  bits: 26 | 34 | 37;
  /** HID's name of the layout. */
  name: string;
  even: readonly [number, number];
  odd: readonly [number, number];
  facility: { start: number; length: number };
  card: { start: number; length: number };
}

export const CARD_FORMATS: Readonly<Record<26 | 34 | 37, CardFormat>> = {
  26: {
    bits: 26,
    name: 'H10301',
    even: [0, 12],
    odd: [13, 25],
    facility: { start: 1, length: 8 },
    card: { start: 9, length: 16 },
  },
  34: {
    bits: 34,
    name: 'H10306',
    even: [0, 16],
    odd: [17, 33],
    facility: { start: 1, length: 16 },
    card: { start: 17, length: 16 },
  },
  37: {
    bits: 37,
    name: 'H10304',
    even: [0, 18],
    odd: [18, 36],
    facility: { start: 1, length: 16 },
    card: { start: 17, length: 19 },
  },
};

export type CardBits = keyof typeof CARD_FORMATS;
export const CARD_LENGTHS: readonly CardBits[] = [26, 34, 37];

export type Key = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';

export interface CardRead {
  kind: 'card';
  bits: CardBits;
  /** The whole frame, parity bits included, as upper-case hex padded to whole nibbles (26 bits: 7 digits). */
  hex: string;
  facility: number;
  card: number;
  /** The bits between the parity bits, as a decimal number (facility and card together). */
  number: string;
}

export interface KeyRead {
  kind: 'key';
  key: Key;
  /** 4 or 8: the frame length the keypad used. */
  bits: 4 | 8;
}

/** Why a frame was refused: a stable reason code for the driver's rejection count. */
export type FrameReason = 'bad_length' | 'parity_error' | 'bad_key';

export type FrameResult = { ok: true; value: CardRead | KeyRead } | { ok: false; reason: FrameReason; bits: number };

const KEYS: readonly Key[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'];

function field(bits: readonly Bit[], start: number, length: number): bigint {
  let v = 0n;
  for (let i = start; i < start + length; i++) v = (v << 1n) | BigInt(bits[i] ?? 0);
  return v;
}

function ones(bits: readonly Bit[], from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += bits[i] ?? 0;
  return n;
}

/** The frame as upper-case hex, padded to whole nibbles. */
export function frameHex(bits: readonly Bit[]): string {
  return field(bits, 0, bits.length)
    .toString(16)
    .toUpperCase()
    .padStart(Math.ceil(bits.length / 4), '0');
}

/**
 * Decode one frame. `cards` limits the card lengths accepted (a reader set to 26-bit refuses a 34-bit frame as
 * `bad_length`); `keys` turns keypad frames (4 and 8 bits) on or off.
 */
export function decodeFrame(
  bits: readonly Bit[],
  opts: { cards?: readonly CardBits[]; keys?: boolean } = {},
): FrameResult {
  const n = bits.length;
  const keys = opts.keys ?? true;
  if (keys && (n === 4 || n === 8)) return decodeKey(bits);
  const cards = opts.cards ?? CARD_LENGTHS;
  const format = (cards as readonly number[]).includes(n) ? CARD_FORMATS[n as CardBits] : undefined;
  if (!format) return { ok: false, reason: 'bad_length', bits: n };
  const evenOk = ones(bits, format.even[0], format.even[1]) % 2 === 0;
  const oddOk = ones(bits, format.odd[0], format.odd[1]) % 2 === 1;
  if (!evenOk || !oddOk) return { ok: false, reason: 'parity_error', bits: n };
  return {
    ok: true,
    value: {
      kind: 'card',
      bits: format.bits,
      hex: frameHex(bits),
      facility: Number(field(bits, format.facility.start, format.facility.length)),
      card: Number(field(bits, format.card.start, format.card.length)),
      number: field(bits, 1, n - 2).toString(10),
    },
  };
}

function decodeKey(bits: readonly Bit[]): FrameResult {
  const n = bits.length as 4 | 8;
  const low = Number(field(bits, n - 4, 4));
  if (n === 8 && Number(field(bits, 0, 4)) !== (~low & 0xf)) return { ok: false, reason: 'bad_key', bits: n };
  const key = KEYS[low];
  if (!key) return { ok: false, reason: 'bad_key', bits: n };
  return { ok: true, value: { kind: 'key', key, bits: n } };
}

function toBits(value: bigint, length: number): Bit[] {
  const out: Bit[] = [];
  for (let i = length - 1; i >= 0; i--) out.push(Number((value >> BigInt(i)) & 1n) as Bit);
  return out;
}

/** The frame a reader sends for a card (for stubs and tests). Throws RangeError when a field does not fit. */
export function encodeCard(bitsLength: CardBits, facility: number, card: number): Bit[] {
  const f = CARD_FORMATS[bitsLength];
  if (!Number.isInteger(facility) || facility < 0 || facility >= 2 ** f.facility.length) {
    throw new RangeError(`facility ${facility} does not fit ${f.facility.length} bits`);
  }
  if (!Number.isInteger(card) || card < 0 || card >= 2 ** f.card.length) {
    throw new RangeError(`card ${card} does not fit ${f.card.length} bits`);
  }
  const bits: Bit[] = new Array<Bit>(f.bits).fill(0);
  toBits(BigInt(facility), f.facility.length).forEach((b, i) => {
    bits[f.facility.start + i] = b;
  });
  toBits(BigInt(card), f.card.length).forEach((b, i) => {
    bits[f.card.start + i] = b;
  });
  // Parity bits sit at the ends; each makes its span's count of ones even or odd.
  bits[0] = (ones(bits, f.even[0], f.even[1]) % 2) as Bit;
  bits[f.bits - 1] = ((ones(bits, f.odd[0], f.odd[1]) + 1) % 2) as Bit;
  return bits;
}

/** The frame a keypad sends for one key, in 4-bit or 8-bit mode. */
export function encodeKey(key: Key, bitsLength: 4 | 8 = 8): Bit[] {
  const v = KEYS.indexOf(key);
  if (v < 0) throw new RangeError(`not a keypad key: ${key}`);
  const low = toBits(BigInt(v), 4);
  return bitsLength === 4 ? low : [...toBits(BigInt(~v & 0xf), 4), ...low];
}

/** A bit string ("1010…") as bits, for tests and `portier`-style tooling. */
export function parseBitString(text: string): Bit[] {
  if (!/^[01]+$/.test(text)) throw new RangeError('expected a string of 0 and 1');
  return [...text].map((c) => (c === '1' ? 1 : 0));
}
