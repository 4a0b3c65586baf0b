import { describe, expect, it } from 'vitest';
import { getCodec, reasonOfDecode } from '../../../devices/codecs.js';
import { nwavePreviousStateS } from '../../../devices/parking/codecs/nwave.js';

const nps405 = getCodec('nwave-nps405');
const nps310 = getCodec('nwave-nps310');

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return reasonOfDecode(err);
  }
  return 'no error';
}

/** TheThingsNetwork lorawan-devices, vendor/nwave/nps405-codec.yaml (examples published by Nwave). */
describe('nwave-nps405, TTN lorawan-devices examples', () => {
  it('Parking Status: fPort 1, 95 → occupied, previous state 74 minutes', () => {
    expect(nps405.decode('95', { fport: 1 })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: true, kind: 'change', previous_state_s: 74 * 60 },
    });
  });

  it('Heartbeat: fPort 2, 00D3D800590B → free, 3.344 V, -10 °C, hardware healthy', () => {
    expect(nps405.decode('00D3D800590B', { fport: 2 })).toEqual({
      type: 'parking.occupancy',
      data: { occupied: false, kind: 'heartbeat', battery_v: 3.344, temperature_c: -10, hw_ok: true },
    });
  });

  it('Startup: fPort 3, 0204090200 → firmware 2.4.9, power on, free', () => {
    expect(nps405.decode('0204090200', { fport: 3 }).data).toEqual({
      occupied: false,
      kind: 'startup',
      firmware_version: '2.4.9',
      reset_cause: 'power_on',
    });
  });

  it('User Registration: fPort 10, D1201F345678 → occupied, 160 minutes, tag 1F345678 at 3.2 V', () => {
    expect(nps405.decode('D1201F345678', { fport: 10 }).data).toEqual({
      occupied: true,
      kind: 'registration',
      previous_state_s: 160 * 60,
      tag_battery_v: 3.2,
      tag_id: '1F345678',
    });
  });
});

describe('nwave-nps405, documented behaviour beyond the examples', () => {
  it('reads occupancy from bit 0 of a heartbeat and hardware faults from bits 7..1', () => {
    expect(nps405.decode('03D3D8', { fport: 2 }).data).toMatchObject({ occupied: true, hw_ok: false });
  });

  it('expands the compressed previous-state duration on all three scales and flags overflow', () => {
    expect(nwavePreviousStateS(89)).toEqual({ previous_state_s: 89 * 60 });
    expect(nwavePreviousStateS(91)).toEqual({ previous_state_s: 95 * 60 });
    expect(nwavePreviousStateS(121)).toEqual({ previous_state_s: 300 * 60 });
    expect(nwavePreviousStateS(127)).toEqual({ previous_state_s: 660 * 60, previous_state_overflow: true });
  });

  it('leaves occupancy absent on a tag registration without the occupied bit', () => {
    expect(nps405.decode('00201F345678', { fport: 10 }).data).not.toHaveProperty('occupied');
  });

  it('marks debug uplinks as ignored rather than as errors', () => {
    expect(reason(() => nps405.decode('0102', { fport: 6 }))).toBe('ignored');
  });

  it('rejects wrong sizes per message type, unknown ports and a missing port', () => {
    expect(reason(() => nps405.decode('', { fport: 1 }))).toBe('truncated');
    expect(reason(() => nps405.decode('9501', { fport: 1 }))).toBe('oversized');
    expect(reason(() => nps405.decode('00D3', { fport: 2 }))).toBe('truncated');
    expect(reason(() => nps405.decode('00D3D800590B00', { fport: 2 }))).toBe('oversized');
    expect(reason(() => nps405.decode('95', { fport: 4 }))).toBe('wrong_port');
    expect(reason(() => nps405.decode('95'))).toBe('wrong_port');
    expect(reason(() => nps405.decode('zz', { fport: 1 }))).toBe('garbage');
  });
});

/** TheThingsNetwork lorawan-devices, vendor/nwave/nps310sm-codec.yaml. */
describe('nwave-nps310, TTN lorawan-devices examples', () => {
  it('Parking Status: fPort 1, 01 → occupied', () => {
    expect(nps310.decode('01', { fport: 1 }).data).toEqual({ occupied: true, kind: 'change' });
  });

  it('Heartbeat: fPort 2, 00 → free', () => {
    expect(nps310.decode('00', { fport: 2 }).data).toEqual({ occupied: false, kind: 'heartbeat' });
  });

  it('Startup: fPort 3, 010D000200 → firmware 1.13.0, power on, free', () => {
    expect(nps310.decode('010D000200', { fport: 3 }).data).toEqual({
      occupied: false,
      kind: 'startup',
      firmware_version: '1.13.0',
      reset_cause: 'power_on',
    });
  });

  it('has no tag registration port', () => {
    expect(reason(() => nps310.decode('D1201F345678', { fport: 10 }))).toBe('wrong_port');
  });
});
