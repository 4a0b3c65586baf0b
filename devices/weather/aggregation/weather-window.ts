/**
 * One aggregation window of a weather station's readings, so the cloud gets a compact series instead of a reading
 * every 2.5 s: means of the state quantities, the gust as the maximum of every gust and speed sample, the wind
 * direction as a speed-weighted vector mean (the mean of 350° and 10° is 0°, not 180°), the rain as the amount that
 * fell in the window from the station's counter (a counter that drops was reset: the new value is what fell since),
 * the rain rate as its maximum, and the battery as not ok if any sample said so. Pure; the caller owns the clock.
 */
import { round } from '../../codec-kit.js';
import type { WeatherFields } from '../codecs/reading.js';

const MEANS = [
  'temperature_c',
  'humidity_pct',
  'pressure_hpa',
  'wind_speed_ms',
  'dew_point_c',
  'uv_index',
  'solar_wm2',
] as const;
type MeanField = (typeof MEANS)[number];

/** Decimal places of each mean in the aggregate (as the codecs round them). */
const DP: Record<MeanField, number> = {
  temperature_c: 2,
  humidity_pct: 1,
  pressure_hpa: 2,
  wind_speed_ms: 2,
  dew_point_c: 2,
  uv_index: 1,
  solar_wm2: 1,
};

export class WeatherWindow {
  private sums = new Map<MeanField, { sum: number; n: number }>();
  private gust: number | undefined;
  private dirX = 0;
  private dirY = 0;
  private dirN = 0;
  private rain: number | undefined;
  private rate: number | undefined;
  private battery: boolean | undefined;
  private samples = 0;
  /** The station's rain counter at the last sample (kept across windows), mm */
  private lastCounter: number | undefined;

  /** Number of samples since the window opened. */
  get size(): number {
    return this.samples;
  }

  add(r: WeatherFields): void {
    this.samples++;
    for (const f of MEANS) {
      const v = r[f];
      if (v === undefined) continue;
      const s = this.sums.get(f);
      if (s) {
        s.sum += v;
        s.n++;
      } else this.sums.set(f, { sum: v, n: 1 });
    }
    for (const g of [r.wind_gust_ms, r.wind_speed_ms]) {
      if (g !== undefined && (this.gust === undefined || g > this.gust)) this.gust = g;
    }
    if (r.wind_dir_deg !== undefined) {
      // Calm samples carry no direction worth averaging; without a speed every sample weighs the same.
      const w = r.wind_speed_ms ?? 1;
      if (w > 0) {
        const rad = (r.wind_dir_deg * Math.PI) / 180;
        this.dirX += w * Math.sin(rad);
        this.dirY += w * Math.cos(rad);
        this.dirN++;
      }
    }
    if (r.rain_mm !== undefined) {
      const last = this.lastCounter;
      // The first counter value is the baseline: what fell before it is not this window's rain.
      const fell = last === undefined ? 0 : r.rain_mm >= last ? r.rain_mm - last : r.rain_mm;
      this.rain = (this.rain ?? 0) + fell;
      this.lastCounter = r.rain_mm;
    }
    if (r.rain_rate_mm_h !== undefined && (this.rate === undefined || r.rain_rate_mm_h > this.rate)) {
      this.rate = r.rain_rate_mm_h;
    }
    if (r.battery_ok !== undefined) this.battery = (this.battery ?? true) && r.battery_ok;
  }

  /**
   * Close the window: the aggregate (undefined when no sample arrived) with `interval_s`, `samples` and `start`,
   * then open the next one. The rain counter's baseline carries over.
   */
  close(start: Date, intervalS: number): Record<string, unknown> | undefined {
    if (this.samples === 0) return undefined;
    const data: Record<string, unknown> = {};
    for (const f of MEANS) {
      const s = this.sums.get(f);
      if (s) data[f] = round(s.sum / s.n, DP[f]);
    }
    if (this.gust !== undefined) data.wind_gust_ms = this.gust;
    if (this.dirN > 0 && Math.hypot(this.dirX, this.dirY) > 1e-9) {
      const deg = Math.round((Math.atan2(this.dirX, this.dirY) * 180) / Math.PI + 360) % 360;
      data.wind_dir_deg = deg;
    }
    if (this.rain !== undefined) data.rain_mm = round(this.rain, 3);
    if (this.rate !== undefined) data.rain_rate_mm_h = this.rate;
    if (this.battery !== undefined) data.battery_ok = this.battery;
    data.interval_s = intervalS;
    data.samples = this.samples;
    data.start = start.toISOString();
    this.sums = new Map();
    this.gust = undefined;
    this.dirX = 0;
    this.dirY = 0;
    this.dirN = 0;
    this.rain = undefined;
    this.rate = undefined;
    this.battery = undefined;
    this.samples = 0;
    return data;
  }
}
