import { describe, expect, it } from 'vitest';
import { appendDavisCrc } from '../../../devices/weather/codecs/davis-crc.js';
import { frameLoopStream, LoopFramer } from '../../../devices/weather/codecs/davis-framer.js';
import { decodeDavisLoop } from '../../../devices/weather/codecs/davis-loop.js';

/** PyVantagePro test suite packet (see ../shared/vectors/README.md). */
const REAL = Buffer.from(
  '4c4f4f14003e032175da0239d10204056301ffffffffffffffffffffffffffffff4effffffffffffff0000ffff7f0000ffff000000000000' +
    '000000000000ffffffffffffff0000000000000000000000000000000000002703064b26023e070a0d1163',
  'hex',
);

/** The same packet with another outside temperature, resealed, so two packets in a stream are distinguishable. */
function variant(tempTenthsF: number): Buffer {
  const b = Buffer.from(REAL.subarray(0, 97));
  b.writeInt16LE(tempTenthsF, 12);
  return appendDavisCrc(b);
}

describe('frameLoopStream', () => {
  it('skips the ACK before a packet and returns the packet', () => {
    const r = frameLoopStream(Buffer.concat([Buffer.from([0x06]), REAL]));
    expect(r.packets).toEqual([REAL]);
    expect(r.skipped).toBe(1);
    expect(r.rest.length).toBe(0);
  });

  it('keeps a partial packet, and a trailing "LO", as rest', () => {
    expect(frameLoopStream(REAL.subarray(0, 50)).rest).toEqual(REAL.subarray(0, 50));
    const r = frameLoopStream(Buffer.concat([REAL, Buffer.from('xxLO', 'latin1')]));
    expect(r.packets.length).toBe(1);
    expect(r.rest.toString('latin1')).toBe('LO');
    expect(r.skipped).toBe(2);
  });

  it('resyncs after a false "LOO" inside garbage and still finds the real packet behind it', () => {
    const stream = Buffer.concat([Buffer.from('noise LOO noise', 'latin1'), REAL]);
    const r = frameLoopStream(stream);
    expect(r.packets).toEqual([REAL]);
    expect(r.badCrc).toBe(1);
    expect(r.skipped).toBe(15);
  });

  it('counts a corrupted packet as bad CRC and recovers on the next one', () => {
    const bad = Buffer.from(REAL);
    bad[40] = (bad[40] ?? 0) ^ 0x01;
    const r = frameLoopStream(Buffer.concat([bad, REAL]));
    expect(r.packets).toEqual([REAL]);
    expect(r.badCrc).toBe(1);
  });
});

describe('LoopFramer', () => {
  it('reassembles packets split at every possible chunk size, with noise between them', () => {
    const a = variant(700);
    const b = variant(-15);
    const stream = Buffer.concat([Buffer.from([0x06, 0x0a, 0x0d]), a, Buffer.from('LOOP junk', 'latin1'), b]);
    for (let size = 1; size <= stream.length; size += 7) {
      const framer = new LoopFramer();
      const got: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) got.push(...framer.push(stream.subarray(i, i + size)));
      expect(got, `chunk size ${size}`).toEqual([a, b]);
      expect(framer.pending).toBe(0);
      expect(got.map((p) => decodeDavisLoop(p).data.temperature_c)).toEqual([21.11, -18.61]);
    }
  });

  it('never holds more than one partial packet of bytes', () => {
    const framer = new LoopFramer();
    framer.push(Buffer.alloc(10_000, 0x41));
    expect(framer.pending).toBe(0);
    expect(framer.skipped).toBe(10_000);
    framer.push(REAL.subarray(0, 98));
    expect(framer.pending).toBe(98);
  });
});
