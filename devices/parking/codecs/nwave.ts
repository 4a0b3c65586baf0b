/**
 * Nwave parking sensors NPS405 (current) and NPS310 (earlier), from Nwave's "LoRaWAN Parking Sensor - Getting
 * Started" application protocol (section 4.2, uplink messages) and the examples Nwave published with its codec in
 * TheThingsNetwork lorawan-devices (vendor/nwave/*-codec.yaml). Ports: 1 parking status, 2 heartbeat, 3 startup,
 * 6 debug, 10 SDI tag registration (NPS405 only). Bit 0 of the first byte is the occupancy on ports 1 and 2.
 */
import { round } from '../../codec-kit.js';
import { defineLoraCodec, ignored, occupancy, type PortMessage } from './lora-codec.js';

/**
 * Nwave's compressed duration of the previous state (7 bits) in minutes: exact below 90, then 5-minute steps
 * up to 240, then hourly steps; 127 means "longer than the scale". Returned in seconds.
 */
export function nwavePreviousStateS(code: number): { previous_state_s: number; previous_state_overflow?: true } {
  if (code < 90) return { previous_state_s: code * 60 };
  if (code < 120) return { previous_state_s: (90 + (code - 90) * 5) * 60 };
  if (code < 127) return { previous_state_s: (240 + (code - 120) * 60) * 60 };
  return { previous_state_s: 660 * 60, previous_state_overflow: true };
}

const firmware = (b: Buffer): string => `${b[0]}.${b[1]}.${b[2]}`;

const NPS405_RESET = ['rejoin', 'watchdog', 'power_on', 'user_request', undefined, undefined, 'brownout', 'other'];
const NPS310_RESET = [undefined, 'watchdog', 'power_on', 'user_request', 'brownout', 'other'];

const debug = (name: string): PortMessage => ({
  min: 0,
  max: 242,
  decode: () => ignored(name, 'debug', 6),
});

/** NPS405: magnetometer + radar parking sensor, LoRaWAN class A. */
export const nwaveNps405Codec = defineLoraCodec({
  name: 'nwave-nps405',
  description: 'Nwave NPS405 parking sensor (LoRaWAN; ports 1 status, 2 heartbeat, 3 startup, 10 tag)',
  ports: {
    1: {
      min: 1,
      max: 1,
      decode: (b) => occupancy({ occupied: (b[0]! & 1) === 1, kind: 'change', ...nwavePreviousStateS(b[0]! >> 1) }),
    },
    2: {
      // Byte 0: occupancy (bit 0) and hardware health (bits 7..1, 0 = healthy); byte 1: battery, 2.5 V + 4 mV
      // per step; byte 2: temperature, signed half degrees offset by +10 °C. Later bytes are not decoded.
      min: 3,
      max: 6,
      decode: (b) =>
        occupancy({
          occupied: (b[0]! & 1) === 1,
          kind: 'heartbeat',
          battery_v: round((2500 + b[1]! * 4) / 1000, 3),
          temperature_c: b.readInt8(2) / 2 + 10,
          hw_ok: b[0]! >> 1 === 0,
        }),
    },
    3: {
      min: 5,
      max: 5,
      decode: (b) =>
        occupancy({
          occupied: (b[4]! & 1) === 1,
          kind: 'startup',
          firmware_version: firmware(b),
          reset_cause: NPS405_RESET[b[3]!],
        }),
    },
    6: debug('nwave-nps405'),
    10: {
      // A driver's SDI tag seen while parked: the tag's battery (0.1 V) and its 32-bit id.
      min: 6,
      max: 6,
      decode: (b) =>
        occupancy({
          occupied: (b[0]! & 1) === 1 ? true : undefined,
          kind: 'registration',
          ...((b[0]! & 1) === 1 ? nwavePreviousStateS(b[0]! >> 1) : {}),
          tag_battery_v: round(b[1]! / 10, 1),
          tag_id: b.subarray(2, 6).toString('hex').toUpperCase(),
        }),
    },
  },
});

/** NPS310: the earlier Nwave sensor; its status and heartbeat carry only the occupancy bit. */
export const nwaveNps310Codec = defineLoraCodec({
  name: 'nwave-nps310',
  description: 'Nwave NPS310 parking sensor (LoRaWAN; ports 1 status, 2 heartbeat, 3 startup)',
  ports: {
    1: { min: 1, max: 1, decode: (b) => occupancy({ occupied: (b[0]! & 1) === 1, kind: 'change' }) },
    2: { min: 1, max: 3, decode: (b) => occupancy({ occupied: (b[0]! & 1) === 1, kind: 'heartbeat' }) },
    3: {
      min: 5,
      max: 5,
      decode: (b) =>
        occupancy({
          occupied: (b[4]! & 1) === 1,
          kind: 'startup',
          firmware_version: firmware(b),
          reset_cause: NPS310_RESET[b[3]!],
        }),
    },
    6: debug('nwave-nps310'),
  },
});
