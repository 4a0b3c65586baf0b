/**
 * Milesight EM400-MUD multifunctional ultrasonic distance sensor, used as a parking bay sensor: the distance
 * becomes `occupied` with a configurable threshold. Milesight's channel/type/value format from the EM400-MUD
 * LoRaWAN uplink documentation (milesight.com, "Uplink Data"), little-endian values, FPort 85.
 */
import { type DecodeOptions, decodeError, round } from '../../codec-kit.js';
import { defineLoraCodec, ignored, occupancy } from './lora-codec.js';

const NAME = 'milesight-em400-mud';

/** m: distance at or below which the bay counts as occupied when the config gives no threshold. */
export const EM400_DEFAULT_THRESHOLD_M = 1.0;
/** The distance value the sensor sends when nothing is within its measuring range. */
const OUT_OF_RANGE = 0xfffd;

/** Value sizes by channel and type; a pair not listed here cannot be skipped safely. */
const SIZES: Readonly<Record<string, number>> = {
  '0175': 1, // battery, %
  '0367': 2, // temperature, int16 / 10 °C
  '0482': 2, // distance, uint16 mm
  '0500': 1, // position: 0 normal, 1 tilt
  '8367': 3, // temperature threshold alarm: int16 / 10 °C + alarm byte
  '8482': 3, // distance threshold alarm: uint16 mm + alarm byte
  ff0b: 1, // power on
  ff01: 1, // protocol version
  ff16: 8, // serial number
  ff09: 2, // hardware version
  ff0a: 2, // software version
  ff0f: 1, // device class
};

function threshold(opts: DecodeOptions): number {
  const t = opts.threshold_m ?? EM400_DEFAULT_THRESHOLD_M;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 10) {
    throw decodeError(NAME, 'bad_option', 'threshold_m must be a number of metres in (0, 10]', { threshold_m: t });
  }
  return t;
}

export const milesightEm400MudCodec = defineLoraCodec({
  name: NAME,
  description: 'Milesight EM400-MUD ultrasonic distance sensor as a bay sensor (LoRaWAN FPort 85, threshold_m)',
  ports: {
    85: {
      min: 2,
      max: 64,
      decode: (b, opts) => {
        const limit = threshold(opts);
        let battery: number | undefined;
        let temperature: number | undefined;
        let distanceMm: number | undefined;
        let tilted: boolean | undefined;
        let i = 0;
        while (i < b.length) {
          if (i + 2 > b.length) throw decodeError(NAME, 'truncated', 'channel header cut short', { at: i });
          const key = b.subarray(i, i + 2).toString('hex');
          const size = SIZES[key];
          if (size === undefined) throw decodeError(NAME, 'garbage', `unknown channel/type ${key}`, { at: i });
          const at = i + 2;
          if (at + size > b.length) throw decodeError(NAME, 'truncated', `value of ${key} cut short`, { at });
          if (key === '0175') battery = b[at]!;
          else if (key === '0367' || key === '8367') temperature = b.readInt16LE(at) / 10;
          else if (key === '0482' || key === '8482') distanceMm = b.readUInt16LE(at);
          else if (key === '0500') tilted = b[at] === 1;
          i = at + size;
        }
        if (distanceMm === undefined) ignored(NAME, 'device information', 85);
        // Nothing within range: on a bay-floor mounting that is an empty bay, so it reads as free.
        const inRange = distanceMm !== OUT_OF_RANGE && distanceMm < 0xfff0;
        const distance = inRange ? round(distanceMm / 1000, 3) : undefined;
        return occupancy({
          occupied: distance !== undefined && distance <= limit,
          distance_m: distance,
          temperature_c: temperature,
          battery_pct: battery,
          tilted,
        });
      },
    },
  },
});
