/**
 * Bosch Parking Lot Sensor (TPS110, "PLS"), from Bosch's "Parking Lot Sensor | Communication Interface -
 * Technical Description" and the examples in TheThingsNetwork lorawan-devices (vendor/bosch/tps110-0292-codec.yaml).
 * Ports: 1 parking status, 2 heartbeat, 3 startup, 4 device information, 5 device usage, 6 debug.
 */
import { defineLoraCodec, ignored, occupancy } from './lora-codec.js';

const NAME = 'bosch-tps110';
const RESET = [undefined, 'watchdog', 'power_on', 'system_request', 'other'];

export const boschTps110Codec = defineLoraCodec({
  name: NAME,
  description: 'Bosch Parking Lot Sensor TPS110 (LoRaWAN; ports 1 status, 2 heartbeat, 3 startup)',
  ports: {
    // Bit 0 of byte 0 is the parking state on every message that carries one.
    1: { min: 1, max: 1, decode: (b) => occupancy({ occupied: (b[0]! & 1) === 1, kind: 'change' }) },
    // Heartbeat: the state, then (newer firmware) the temperature as a signed whole °C.
    2: {
      min: 1,
      max: 2,
      decode: (b) =>
        occupancy({
          occupied: (b[0]! & 1) === 1,
          kind: 'heartbeat',
          temperature_c: b.length >= 2 ? b.readInt8(1) : undefined,
        }),
    },
    // Startup: three 4-byte debug records (12-bit codes), firmware major.minor.patch, reset cause, state.
    3: {
      min: 17,
      max: 17,
      decode: (b) => {
        const debugCodes: number[] = [];
        for (let i = 0; i < 12; i += 4) {
          const code = ((b[i + 1]! & 0x0f) << 8) | b[i]!;
          if (code) debugCodes.push(code);
        }
        return occupancy({
          occupied: (b[16]! & 1) === 1,
          kind: 'startup',
          firmware_version: `${b[12]}.${b[13]}.${b[14]}`,
          reset_cause: RESET[b[15]!],
          debug_codes: debugCodes.length ? debugCodes : undefined,
        });
      },
    },
    4: { min: 0, max: 242, decode: () => ignored(NAME, 'device information', 4) },
    5: { min: 0, max: 242, decode: () => ignored(NAME, 'device usage', 5) },
    6: { min: 0, max: 242, decode: () => ignored(NAME, 'debug', 6) },
  },
});
