/**
 * The Ecowitt "customized upload" (Ecowitt protocol): a gateway or console (GW1000/GW1100/GW2000, WS2900, HP2550,
 * and the Ambient/Froggit clones) POSTs an `application/x-www-form-urlencoded` body to a local server every
 * 16-60 s, always in imperial units: `tempf`, `humidity`, `baromrelin`, `windspeedmph`, `windgustmph`, `winddir`,
 * `rainratein`, `dailyrainin`/`totalrainin`, `uv`, `solarradiation`, and the indoor `tempinf`/`humidityin` (not
 * outdoor weather, so not read). Field names from Ecowitt's protocol as documented by weewx-interceptor and
 * ecowitt-exporter.
 */
import {
  type Codec,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readText,
  refusePort,
  round,
} from '../../codec-kit.js';
import { num, type WeatherFields, weatherReading } from './reading.js';
import { fToC, inHgToHpa, inToMm, mphToMs, windDir } from './units.js';

const NAME = 'ecowitt';
/** characters: a gateway with every sensor channel sends about 2 KiB */
const MAX_BODY = 8192;

/** Parse the form body into a map; a body without a single `key=value` pair is `garbage`. */
export function parseEcowittForm(body: string): Map<string, string> {
  const text = body.trim().replace(/^\?/, '');
  if (!/^[A-Za-z0-9_]+=/.test(text)) throw decodeError(NAME, 'garbage', 'not a form body (key=value&...)');
  const map = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(text)) map.set(k, v);
  return map;
}

function first(form: Map<string, string>, keys: string[]): number | undefined {
  for (const k of keys) {
    const raw = form.get(k);
    if (raw === undefined) continue;
    // A key with an empty value means the body was cut mid-field (or the console sent a hole).
    if (raw === '') throw decodeError(NAME, 'truncated', `field ${k} has no value`, { field: k });
    const v = num(raw);
    if (v === undefined) throw decodeError(NAME, 'garbage', `field ${k} is not a number`, { field: k });
    return v;
  }
  return undefined;
}

/** Battery: WH65 array `wh65batt` (0 normal, 1 low); Ambient consoles `battout` (1 normal, 0 low). */
function battery(form: Map<string, string>): boolean | undefined {
  const wh65 = first(form, ['wh65batt']);
  if (wh65 !== undefined) return wh65 === 0;
  const out = first(form, ['battout']);
  if (out !== undefined) return out === 1;
  return undefined;
}

/** Map a parsed body to SI fields (exported for the HTTP driver, which also checks PASSKEY). */
export function ecowittFields(form: Map<string, string>): WeatherFields {
  const t = first(form, ['tempf']);
  const dew = first(form, ['dewptf']);
  const bar = first(form, ['baromrelin', 'baromabsin']);
  const speed = first(form, ['windspeedmph']);
  const gust = first(form, ['windgustmph']);
  const dir = first(form, ['winddir']);
  // The longest-lived counter the station sends, so the aggregator sees as few counter resets as possible;
  // piezo gauges (WS90) report under their own names.
  const rain = first(form, ['totalrainin', 'yearlyrainin', 'yrain_piezo', 'dailyrainin', 'drain_piezo']);
  const rate = first(form, ['rainratein', 'rrain_piezo']);
  const uv = first(form, ['uv']);
  const solar = first(form, ['solarradiation']);
  return {
    temperature_c: t === undefined ? undefined : fToC(t),
    humidity_pct: first(form, ['humidity']),
    pressure_hpa: bar === undefined ? undefined : inHgToHpa(bar),
    wind_speed_ms: speed === undefined ? undefined : mphToMs(speed),
    wind_gust_ms: gust === undefined ? undefined : mphToMs(gust),
    wind_dir_deg: dir === undefined ? undefined : windDir(dir),
    rain_mm: rain === undefined ? undefined : inToMm(rain),
    rain_rate_mm_h: rate === undefined ? undefined : inToMm(rate),
    uv_index: uv,
    solar_wm2: solar === undefined ? undefined : round(solar, 1),
    dew_point_c: dew === undefined ? undefined : fToC(dew),
    battery_ok: battery(form),
  };
}

/** Decode one customized-upload body; a body with no outdoor field (an indoor-only gateway) is `not_weather`. */
export function decodeEcowitt(input: Buffer | string, opts?: DecodeOptions): DecodedEvent {
  refusePort(NAME, opts);
  const fields = ecowittFields(parseEcowittForm(readText(NAME, input, MAX_BODY)));
  const { battery_ok: _b, ...measured } = fields;
  if (Object.values(measured).every((v) => v === undefined)) {
    throw decodeError(NAME, 'not_weather', 'no outdoor field in the upload');
  }
  return weatherReading(NAME, fields);
}

export const ecowittCodec: Codec = {
  name: NAME,
  kind: 'weather',
  input: 'form',
  description: 'Ecowitt customized upload form body (imperial, to SI)',
  decode: decodeEcowitt,
};
