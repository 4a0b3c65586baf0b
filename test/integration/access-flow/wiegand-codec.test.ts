/**
 * The Wiegand reader's pure parts: the frame codec, the frame assembler (with exact bit timings) and the PIN entry.
 * Kept with the access-flow tests because they are the door side of access; no wires here.
 */
import { describe, expect, it } from 'vitest';
import { PinEntry } from '../../../devices/readers/pin-entry.js';
import { cardValue } from '../../../devices/readers/wiegand.js';
import {
  type Bit,
  type CardRead,
  decodeFrame,
  encodeCard,
  encodeKey,
  frameHex,
  type Key,
  parseBitString,
} from '../../../devices/readers/wiegand-codec.js';
import { WiegandFrameAssembler } from '../../../devices/readers/wiegand-frames.js';

const card = (bits: string) => {
  const r = decodeFrame(parseBitString(bits));
  if (!r.ok || r.value.kind !== 'card') throw new Error(`not a card: ${JSON.stringify(r)}`);
  return r.value as CardRead;
};
const flip = (bits: Bit[], i: number): Bit[] => bits.map((b, j) => (j === i ? ((1 - b) as Bit) : b));

describe('Wiegand card frames', () => {
  // ../shared/vectors/README.md, Wiegand 26 (H10301).
  it.each([
    [101, 251, '0CA01F6'],
    [255, 65535, '1FFFFFF'],
    [0, 0, '0000001'],
  ])('26-bit: facility %i card %i is %s, and decodes back', (facility, cardNo, hex) => {
    const bits = encodeCard(26, facility, cardNo);
    expect(frameHex(bits)).toBe(hex);
    expect(decodeFrame(bits)).toEqual({
      ok: true,
      value: { kind: 'card', bits: 26, hex, facility, card: cardNo, number: String(facility * 65536 + cardNo) },
    });
  });

  it('26-bit: flipping the first or the last bit is a parity error', () => {
    for (const [f, c] of [
      [101, 251],
      [255, 65535],
      [0, 0],
    ] as const) {
      const bits = encodeCard(26, f, c);
      expect(decodeFrame(flip(bits, 0))).toEqual({ ok: false, reason: 'parity_error', bits: 26 });
      expect(decodeFrame(flip(bits, 25))).toEqual({ ok: false, reason: 'parity_error', bits: 26 });
    }
  });

  it('26-bit: a single flipped data bit anywhere is a parity error', () => {
    const bits = encodeCard(26, 101, 251);
    for (let i = 1; i < 25; i++)
      expect(decodeFrame(flip(bits, i))).toMatchObject({ ok: false, reason: 'parity_error' });
  });

  // Civintec CN56X0B reader manual, 6.4.2 and 6.4.5 (data D4 1B 81 and 89 D4 1B 81 with their parity bits), and
  // Hikvision's Wiegand 34 coding example (card 1234567890 = 0x499602D2): frames written by reader vendors.
  it('decodes vendor examples: 26-bit D41B81, 34-bit 89D41B81 and 499602D2', () => {
    expect(card('1' + '110101000001101110000001' + '0')).toMatchObject({ facility: 0xd4, card: 0x1b81 });
    const c34 = card('1' + '10001001110101000001101110000001' + '1');
    expect(c34).toMatchObject({ bits: 34, facility: 0x89d4, card: 0x1b81, number: String(0x89d41b81) });
    const hik = card('1' + '01001001100101100000001011010010' + '0');
    expect(hik.number).toBe('1234567890');
    expect(encodeCard(34, 0x4996, 0x02d2).join('')).toBe('1' + '01001001100101100000001011010010' + '0');
  });

  // H10304 layout (HID; as tabulated by OOAccess "37 Bit Card Format"): even parity over bits 0-18, odd over 18-36.
  // Expected frames computed with an independent Python implementation of that table.
  it.each([
    [1234, 456789, '104D2DF0AB'],
    [65535, 524287, '0FFFFFFFFF'],
    [0, 0, '0000000001'],
  ])('37-bit H10304: facility %i card %i is %s, and its end bits are checked', (facility, cardNo, hex) => {
    const bits = encodeCard(37, facility, cardNo);
    expect(frameHex(bits)).toBe(hex);
    expect(decodeFrame(bits)).toMatchObject({ ok: true, value: { bits: 37, facility, card: cardNo, hex } });
    expect(decodeFrame(flip(bits, 0))).toMatchObject({ ok: false, reason: 'parity_error' });
    expect(decodeFrame(flip(bits, 36))).toMatchObject({ ok: false, reason: 'parity_error' });
  });

  it('refuses lengths it does not know, and formats the reader is not set to', () => {
    expect(decodeFrame(parseBitString('1'.repeat(25)))).toEqual({ ok: false, reason: 'bad_length', bits: 25 });
    expect(decodeFrame(encodeCard(34, 1, 2), { cards: [26] })).toMatchObject({ ok: false, reason: 'bad_length' });
    expect(decodeFrame(encodeKey('5'), { keys: false })).toMatchObject({ ok: false, reason: 'bad_length' });
  });

  it('refuses fields that do not fit when encoding', () => {
    expect(() => encodeCard(26, 256, 1)).toThrow(RangeError);
    expect(() => encodeCard(26, 1, 65536)).toThrow(RangeError);
  });

  it('names a card as the card list expects, in each configured form', () => {
    const read = card(encodeCard(26, 101, 251).join(''));
    expect(cardValue(read, 'hex')).toBe('0CA01F6');
    expect(cardValue(read, 'facility_card')).toBe('101:251');
    expect(cardValue(read, 'number')).toBe(String(101 * 65536 + 251));
    // src/store/card-store.ts accepts 1-64 of [0-9A-Za-z:_-]
    for (const form of ['hex', 'facility_card', 'number'] as const) {
      expect(cardValue(read, form)).toMatch(/^[0-9A-Za-z:_-]{1,64}$/);
    }
  });
});

describe('Wiegand keypad frames', () => {
  // HID "Wiegand PINpad" installation guide, Table 1 (8-bit: high nibble is the ones' complement of the key), and
  // Rosslare AY-Q manual 4.2.3.9 (4-bit: the key's value; * = 1010, # = 1011).
  const hid8: Array<[Key, string]> = [
    ['0', '11110000'],
    ['1', '11100001'],
    ['5', '10100101'],
    ['7', '10000111'],
    ['9', '01101001'],
    ['*', '01011010'],
    ['#', '01001011'],
  ];
  it.each(hid8)('8-bit key %s is %s', (key, bits) => {
    expect(encodeKey(key, 8).join('')).toBe(bits);
    expect(decodeFrame(parseBitString(bits))).toEqual({ ok: true, value: { kind: 'key', key, bits: 8 } });
  });

  it('4-bit keys carry the value alone: * is 1010 and # is 1011', () => {
    expect(decodeFrame(parseBitString('1010'))).toMatchObject({ ok: true, value: { key: '*' } });
    expect(decodeFrame(parseBitString('1011'))).toMatchObject({ ok: true, value: { key: '#' } });
    expect(decodeFrame(parseBitString('0110'))).toMatchObject({ ok: true, value: { key: '6', bits: 4 } });
  });

  it('refuses an 8-bit key whose nibbles do not complement, and values above #', () => {
    expect(decodeFrame(parseBitString('11110001'))).toEqual({ ok: false, reason: 'bad_key', bits: 8 });
    expect(decodeFrame(parseBitString('1100'))).toEqual({ ok: false, reason: 'bad_key', bits: 4 });
    expect(decodeFrame(parseBitString('00111100'))).toEqual({ ok: false, reason: 'bad_key', bits: 8 });
  });
});

describe('frame assembly by time', () => {
  /** Feed pulses every `spacing` ms from `t0`; returns the time of the last pulse. */
  const feed = (asm: WiegandFrameAssembler, bits: Bit[], t0: number, spacing = 2) => {
    bits.forEach((b, i) => {
      asm.pulse(b, t0 + i * spacing);
    });
    return t0 + (bits.length - 1) * spacing;
  };

  it('ends a frame after 25 ms of silence, not before', () => {
    const asm = new WiegandFrameAssembler(25);
    const bits = encodeCard(26, 101, 251);
    const last = feed(asm, bits, 1000);
    expect(asm.flush(last + 24.9)).toBeUndefined();
    expect(asm.dueIn(last + 20)).toBeCloseTo(5);
    expect(asm.flush(last + 25)).toEqual({ bits });
    expect(asm.flush(last + 100)).toBeUndefined();
    expect(asm.dueIn(last + 100)).toBeUndefined();
  });

  it('keeps bits 20 ms apart in one frame, and splits two frames 30 ms apart at the flush between them', () => {
    const asm = new WiegandFrameAssembler(25);
    const first = encodeKey('1');
    const second = encodeKey('#');
    const last = feed(asm, first, 0, 20);
    expect(asm.flush(last + 20)).toBeUndefined();
    expect(asm.flush(last + 25)).toEqual({ bits: first });
    const end = feed(asm, second, last + 30);
    expect(asm.flush(end + 25)).toEqual({ bits: second });
  });

  it('never ends a frame on a late pulse: after a stall the pulses that waited join the frame they belong to', () => {
    const asm = new WiegandFrameAssembler(25);
    const bits = encodeCard(26, 101, 251);
    feed(asm, bits.slice(0, 10), 0);
    // The process stalled for 80 ms; the rest of the frame is delivered at once, then the flush comes.
    const end = feed(asm, bits.slice(10), 98, 0.01);
    expect(asm.flush(end + 25)).toEqual({ bits });
  });

  it('reports a burst longer than 64 bits as an overflow, and starts clean after it', () => {
    const asm = new WiegandFrameAssembler(25);
    const last = feed(asm, new Array<Bit>(80).fill(1), 0, 1);
    expect(asm.flush(last + 25)).toEqual({ overflow: 80 });
    const bits = encodeCard(26, 1, 2);
    const end = feed(asm, bits, last + 100);
    expect(asm.flush(end + 30)).toEqual({ bits });
  });
});

describe('PIN entry on a keypad', () => {
  const type = (entry: PinEntry, keys: string, t0 = 0, every = 500) =>
    [...keys].map((k, i) => entry.key(k as Key, t0 + i * every));

  it('submits the digits on #, and * clears what was typed', () => {
    const entry = new PinEntry();
    expect(type(entry, '123456#').at(-1)).toEqual({ kind: 'submit', code: '123456' });
    const steps = type(entry, '99*654321#', 10_000);
    expect(steps[2]).toEqual({ kind: 'cleared', why: 'star' });
    expect(steps.at(-1)).toEqual({ kind: 'submit', code: '654321' });
  });

  it('forgets digits after the timeout, so the next person does not finish a stranger’s code', () => {
    const entry = new PinEntry(8, 10_000);
    type(entry, '123', 0);
    expect(entry.expire(5_000)).toBe(false);
    expect(entry.key('4', 20_000)).toEqual({ kind: 'digit', length: 1 });
    expect(entry.key('#', 20_500)).toEqual({ kind: 'submit', code: '4' });
    type(entry, '77', 30_000);
    expect(entry.expire(45_000)).toBe(true);
    expect(entry.length).toBe(0);
  });

  it('voids a code longer than the maximum instead of truncating it, and refuses an empty #', () => {
    const entry = new PinEntry(8);
    expect(type(entry, '123456789#').at(-1)).toEqual({ kind: 'rejected', reason: 'pin_too_long' });
    expect(entry.key('#', 99_000)).toEqual({ kind: 'rejected', reason: 'empty_pin' });
    expect(type(entry, '12345678#', 100_000).at(-1)).toEqual({ kind: 'submit', code: '12345678' });
  });
});
