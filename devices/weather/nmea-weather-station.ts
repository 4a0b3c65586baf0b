import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { SerialLink } from '../../src/core/links.js';
import { isBenignDecode, reasonOfDecode } from '../codec-kit.js';
import { WeatherOutput, weatherSettings } from './aggregation/weather-output.js';
import { decodeNmeaWeather } from './codecs/nmea-weather.js';

export const nmeaStationConfig = z
  .object({
    /** Prefer /dev/serial/by-id/... (an RS-422/485 or USB adapter). */
    path: z.string().min(1),
    /** NMEA 0183 is 4800 baud; many ultrasonic stations default to 4800, some to 9600 or 38400 */
    baud_rate: z
      .union([z.literal(4800), z.literal(9600), z.literal(19200), z.literal(38400), z.literal(115200)])
      .default(4800),
    /** ms without a sentence before the station is reported down and the port reopened, 2000-120000 */
    idle_timeout_ms: z.number().int().min(2000).max(120_000).default(10_000),
    // Stations talk about once a second.
    ...weatherSettings({ staleAfterS: 60 }),
  })
  .strict();

/** characters: NMEA caps a sentence at 82; leave room for long decimals, and drop whole anything longer */
const MAX_LINE = 128;

/**
 * An NMEA 0183 weather station on serial (Airmar, Gill, LCJ, Vaisala in NMEA mode): `$--MDA` (pressure, air
 * temperature, humidity, dew point, wind) and `$--MWV` (wind angle and speed) through the `nmea-weather` codec.
 * Each sentence is one partial raw reading; the minute aggregate merges them. Other sentences (a GPS in the same
 * sensor) are skipped without counting a fault; bad checksums are counted.
 */
export const nmeaWeatherStation = defineDriver({
  id: 'nmea-weather-station',
  kind: 'weather',
  transport: 'serial',
  description: 'NMEA 0183 weather station on serial ($WIMDA meteorological composite, $WIMWV wind)',
  config: nmeaStationConfig,
  events: ['weather.reading', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const out = new WeatherOutput(ctx, cfg);
    let link: SerialLink | undefined;

    const onLine = (frame: Buffer): void => {
      const line = frame.toString('latin1').trim();
      if (line.length === 0) return;
      try {
        out.reading(decodeNmeaWeather(line).data);
      } catch (err) {
        if (isBenignDecode(err)) {
          ctx.health(true);
          return;
        }
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
      }
    };

    return {
      start() {
        out.start();
        link = ctx.serial({
          path: cfg.path,
          baudRate: cfg.baud_rate,
          framing: { kind: 'line', delimiter: '\n', maxLength: MAX_LINE },
          idleTimeoutMs: cfg.idle_timeout_ms,
        });
        link.onFrame(onLine);
        link.onOverflow((length) => ctx.reject('line_too_long', { length }));
        link.start();
      },
      async stop() {
        out.stop();
        await link?.stop();
      },
    };
  },
});
