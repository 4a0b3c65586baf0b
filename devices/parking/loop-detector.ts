import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { Bit, GpioInput } from '../../src/core/links.js';
import { bayTracker, occupancySettings } from './occupancy/settings.js';

export const loopDetectorConfig = z
  .object({
    /** BCM line the detector's presence output is wired to, 0-27. */
    pin: z.number().int().min(0, 'expected a BCM line 0-27').max(27, 'expected a BCM line 0-27'),
    /** Level the line reads while a vehicle is present (a relay closing to ground on a pulled-up line reads 0). */
    occupied_level: z.union([z.literal(0), z.literal(1)]).default(1),
    /** ms of contact bounce the GPIO layer ignores, 0-1000 */
    contact_debounce_ms: z.number().int().min(0).max(1000).default(50),
    // A loop or magnetometer flickers as a car rolls over its edge; hold a change 2 s before it counts.
    ...occupancySettings({ debounceMs: 2000, report: 'change' }),
  })
  .strict();

/**
 * An induction-loop or magnetometer vehicle detector (the detector card's presence relay, or a magnetometer with a
 * dry-contact output) on a GPIO input: the contact's level is the bay's occupancy, debounced twice, first at the
 * GPIO layer (contact bounce, milliseconds) and then as a state (a car rolling over the loop's edge, seconds).
 */
export const loopDetector = defineDriver({
  id: 'loop-detector',
  kind: 'parking',
  transport: 'gpio',
  description: 'Induction-loop or magnetometer bay detector with a dry-contact presence output on GPIO',
  config: loopDetectorConfig,
  events: ['parking.occupancy', 'device.health', 'alarm'],
  create(ctx) {
    const cfg = ctx.config;
    const bay = bayTracker(ctx, cfg);
    let input: GpioInput | undefined;
    let unwatch: (() => void) | undefined;
    const occupiedOf = (level: Bit): boolean => level === cfg.occupied_level;

    return {
      start() {
        try {
          input = ctx.gpio().input(cfg.pin, { edge: 'both', debounceMs: cfg.contact_debounce_ms });
        } catch (err) {
          ctx.health(false, `gpio: ${reasonOf(err)}`);
          return;
        }
        bay.start();
        unwatch = input.watch((level) => bay.observe({ occupied: occupiedOf(level) }));
        // The contact's level now is the bay's state at start; no edge will say so.
        bay.observe({ occupied: occupiedOf(input.read()) });
      },
      stop() {
        unwatch?.();
        input?.close();
        bay.stop();
      },
    };
  },
});
