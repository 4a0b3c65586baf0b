/**
 * Where every weather driver's readings go: each raw reading is recorded for the local log only, and one
 * aggregate per window (default 60 s, aligned to the clock's minutes) goes to the cloud in the telemetry lane,
 * with `interval_s`, `samples` and `start`. A station silent for `stale_after_s` is reported down.
 */
import { z } from 'zod';
import type { DriverContext } from '../../../src/core/driver.js';
import { geoSettings } from '../../geo-settings.js';
import type { WeatherFields } from '../codecs/reading.js';
import { WeatherWindow } from './weather-window.js';

/** Settings every weather driver shares (spread into its strict schema). */
export function weatherSettings(defaults: { staleAfterS: number }) {
  return {
    /**
     * s, 0 or 5-3600: the aggregation window; 0 sends every raw reading to the cloud instead. Windows are aligned
     * to the clock (a 60 s window runs from :00 to :00).
     */
    aggregate_s: z.union([z.literal(0), z.number().int().min(5).max(3600)]).default(60),
    /** s, 10-604800: no reading for this long reports the station down */
    stale_after_s: z.number().int().min(10).max(604_800).default(defaults.staleAfterS),
    ...geoSettings,
  };
}

export interface WeatherOutputConfig {
  aggregate_s: number;
  stale_after_s: number;
}

export class WeatherOutput {
  private readonly window = new WeatherWindow();
  private windowTimer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private windowStart = 0;
  private running = false;

  constructor(
    private readonly ctx: DriverContext<unknown>,
    private readonly cfg: WeatherOutputConfig,
  ) {}

  start(): void {
    this.running = true;
    if (this.cfg.aggregate_s > 0) this.scheduleWindow();
    this.armStale();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.windowTimer);
    clearTimeout(this.staleTimer);
  }

  /** One normalized reading: recorded locally, counted into the window, and proof the station is alive. */
  reading(data: Record<string, unknown>): void {
    if (!this.running) return;
    const aggregating = this.cfg.aggregate_s > 0;
    this.ctx.emit('weather.reading', data, aggregating ? { localOnly: true } : undefined);
    if (aggregating) this.window.add(data as WeatherFields);
    this.ctx.health(true);
    this.armStale();
  }

  /** Open the window starting at `startMs` (default: the one the clock is in now) and time its end. */
  private scheduleWindow(startMs?: number): void {
    const intervalMs = this.cfg.aggregate_s * 1000;
    const now = this.ctx.clock.now().ms;
    // After a close, the next window follows on even if the timer fired a little early or late.
    this.windowStart = startMs ?? Math.floor(now / intervalMs) * intervalMs;
    const due = Math.max(0, this.windowStart + intervalMs - now);
    this.windowTimer = setTimeout(() => this.closeWindow(), due);
  }

  private closeWindow(): void {
    if (!this.running) return;
    const data = this.window.close(new Date(this.windowStart), this.cfg.aggregate_s);
    if (data) this.ctx.emit('weather.reading', data);
    const next = this.windowStart + this.cfg.aggregate_s * 1000;
    // A clock that jumped (NTP sync after a cold boot) restarts the grid instead of catching up window by window.
    const now = this.ctx.clock.now().ms;
    this.scheduleWindow(now - next > this.cfg.aggregate_s * 1000 || now < next - 1000 ? undefined : next);
  }

  private armStale(): void {
    if (this.staleTimer) {
      this.staleTimer.refresh();
      return;
    }
    const s = this.cfg.stale_after_s;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      if (this.running) this.ctx.health(false, `no reading for ${s} s`);
    }, s * 1000);
  }
}
