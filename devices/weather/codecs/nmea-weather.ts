/**
 * NMEA 0183 weather sentences from a serial weather sensor (Airmar, Gill, LCJ and other ultrasonic stations):
 * `$--MDA` (meteorological composite) and `$--MWV` (wind speed and angle). A sentence is `$`, talker and type,
 * comma-separated fields, `*` and two hex digits: the XOR of every character between `$` and `*`.
 * Field layouts per NMEA 0183 (as restated in the gpsd "NMEA 0183 revealed" reference).
 */
import {
  type Codec,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readText,
  refusePort,
} from '../../codec-kit.js';
import { num, type WeatherFields, weatherReading } from './reading.js';
import { barToHpa, celsius, inHgToHpa, kmhToMs, knotsToMs, mphToMs, ms, windDir } from './units.js';

const NAME = 'nmea-weather';
/** characters: NMEA 0183 caps a sentence at 82; some sensors print longer decimals, so allow some margin */
const MAX_SENTENCE = 128;

/** XOR checksum of the characters between `$` (or `!`) and `*`. */
export function nmeaChecksum(body: string): number {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return x;
}

/** A sentence with a checksum appended, for stubs and tests: `$` + body + `*hh`. */
export function nmeaSentence(body: string): string {
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;
}

/** Split a checked sentence into talker+type and fields; throws `garbage`, `truncated` or `bad_crc`. */
export function parseNmea(line: string): { talker: string; type: string; fields: string[] } {
  const s = line.replace(/[\r\n]+$/, '');
  if (!/^[$!][A-Z0-9]{5},/.test(s)) throw decodeError(NAME, 'garbage', 'not an NMEA 0183 sentence');
  const star = s.lastIndexOf('*');
  // A sentence that stops before its checksum was cut on the wire.
  if (star < 0) throw decodeError(NAME, 'truncated', 'sentence ends before its *checksum');
  const given = s.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(given)) {
    throw decodeError(NAME, given.length < 2 ? 'truncated' : 'garbage', 'checksum is not two hex digits');
  }
  const body = s.slice(1, star);
  if (nmeaChecksum(body) !== Number.parseInt(given, 16)) {
    throw decodeError(NAME, 'bad_crc', `checksum ${given} does not match`, { sentence: s.slice(0, 6) });
  }
  const parts = body.split(',');
  const head = parts[0]!;
  return { talker: head.slice(0, 2), type: head.slice(2), fields: parts.slice(1) };
}

const f = (fields: string[], i: number): number | undefined => num(fields[i]);

/**
 * MDA: 0 pressure inHg, 1 'I', 2 pressure bar, 3 'B', 4 air °C, 5 'C', 6 water °C, 7 'C', 8 relative humidity %,
 * 9 absolute humidity %, 10 dew point °C, 11 'C', 12 wind direction true, 13 'T', 14 wind direction magnetic,
 * 15 'M', 16 wind speed knots, 17 'N', 18 wind speed m/s, 19 'M'.
 */
function mda(fields: string[]): WeatherFields {
  if (fields.length < 20) throw decodeError(NAME, 'truncated', `MDA has ${fields.length} fields, needs 20`);
  const bar = f(fields, 2);
  const inHg = f(fields, 0);
  const msSpeed = f(fields, 18);
  const kn = f(fields, 16);
  const dir = f(fields, 12);
  return {
    // The bar field is the more precise of the two; the inch field stands in when it is empty.
    pressure_hpa: bar !== undefined ? barToHpa(bar) : inHg !== undefined ? inHgToHpa(inHg) : undefined,
    temperature_c: f(fields, 4) === undefined ? undefined : celsius(f(fields, 4)!),
    humidity_pct: f(fields, 8),
    dew_point_c: f(fields, 10) === undefined ? undefined : celsius(f(fields, 10)!),
    // Only the true direction is a compass bearing; the magnetic one would need the local declination.
    wind_dir_deg: dir === undefined ? undefined : windDir(dir),
    wind_speed_ms: msSpeed !== undefined ? ms(msSpeed) : kn !== undefined ? knotsToMs(kn) : undefined,
  };
}

const MWV_UNITS: Readonly<Record<string, (v: number) => number>> = { M: ms, K: kmhToMs, N: knotsToMs, S: mphToMs };

/**
 * MWV: 0 wind angle, 1 reference (R relative to the sensor's mark, T true), 2 speed, 3 unit (K, M, N, S),
 * 4 status (A valid, V invalid). A fixed station's sensor is installed with its mark to the north, so both
 * references give the bearing the wind comes from.
 */
function mwv(fields: string[]): WeatherFields {
  if (fields.length < 5) throw decodeError(NAME, 'truncated', `MWV has ${fields.length} fields, needs 5`);
  if (fields[4] !== 'A') throw decodeError(NAME, 'out_of_range', 'MWV data flagged invalid (status V)');
  const conv = MWV_UNITS[fields[3] ?? ''];
  if (!conv) throw decodeError(NAME, 'garbage', `MWV speed unit "${fields[3]}" unknown`);
  const angle = f(fields, 0);
  const speed = f(fields, 2);
  return {
    wind_dir_deg: angle === undefined ? undefined : windDir(angle),
    wind_speed_ms: speed === undefined ? undefined : conv(speed),
  };
}

/** Decode one `$--MDA` or `$--MWV` sentence; other valid sentences give `not_weather`. */
export function decodeNmeaWeather(input: Buffer | string, opts?: DecodeOptions): DecodedEvent {
  refusePort(NAME, opts);
  const { type, fields } = parseNmea(readText(NAME, input, MAX_SENTENCE).trim());
  if (type === 'MDA') return weatherReading(NAME, mda(fields));
  if (type === 'MWV') return weatherReading(NAME, mwv(fields));
  throw decodeError(NAME, 'not_weather', `${type} is not a weather sentence`, { sentence: type });
}

export const nmeaWeatherCodec: Codec = {
  name: NAME,
  kind: 'weather',
  input: 'text',
  description: 'NMEA 0183 $--MDA and $--MWV sentences with checksum',
  decode: decodeNmeaWeather,
};
