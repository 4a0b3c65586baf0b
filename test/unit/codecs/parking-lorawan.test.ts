import { describe, expect, it } from 'vitest';
import { getCodec, reasonOfDecode } from '../../../devices/codecs.js';

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return reasonOfDecode(err);
  }
  return 'no error';
}

const bosch = getCodec('bosch-tps110');
const em400 = getCodec('milesight-em400-mud');
const do201 = getCodec('dingtek-do201');

/** TheThingsNetwork lorawan-devices, vendor/bosch/tps110-0292-codec.yaml (and ../shared/vectors/README.md). */
describe('bosch-tps110, TTN lorawan-devices examples', () => {
  it('Parking Status: fPort 1, 01 → occupied', () => {
    expect(bosch.decode('01', { fport: 1 })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, kind: 'change' },
    });
  });

  it('Heartbeat: fPort 2, 01FF → occupied, -1 °C', () => {
    expect(bosch.decode('01FF', { fport: 2 }).data).toEqual({ occupied: true, kind: 'heartbeat', temperature_c: -1 });
  });

  it('Startup with codes 804 and 885: firmware 0.29.2, system request, occupied', () => {
    expect(bosch.decode('24030000 75030000 00000000 001D02 03 01', { fport: 3 }).data).toEqual({
      occupied: true,
      kind: 'startup',
      firmware_version: '0.29.2',
      reset_cause: 'system_request',
      debug_codes: [804, 885],
    });
  });

  it('accepts the one-byte heartbeat of older firmware, without a temperature', () => {
    expect(bosch.decode('00', { fport: 2 }).data).toEqual({ occupied: false, kind: 'heartbeat' });
  });

  it('ignores device information, usage and debug uplinks', () => {
    for (const fport of [4, 5, 6]) expect(reason(() => bosch.decode('0102', { fport }))).toBe('ignored');
  });
});

/**
 * Milesight EM400-MUD: the periodic report example from Milesight's own uplink documentation
 * (milesight.com/products/docs, em400-lorawan-uplink: 017564 0367f800 04820101 050000), and the example in
 * TheThingsNetwork lorawan-devices vendor/milesight-iot/em400-mud-codec.yaml.
 */
describe('milesight-em400-mud', () => {
  it('Milesight docs example: 100 %, 24.8 °C, 257 mm, normal → occupied under the default 1 m threshold', () => {
    expect(em400.decode('0175640367f80004820101050000', { fport: 85 })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, distance_m: 0.257, temperature_c: 24.8, battery_pct: 100, tilted: false },
    });
  });

  it('TTN example: 92 %, 25.7 °C, 2116 mm, tilt → free under 1 m, occupied under a 2.5 m threshold', () => {
    const hex = '01755C 03670101 04824408 050001';
    expect(em400.decode(hex, { fport: 85 }).data).toEqual({
      occupied: false,
      distance_m: 2.116,
      temperature_c: 25.7,
      battery_pct: 92,
      tilted: true,
    });
    expect(em400.decode(hex, { fport: 85, threshold_m: 2.5 }).data.occupied).toBe(true);
  });

  it('treats the threshold as inclusive', () => {
    expect(em400.decode('04820101', { fport: 85, threshold_m: 0.257 }).data.occupied).toBe(true);
    expect(em400.decode('04820101', { fport: 85, threshold_m: 0.256 }).data.occupied).toBe(false);
  });

  it('reads "out of measuring range" (0xFFFD) as free with no distance, never as 65.533 m', () => {
    const data = em400.decode('0175640482fdff', { fport: 85 }).data;
    expect(data).toEqual({ occupied: false, battery_pct: 100 });
  });

  it('decodes a distance threshold alarm', () => {
    expect(em400.decode('84822c0101', { fport: 85 }).data).toEqual({ occupied: true, distance_m: 0.3 });
  });

  it('ignores the power-on device information packet from the Milesight docs', () => {
    const info = 'ff0bffff0101ff166329c42503920003ff090100ff0a0101ff0f00';
    expect(reason(() => em400.decode(info, { fport: 85 }))).toBe('ignored');
  });

  it('defaults to FPort 85, rejects another port, an unknown channel, a cut value and a bad threshold', () => {
    expect(em400.decode('04820101').data.occupied).toBe(true);
    expect(reason(() => em400.decode('04820101', { fport: 1 }))).toBe('wrong_port');
    expect(reason(() => em400.decode('09990101', { fport: 85 }))).toBe('garbage');
    expect(reason(() => em400.decode('048201', { fport: 85 }))).toBe('truncated');
    expect(reason(() => em400.decode('04820101', { fport: 85, threshold_m: -1 }))).toBe('bad_option');
  });
});

/** TheThingsNetwork lorawan-devices, vendor/dingtek/do201-codec.yaml. */
describe('dingtek-do201', () => {
  // Header, forced bit, type 0x31, data 0x02, length 23, level, alarms, volts, x/y/z, temp, humidity, count, tail.
  const TELEMETRY = '80 00 31 02 17 06B4 00 00 0161 0010 FFF6 FFF0 8B 2D 0001 00 81';

  it('telemetry upload: 1716 mm, 3.53 V, no alarms → free; the -117 °C byte is not a reading', () => {
    expect(do201.decode(TELEMETRY, { fport: 3 })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: false, kind: 'change', distance_m: 1.716, battery_v: 3.53, battery_ok: true },
    });
  });

  it('reads the park alarm nibble as occupied and a battery alarm as battery_ok false', () => {
    const b = Buffer.from(TELEMETRY.replaceAll(' ', ''), 'hex');
    b[7] = 0x10;
    b[8] = 0x01;
    b[17] = 0xfb; // -5 °C
    expect(do201.decode(b, { fport: 3 }).data).toMatchObject({ occupied: true, battery_ok: false, temperature_c: -5 });
  });

  it('ignores the parameter packet', () => {
    expect(reason(() => do201.decode('80 00 31 03 10 01 01 18 1E 3C 003C 14 00 00 81', { fport: 3 }))).toBe('ignored');
  });

  it('rejects a frame whose length byte disagrees, a frame without 0x80/0x81, and a short frame', () => {
    const b = Buffer.from(TELEMETRY.replaceAll(' ', ''), 'hex');
    b[4] = 0x18;
    expect(reason(() => do201.decode(b, { fport: 3 }))).toBe('truncated');
    const c = Buffer.from(TELEMETRY.replaceAll(' ', ''), 'hex');
    c[22] = 0x00;
    expect(reason(() => do201.decode(c, { fport: 3 }))).toBe('garbage');
    expect(reason(() => do201.decode('80 00 31 02 17 06B4', { fport: 3 }))).toBe('truncated');
  });
});
