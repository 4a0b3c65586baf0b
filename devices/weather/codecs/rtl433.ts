/**
 * rtl_433 JSON lines (`rtl_433 -F json`, or its MQTT "events" output): one object per decoded radio message.
 * rtl_433 names a field by quantity and unit (`temperature_C`, `wind_avg_km_h`, `rain_in`, ...); each decoder uses
 * the unit its device sends, so one station may say km/h and the next m/s or mi/h. This codec maps every unit
 * variant to SI. Lines from devices that are not weather sensors (tyre pressure monitors, remotes, power meters,
 * smoke alarms) give `not_weather`. Field names from rtl_433's data conventions (docs/DATA_FORMAT.md) and the
 * merbanan/rtl_433_tests captures.
 */
import {
  type Codec,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readJsonObject,
  readText,
  refusePort,
} from '../../codec-kit.js';
import { num, type WeatherFields, weatherReading } from './reading.js';
import { celsius, fToC, hpa, inHgToHpa, inToMm, kmhToMs, knotsToMs, mm, mphToMs, ms, windDir } from './units.js';

const NAME = 'rtl433';
/** characters; rtl_433 lines are a few hundred characters, a multi-probe station under 2 KiB */
const MAX_LINE = 4096;

type Conv = (v: number) => number;

/** First present variant wins, so a line carrying two units of one quantity is read consistently. */
const TEMPERATURE: [string, Conv][] = [
  ['temperature_C', celsius],
  ['temperature_F', fToC],
];
const PRESSURE: [string, Conv][] = [
  ['pressure_hPa', hpa],
  ['pressure_kPa', (v) => hpa(v * 10)],
  ['pressure_inHg', inHgToHpa],
];
const SPEED_UNITS: [string, Conv][] = [
  ['_m_s', ms],
  ['_km_h', kmhToMs],
  ['_mi_h', mphToMs],
  ['_kt', knotsToMs],
];
const RAIN: [string, Conv][] = [
  ['rain_mm', mm],
  ['rain_in', inToMm],
];
const RAIN_RATE: [string, Conv][] = [
  ['rain_rate_mm_h', mm],
  ['rain_rate_in_h', inToMm],
];

function pick(o: Record<string, unknown>, variants: [string, Conv][]): number | undefined {
  for (const [key, conv] of variants) {
    const v = num(o[key]);
    if (v !== undefined) return conv(v);
  }
  return undefined;
}

/** Wind speeds: rtl_433 says `wind_avg_*` (older decoders `wind_speed_*`) and `wind_max_*` (`gust_speed_*`). */
function speed(o: Record<string, unknown>, prefixes: string[]): number | undefined {
  for (const p of prefixes) {
    const v = pick(
      o,
      SPEED_UNITS.map(([suffix, conv]) => [p + suffix, conv]),
    );
    if (v !== undefined) return v;
  }
  return undefined;
}

/** `battery_ok` (1 good, 0 low; some decoders send a 0-1 level), older `battery_low`, or `battery` "OK"/"LOW". */
function battery(o: Record<string, unknown>): boolean | undefined {
  const ok = num(o.battery_ok);
  if (ok !== undefined) return ok >= 0.5;
  const low = num(o.battery_low);
  if (low !== undefined) return low === 0;
  if (typeof o.battery === 'string') return o.battery.toUpperCase() === 'OK';
  return undefined;
}

/** Map one parsed rtl_433 object; exported for drivers that parse the line themselves. */
export function rtl433Fields(o: Record<string, unknown>): WeatherFields {
  const dir = num(o.wind_dir_deg);
  // `uvi` is the UV index; `uv` is the index on most decoders but a raw count on Fine Offset WH24/WH65, which
  // also send `uvi`: so `uv` is read only when `uvi` is absent.
  const uv = num(o.uvi) ?? num(o.uv);
  return {
    temperature_c: pick(o, TEMPERATURE),
    humidity_pct: num(o.humidity),
    pressure_hpa: pick(o, PRESSURE),
    wind_speed_ms: speed(o, ['wind_avg', 'wind_speed']),
    wind_gust_ms: speed(o, ['wind_max', 'gust_speed', 'wind_gust']),
    wind_dir_deg: dir === undefined ? undefined : windDir(dir),
    rain_mm: pick(o, RAIN),
    rain_rate_mm_h: pick(o, RAIN_RATE),
    uv_index: uv,
    dew_point_c: pick(o, [
      ['dewpoint_C', celsius],
      ['dewpoint_F', fToC],
    ]),
    battery_ok: battery(o),
  };
}

const WEATHER_KEYS: readonly (keyof WeatherFields)[] = [
  'temperature_c',
  'humidity_pct',
  'pressure_hpa',
  'wind_speed_ms',
  'wind_gust_ms',
  'wind_dir_deg',
  'rain_mm',
  'rain_rate_mm_h',
  'uv_index',
];

/**
 * Decode one rtl_433 JSON line. Options: `model` (string) and `id` (number or string) select one station; a
 * weather line from another station gives `unknown_model` (a neighbour's sensor on the same band).
 */
export function decodeRtl433(input: Buffer | string, opts?: DecodeOptions): DecodedEvent {
  refusePort(NAME, opts);
  const o = readJsonObject(NAME, readText(NAME, input, MAX_LINE).trim());
  if (typeof o.model !== 'string' || o.model.length === 0) {
    throw decodeError(NAME, 'garbage', 'not an rtl_433 line (no "model")');
  }
  // Tyre pressure monitors carry temperature and pressure too, of a tyre.
  if (o.type === 'TPMS') throw decodeError(NAME, 'not_weather', `${o.model} is a tyre pressure sensor`);
  const fields = rtl433Fields(o);
  if (!WEATHER_KEYS.some((k) => fields[k] !== undefined)) {
    throw decodeError(NAME, 'not_weather', `${o.model} line carries no weather field`, { model: o.model });
  }
  const wantModel = opts?.model;
  const wantId = opts?.id;
  if (
    (typeof wantModel === 'string' && wantModel !== o.model) ||
    (wantId !== undefined && String(wantId) !== String(o.id))
  ) {
    throw decodeError(NAME, 'unknown_model', `${o.model} ${String(o.id)} is not the configured station`, {
      model: o.model,
      id: o.id,
    });
  }
  return weatherReading(NAME, fields);
}

export const rtl433Codec: Codec = {
  name: NAME,
  kind: 'weather',
  input: 'json',
  description: 'rtl_433 JSON line (Fine Offset, Bresser, Acurite, ...; every unit variant to SI)',
  decode: decodeRtl433,
};
