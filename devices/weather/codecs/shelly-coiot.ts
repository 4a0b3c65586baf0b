/**
 * Shelly H&T (Gen1) status over CoIoT, Shelly's CoAP dialect: the device multicasts (or answers `/cit/s` with)
 * a JSON body `{"G":[[channel, sensor_id, value], ...]}` whose sensor ids are listed in its description
 * (`/cit/d`). Ids per Shelly's "CoIoT for Shelly devices" and the H&T description: CoIoT v2 (firmware 1.8 and
 * later) 3101 temperature °C, 3102 temperature °F, 3103 humidity %, 3111 battery %, 3115 sensor error; CoIoT v1
 * 33 temperature, 44 humidity, 77 battery. 999 (and -1 for the battery) mean "no value".
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
import { type WeatherFields, weatherReading } from './reading.js';
import { celsius, fToC } from './units.js';

const NAME = 'shelly-coiot';
/** characters: an H&T status is about 120 bytes; a relay's with power meters under 1 KiB */
const MAX_BODY = 4096;
/** %, at or below this the H&T battery is reported as not ok (the device's own low-battery warning level). */
export const SHELLY_LOW_BATTERY_PCT = 10;

const UNAVAILABLE = 999;

/** The `G` triples as a map from sensor id to value; throws `garbage` when the shape is not CoIoT status. */
export function coiotValues(body: Record<string, unknown>): Map<number, unknown> {
  const g = body.G;
  if (!Array.isArray(g)) throw decodeError(NAME, 'garbage', 'no "G" array: not a CoIoT status');
  const values = new Map<number, unknown>();
  for (const t of g) {
    if (!Array.isArray(t) || t.length !== 3 || !Number.isInteger(t[0]) || !Number.isInteger(t[1])) {
      throw decodeError(NAME, 'garbage', 'a "G" entry is not [channel, id, value]');
    }
    values.set(t[1] as number, t[2]);
  }
  return values;
}

const reading = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v !== UNAVAILABLE ? v : undefined;

/** Map the values of an H&T status to SI fields. */
export function shellyHtFields(values: Map<number, unknown>): WeatherFields {
  // A sensor error voids temperature and humidity, whatever numbers the status still carries.
  const sensorError = values.get(3115) === 1;
  const c = reading(values.get(3101)) ?? reading(values.get(33));
  const f = reading(values.get(3102));
  const h = reading(values.get(3103)) ?? reading(values.get(44));
  const bat = reading(values.get(3111)) ?? reading(values.get(77));
  return {
    temperature_c: sensorError ? undefined : c !== undefined ? celsius(c) : f !== undefined ? fToC(f) : undefined,
    humidity_pct: sensorError ? undefined : h,
    battery_ok: bat === undefined || bat < 0 ? undefined : bat > SHELLY_LOW_BATTERY_PCT,
  };
}

/** Decode one CoIoT status body; a status from a Shelly that is not a sensor (a relay) is `not_weather`. */
export function decodeShellyCoiot(input: Buffer | string, opts?: DecodeOptions): DecodedEvent {
  refusePort(NAME, opts);
  const values = coiotValues(readJsonObject(NAME, readText(NAME, input, MAX_BODY).trim()));
  if (![3101, 3102, 3103, 33, 44].some((id) => values.has(id))) {
    throw decodeError(NAME, 'not_weather', 'status carries no temperature or humidity sensor');
  }
  const fields = shellyHtFields(values);
  if (values.get(3115) === 1 && fields.battery_ok === undefined) {
    throw decodeError(NAME, 'out_of_range', 'the H&T reports a sensor error');
  }
  return weatherReading(NAME, fields);
}

export const shellyCoiotCodec: Codec = {
  name: NAME,
  kind: 'weather',
  input: 'json',
  description: 'Shelly H&T Gen1 CoIoT status JSON ({"G":[[ch,id,value],...]})',
  decode: decodeShellyCoiot,
};
