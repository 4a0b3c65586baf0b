/**
 * The occupancy settings every bay driver shares (spread into its own strict schema), and the step from validated
 * settings plus a driver context to a {@link BayTracker}.
 */
import { z } from 'zod';
import type { DriverContext } from '../../../src/core/driver.js';
import { geoSettings, placeName } from '../../geo-settings.js';
import { BayTracker } from './bay-state.js';

const zoneId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected the device id of a parking-zone (lowercase letters, digits, - and _)');

/**
 * Occupancy settings with driver-specific defaults: a LoRaWAN sensor debounces on the device and reports every
 * uplink; an ultrasonic sensor sampling several times a second needs a debounce here and reports changes only.
 */
export function occupancySettings(defaults: { debounceMs: number; report: 'change' | 'every' }) {
  return {
    /** Bay name in events; defaults to the device id. */
    bay: z.string().min(1).max(100).optional(),
    /** The parking-zone device this bay belongs to (or list the bay in the zone's `bays`). */
    zone: zoneId.optional(),
    /** ms a new "occupied" must hold before it counts, 0-600000 */
    debounce_ms: z.number().int().min(0).max(600_000).default(defaults.debounceMs),
    /** ms a new "free" must hold before it counts, 0-600000; default: debounce_ms */
    free_debounce_ms: z.number().int().min(0).max(600_000).optional(),
    /** m, 0-5: a distance sensor frees the bay only beyond threshold + this band */
    hysteresis_m: z.number().min(0).max(5).default(0),
    /** s, 60-2592000: an `alarm` when a bay stays occupied longer (maximum parking time) */
    max_parking_s: z.number().int().min(60).max(2_592_000).optional(),
    /** s, 10-2592000: no uplink for this long reports the sensor down (`device.health`) */
    stale_after_s: z.number().int().min(10).max(2_592_000).optional(),
    /** 'change': events on accepted changes only; 'every': also for each report that confirms the state */
    report: z.enum(['change', 'every']).default(defaults.report),
    ...geoSettings,
    /** Publish this bay in DATEX II as a parking record of its own (one space), as towns do for disabled bays. */
    datex_publish: z.boolean().optional(),
    /** Its name in the DATEX II parking table: a string, or per language ({de, en}); default the bay name. */
    datex_name: placeName.optional(),
  };
}

/** The validated output of {@link occupancySettings}. */
export interface OccupancyConfig {
  bay?: string | undefined;
  zone?: string | undefined;
  debounce_ms: number;
  free_debounce_ms?: number | undefined;
  hysteresis_m: number;
  max_parking_s?: number | undefined;
  stale_after_s?: number | undefined;
  report: 'change' | 'every';
}

/** A tracker for this device's bay, wired to its context (events, health, the gateway clock). */
export function bayTracker(ctx: DriverContext<unknown>, cfg: OccupancyConfig, thresholdM?: number): BayTracker {
  return new BayTracker(
    {
      bay: cfg.bay ?? ctx.id,
      zone: cfg.zone,
      debounceMs: cfg.debounce_ms,
      freeDebounceMs: cfg.free_debounce_ms,
      thresholdM,
      hysteresisM: cfg.hysteresis_m,
      maxParkingS: cfg.max_parking_s,
      staleAfterS: cfg.stale_after_s,
      report: cfg.report,
    },
    {
      emit: (type, data) => ctx.emit(type, data),
      health: (up, reason) => ctx.health(up, reason),
      now: () => ctx.clock.now().ms,
    },
  );
}
