import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { SerialLink } from '../../src/core/links.js';
import { reasonOfDecode } from '../codec-kit.js';
import { decodeMaxbotix, MAXBOTIX_DEFAULT_THRESHOLD_M } from './codecs/maxbotix.js';
import { bayTracker, occupancySettings } from './occupancy/settings.js';

export const maxbotixParkingConfig = z
  .object({
    /** Prefer /dev/serial/by-id/...; a MaxBotix TTL output on the Pi's UART is /dev/serial0. */
    path: z.string().min(1),
    baud_rate: z.literal(9600).default(9600),
    /** m, 0.05-10: at or below this range a vehicle is under the sensor */
    threshold_m: z.number().min(0.05).max(10).default(MAXBOTIX_DEFAULT_THRESHOLD_M),
    /** ms without a reading before the sensor is reported down and the port reopened, 1000-60000 */
    idle_timeout_ms: z.number().int().min(1000).max(60_000).default(5000),
    // The sensor ranges several times a second; a person walking under it must not park a car.
    ...occupancySettings({ debounceMs: 3000, report: 'change' }),
    /** m, 0-5: the bay is freed only beyond threshold + this band (a car roof is not flat) */
    hysteresis_m: z.number().min(0).max(5).default(0.2),
  })
  .strict();

/** characters: `R` + 4 digits; anything longer between CRs is noise. */
const MAX_LINE = 16;

/**
 * A MaxBotix-style ultrasonic rangefinder over a bay (HRLV/HRXL-MaxSonar serial output, 9600 8N1): each `Rnnnn\r`
 * is a range in millimetres; at or below the threshold the bay is occupied, with a hysteresis band and a debounce
 * so a passer-by or a sloping roof does not flap it. A silent sensor is reported down by the link's idle watch.
 */
export const maxbotixParking = defineDriver({
  id: 'maxbotix-parking',
  kind: 'parking',
  transport: 'serial',
  description: 'MaxBotix-style ultrasonic bay sensor on serial (R#### in mm, threshold with hysteresis)',
  config: maxbotixParkingConfig,
  events: ['parking.occupancy', 'device.health', 'alarm'],
  create(ctx) {
    const cfg = ctx.config;
    const bay = bayTracker(ctx, cfg, cfg.threshold_m);
    let link: SerialLink | undefined;

    const onLine = (frame: Buffer): void => {
      // RS-232 models may end lines with CR LF: the LF then opens the next line.
      const line = frame.toString('latin1').replace(/^\n+/, '');
      if (line.length === 0) return;
      try {
        const { data } = decodeMaxbotix(line, { threshold_m: cfg.threshold_m });
        bay.observe({
          occupied: data.occupied === true,
          distance_m: typeof data.distance_m === 'number' ? data.distance_m : undefined,
        });
      } catch (err) {
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
      }
    };

    return {
      start() {
        link = ctx.serial({
          path: cfg.path,
          baudRate: cfg.baud_rate,
          framing: { kind: 'line', delimiter: '\r', maxLength: MAX_LINE },
          idleTimeoutMs: cfg.idle_timeout_ms,
        });
        link.onFrame(onLine);
        link.onOverflow((length) => ctx.reject('line_too_long', { length }));
        bay.start();
        link.start();
      },
      async stop() {
        bay.stop();
        await link?.stop();
      },
    };
  },
});
