/**
 * The one place a `weather.reading` is assembled: every weather codec hands its SI fields here. A field the
 * station did not report is absent; a value no real atmosphere produces (a humidity of 255, a wind of 300 m/s)
 * is a sentinel or a bad decode, and is dropped rather than passed on. A reading left with no field at all is
 * rejected as `out_of_range`.
 */
import { type DecodedEvent, decodeError } from '../../codec-kit.js';

/** The normalized fields of DESIGN.md's `weather.reading`, all optional. */
export interface WeatherFields {
  /** °C */
  temperature_c?: number;
  /** %, 0-100 */
  humidity_pct?: number;
  /** hPa, sea-level (relative) pressure where the station reports both */
  pressure_hpa?: number;
  /** m/s */
  wind_speed_ms?: number;
  /** m/s */
  wind_gust_ms?: number;
  /** degrees, [0, 360), 0 = from the north */
  wind_dir_deg?: number;
  /** mm since the device's last counter reset */
  rain_mm?: number;
  /** mm/h */
  rain_rate_mm_h?: number;
  /** UV index, 0-20 */
  uv_index?: number;
  /** W/m² */
  solar_wm2?: number;
  /** °C */
  dew_point_c?: number;
  battery_ok?: boolean;
}

/** Plausible bounds per field, inclusive; outside them the value is not a reading. */
const BOUNDS: Readonly<Record<string, readonly [number, number]>> = {
  temperature_c: [-90, 70],
  humidity_pct: [0, 100],
  pressure_hpa: [300, 1100],
  wind_speed_ms: [0, 120],
  wind_gust_ms: [0, 120],
  wind_dir_deg: [0, 360],
  rain_mm: [0, 1_000_000],
  rain_rate_mm_h: [0, 2000],
  uv_index: [0, 20],
  solar_wm2: [0, 2000],
  dew_point_c: [-90, 70],
};

/** Build the event, dropping absent and implausible fields; throws `out_of_range` when nothing is left. */
export function weatherReading(codec: string, fields: WeatherFields): DecodedEvent {
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === 'number') {
      const b = BOUNDS[key];
      if (!Number.isFinite(value) || (b && (value < b[0] || value > b[1]))) continue;
    }
    data[key] = value;
  }
  if (Object.keys(data).length === 0) throw decodeError(codec, 'out_of_range', 'no plausible weather value');
  return { type: 'weather.reading', data };
}

/** A finite number from a JSON or form value (numbers and numeric strings), else undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim())) {
    return Number(v);
  }
  return undefined;
}
