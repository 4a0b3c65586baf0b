/**
 * MaxBotix-style ultrasonic rangefinders on serial (HRLV/HRXL-MaxSonar TTL or RS-232 output, 9600 8N1): each
 * reading is `R`, four ASCII digits of range in millimetres, and a carriage return. The sensor reports its
 * maximum (5000 mm, or 9999 mm on the 10 m models) when nothing is in range. Mounted over a bay, a range at or
 * below the threshold means a vehicle. Format per the MaxBotix HRLV-MaxSonar-EZ datasheet ("Serial Output").
 */
import { type Codec, type DecodeOptions, decodeError, readText, refusePort, round } from '../../codec-kit.js';
import { occupancy } from './lora-codec.js';

const NAME = 'maxbotix';
/** m: a ceiling sensor about 2.5 m above the floor sees a car roof at 1.0-1.5 m. */
export const MAXBOTIX_DEFAULT_THRESHOLD_M = 1.5;
/** mm values that mean "no target within range" on 5 m and 10 m models. */
const NO_TARGET = new Set([5000, 9999]);

function threshold(opts?: DecodeOptions): number {
  const t = opts?.threshold_m ?? MAXBOTIX_DEFAULT_THRESHOLD_M;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > 10) {
    throw decodeError(NAME, 'bad_option', 'threshold_m must be a number of metres in (0, 10]', { threshold_m: t });
  }
  return t;
}

/** Decode one `Rnnnn` reading (the trailing CR optional); options: `threshold_m`. */
export function decodeMaxbotix(input: Buffer | string, opts?: DecodeOptions) {
  refusePort(NAME, opts);
  const limit = threshold(opts);
  const line = readText(NAME, input, 8).replace(/\r?\n?$/, '');
  const m = /^R(\d*)$/.exec(line);
  if (!m) throw decodeError(NAME, 'garbage', 'not an R#### range reading');
  const digits = m[1]!;
  if (digits.length < 4) throw decodeError(NAME, 'truncated', `range has ${digits.length} digit(s), needs 4`);
  if (digits.length > 4) throw decodeError(NAME, 'oversized', `range has ${digits.length} digits, expects 4`);
  const rangeMm = Number(digits);
  if (NO_TARGET.has(rangeMm)) return occupancy({ occupied: false });
  const distance = round(rangeMm / 1000, 3);
  return occupancy({ occupied: distance <= limit, distance_m: distance });
}

export const maxbotixCodec: Codec = {
  name: NAME,
  kind: 'parking',
  input: 'text',
  description: 'MaxBotix-style ultrasonic range on serial (R####\\r, mm; threshold_m)',
  decode: decodeMaxbotix,
};
