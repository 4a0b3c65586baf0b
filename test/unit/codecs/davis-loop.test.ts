import { describe, expect, it } from 'vitest';
import { reasonOfDecode } from '../../../devices/codecs.js';
import { appendDavisCrc, crc16Xmodem } from '../../../devices/weather/codecs/davis-crc.js';
import { decodeDavisLoop, LOOP_PACKET_BYTES } from '../../../devices/weather/codecs/davis-loop.js';
import { ErrorCode, PortierError } from '../../../src/core/errors.js';

/** PyVantagePro test suite (LionelDarras/PyVantagePro, the packet restated in ../shared/vectors/README.md). */
const PYVANTAGEPRO_LOOP =
  '4c4f4f14003e032175da0239d10204056301ffffffffffffffffffffffffffffff4effffffffffffff0000ffff7f0000ffff000000000000' +
  '000000000000ffffffffffffff0000000000000000000000000000000000002703064b26023e070a0d1163';

/**
 * PyVantagePro pyvantagepro/tests/test_parser.py: a console with no outside sensors (TempOut 3276.7, HumOut 255,
 * WindSpeed 255, WindDir 32767, RainRate 655.35, UV 255, SolarRad 32767, Barometer 31.572, RainYear 8.28).
 */
const PYVANTAGEPRO_NO_ISS =
  '4C4F4FC4006802547B52031EFF7FFFFFFF7FFFFFFFFFFFFF' +
  'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7F0000' +
  'FFFF000000003C03000000000000FFFFFFFFFFFFFF000000' +
  '0000000000000000000000000000008C00060C610183070A' +
  '0D2A3C';

function failure(fn: () => unknown): PortierError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PortierError) return err;
    throw err;
  }
  throw new Error('expected a PortierError');
}

/** A LOOP2 packet laid out from the Davis manual rev 2.6.1 (LOOP2 table), sealed with our own CRC. */
function buildLoop2(set: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(97, 0);
  b.write('LOO', 0, 'latin1');
  b.writeInt8(0, 3);
  b.writeUInt8(1, 4);
  b.writeUInt16LE(0x7fff, 5);
  b.writeUInt8(0xff, 15);
  b.write('\n\r', 95, 'latin1');
  set(b);
  return appendDavisCrc(b);
}

describe('CRC-16/XMODEM', () => {
  it('gives the catalogue check value 0x31C3 for "123456789" (reveng CRC catalogue, CRC-16/XMODEM)', () => {
    expect(crc16Xmodem(Buffer.from('123456789', 'latin1'))).toBe(0x31c3);
  });

  it('is 0 over the PyVantagePro GETTIME answer with its CRC (test_parser.py test_datetime_parser)', () => {
    expect(crc16Xmodem(Buffer.from('25350A07067060BA', 'hex'))).toBe(0);
  });

  it('seals a body so the CRC over the whole packet is 0', () => {
    const sealed = appendDavisCrc(Buffer.from('hello davis', 'latin1'));
    expect(crc16Xmodem(sealed)).toBe(0);
    expect(sealed.length).toBe(13);
  });
});

describe('davis-loop LOOP (type 0)', () => {
  it('decodes the PyVantagePro packet to SI units, leaving UV and solar absent (0xFF, 0x7FFF = no sensor)', () => {
    const ev = decodeDavisLoop(PYVANTAGEPRO_LOOP);
    expect(ev.type).toBe('weather.reading');
    // 29.985 inHg, 72.1 °F, 78 %, 4 mph from 355°; rain rate and day rain 0 clicks; transmitter battery byte 0.
    expect(ev.data).toEqual({
      pressure_hpa: 1015.41,
      temperature_c: 22.28,
      humidity_pct: 78,
      wind_speed_ms: 1.79,
      wind_dir_deg: 355,
      rain_mm: 0,
      rain_rate_mm_h: 0,
      battery_ok: true,
    });
    expect(ev.data).not.toHaveProperty('uv_index');
    expect(ev.data).not.toHaveProperty('solar_wm2');
  });

  it('accepts the same packet as raw bytes', () => {
    expect(decodeDavisLoop(Buffer.from(PYVANTAGEPRO_LOOP, 'hex'))).toEqual(decodeDavisLoop(PYVANTAGEPRO_LOOP));
  });

  it('drops every dashed field of a console without outside sensors (PyVantagePro test_parser.py)', () => {
    const ev = decodeDavisLoop(PYVANTAGEPRO_NO_ISS);
    // Only the barometer (31.572 inHg), the day rain counter (0) and the battery byte (0) are real values.
    expect(ev.data).toEqual({ pressure_hpa: 1069.15, rain_mm: 0, battery_ok: true });
  });

  it('scales rain clicks by the configured collector', () => {
    const b = Buffer.from(PYVANTAGEPRO_LOOP, 'hex').subarray(0, 97);
    b.writeUInt16LE(100, 50); // 100 clicks today
    b.writeUInt16LE(12, 41); // 12 clicks per hour
    const packet = appendDavisCrc(b);
    expect(decodeDavisLoop(packet).data).toMatchObject({ rain_mm: 25.4, rain_rate_mm_h: 3.048 });
    expect(decodeDavisLoop(packet, { rain_collector: '0.2mm' }).data).toMatchObject({
      rain_mm: 20,
      rain_rate_mm_h: 2.4,
    });
    expect(decodeDavisLoop(packet, { rain_collector: '0.1mm' }).data).toMatchObject({
      rain_mm: 10,
      rain_rate_mm_h: 1.2,
    });
    const bad = failure(() => decodeDavisLoop(packet, { rain_collector: '1cm' }));
    expect(bad.code).toBe(ErrorCode.DeviceConfigInvalid);
    expect(reasonOfDecode(bad)).toBe('bad_option');
  });

  it('reports a low transmitter battery as battery_ok false', () => {
    const b = Buffer.from(PYVANTAGEPRO_LOOP, 'hex').subarray(0, 97);
    b.writeUInt8(0x01, 86);
    expect(decodeDavisLoop(appendDavisCrc(b)).data.battery_ok).toBe(false);
  });

  it('normalizes a north wind sent as 360° to 0°, and drops direction 0 (no wind data)', () => {
    const b = Buffer.from(PYVANTAGEPRO_LOOP, 'hex').subarray(0, 97);
    b.writeUInt16LE(360, 16);
    expect(decodeDavisLoop(appendDavisCrc(b)).data.wind_dir_deg).toBe(0);
    b.writeUInt16LE(0, 16);
    expect(decodeDavisLoop(appendDavisCrc(b)).data).not.toHaveProperty('wind_dir_deg');
  });

  it('decodes a negative outside temperature (signed tenths of °F)', () => {
    const b = Buffer.from(PYVANTAGEPRO_LOOP, 'hex').subarray(0, 97);
    b.writeInt16LE(-40, 12); // -4.0 °F
    expect(decodeDavisLoop(appendDavisCrc(b)).data.temperature_c).toBe(-20);
  });
});

describe('davis-loop LOOP2 (type 1)', () => {
  it('decodes gust and dew point, which only LOOP2 carries, and has no battery byte', () => {
    const p = buildLoop2((b) => {
      b.writeUInt16LE(30012, 7); // 30.012 inHg
      b.writeInt16LE(-25, 12); // -2.5 °F
      b.writeUInt8(12, 14); // 12 mph
      b.writeUInt16LE(90, 16); // east
      b.writeUInt16LE(23, 22); // 10-min gust 23 mph
      b.writeInt16LE(-10, 30); // dew point -10 °F
      b.writeUInt8(64, 33); // 64 %
      b.writeUInt16LE(0, 41);
      b.writeUInt8(35, 43); // UV 3.5
      b.writeUInt16LE(412, 44); // 412 W/m²
      b.writeUInt16LE(7, 50); // 7 clicks today
    });
    expect(p.length).toBe(LOOP_PACKET_BYTES);
    expect(decodeDavisLoop(p).data).toEqual({
      pressure_hpa: 1016.32,
      temperature_c: -19.17,
      humidity_pct: 64,
      wind_speed_ms: 5.36,
      wind_gust_ms: 10.28,
      wind_dir_deg: 90,
      dew_point_c: -23.33,
      rain_mm: 1.778,
      rain_rate_mm_h: 0,
      uv_index: 3.5,
      solar_wm2: 412,
    });
  });

  it('drops every dashed field, and rejects a packet with nothing left as out_of_range', () => {
    const p = buildLoop2((b) => {
      b.writeUInt16LE(0xff, 22);
      b.writeInt16LE(255, 30);
      b.writeUInt8(0xff, 33);
      b.writeInt16LE(0x7fff, 12);
      b.writeUInt8(0xff, 14);
      b.writeUInt16LE(0xffff, 41);
      b.writeUInt8(0xff, 43);
      b.writeUInt16LE(0x7fff, 44);
      b.writeUInt16LE(0xffff, 50);
    });
    expect(reasonOfDecode(failure(() => decodeDavisLoop(p)))).toBe('out_of_range');
  });
});

describe('davis-loop rejects', () => {
  it.each([
    ['truncated', PYVANTAGEPRO_LOOP.slice(0, -2), ErrorCode.DeviceDecodeFailed],
    ['oversized', `${PYVANTAGEPRO_LOOP}00`, ErrorCode.DeviceDecodeFailed],
    ['garbage', 'not hex at all', ErrorCode.DeviceDecodeFailed],
    ['garbage', `00${PYVANTAGEPRO_LOOP.slice(2)}`, ErrorCode.DeviceDecodeFailed],
    ['bad_crc', `${PYVANTAGEPRO_LOOP.slice(0, 30)}ff${PYVANTAGEPRO_LOOP.slice(32)}`, ErrorCode.DeviceChecksum],
  ])('%s: %s', (reason, input, code) => {
    const err = failure(() => decodeDavisLoop(input));
    expect(reasonOfDecode(err)).toBe(reason);
    expect(err.code).toBe(code);
  });

  it('rejects an unknown packet type even with a good CRC', () => {
    const p = buildLoop2((b) => b.writeUInt8(2, 4));
    expect(reasonOfDecode(failure(() => decodeDavisLoop(p)))).toBe('garbage');
  });

  it('refuses an FPort: a serial console is not a LoRaWAN device', () => {
    expect(reasonOfDecode(failure(() => decodeDavisLoop(PYVANTAGEPRO_LOOP, { fport: 1 })))).toBe('wrong_port');
  });
});
