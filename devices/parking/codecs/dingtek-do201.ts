/**
 * Dingtek DO201 parking occupancy sensor (ultrasonic + magnetometer), from Dingtek's LoRaWAN protocol frame
 * (header 0x80, forced bit, device type, data type, frame length, payload, end code 0x81; big-endian fields) and
 * the examples in TheThingsNetwork lorawan-devices (vendor/dingtek/do201-codec.yaml). FPort 3.
 */
import { decodeError, round } from '../../codec-kit.js';
import { defineLoraCodec, ignored, occupancy } from './lora-codec.js';

const NAME = 'dingtek-do201';
const HEAD = 0x80;
const TAIL = 0x81;
/** Data type byte: 0x01 periodic data, 0x02 data on an alarm (park state change), 0x03 parameters. */
const DATA_TYPES = new Set([0x01, 0x02]);
const PARAMETERS = 0x03;
const DATA_FRAME = 23;
const PARAM_FRAME = 16;

export const dingtekDo201Codec = defineLoraCodec({
  name: NAME,
  description: 'Dingtek DO201 parking sensor (LoRaWAN FPort 3; 0x80 ... 0x81 frames)',
  ports: {
    3: {
      min: PARAM_FRAME,
      max: DATA_FRAME,
      decode: (b) => {
        if (b[0] !== HEAD || b[b.length - 1] !== TAIL) throw decodeError(NAME, 'garbage', 'frame is not 0x80 ... 0x81');
        // The frame states its own length; a mismatch means a cut or padded frame.
        const declared = b[4]!;
        if (declared !== b.length) {
          throw decodeError(NAME, declared > b.length ? 'truncated' : 'oversized', 'frame length byte mismatch', {
            declared,
            length: b.length,
          });
        }
        const type = b[3]!;
        if (type === PARAMETERS && b.length === PARAM_FRAME) ignored(NAME, 'parameter', 3);
        if (!DATA_TYPES.has(type) || b.length !== DATA_FRAME) {
          throw decodeError(NAME, 'garbage', `data type 0x${type.toString(16)} with ${b.length} bytes`);
        }
        const temp = b.readInt8(17);
        return occupancy({
          // The sensor's own fused decision (ultrasonic + magnetic): the park alarm nibble.
          occupied: b[7]! >> 4 !== 0,
          kind: type === 0x02 ? 'change' : 'heartbeat',
          // Ultrasonic distance to the vehicle underside (or to nothing), mm.
          distance_m: round(b.readUInt16BE(5) / 1000, 3),
          battery_v: round(b.readUInt16BE(9) / 100, 2),
          battery_ok: (b[8]! & 0x0f) === 0,
          // Outside the electronics' -40..85 °C range the byte is not a reading (the vendor example carries -117).
          temperature_c: temp < -40 || temp > 85 ? undefined : temp,
        });
      },
    },
  },
});
