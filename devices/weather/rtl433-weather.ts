import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import { validateFilter } from '../../src/transports/mqtt-topic.js';
import { isBenignDecode, reasonOfDecode } from '../codec-kit.js';
import { WeatherOutput, weatherSettings } from './aggregation/weather-output.js';
import { decodeRtl433 } from './codecs/rtl433.js';

export const rtl433Config = z
  .object({
    /** The rtl_433 events topic filter (`-F mqtt://...,events=...`; rtl_433's default is rtl_433/<host>/events). */
    topic: z
      .string()
      .min(1)
      .default('rtl_433/+/events')
      .superRefine((t, c) => {
        try {
          validateFilter(t);
        } catch (err) {
          c.addIssue({ code: 'custom', message: reasonOf(err) });
        }
      }),
    /** The station's rtl_433 model name, e.g. Fineoffset-WH24; other models on the band are skipped. */
    model: z.string().min(1).max(100),
    /**
     * The station's `id` as rtl_433 prints it (it changes when some sensors get new batteries). Named station_id
     * because `id` is the device's own id in the config file.
     */
    station_id: z.union([z.number().int(), z.string().min(1).max(40)]).optional(),
    /** The station's channel, for sensors with a channel switch. */
    channel: z.union([z.number().int(), z.string().min(1).max(10)]).optional(),
    /** ms within which an identical line is a radio repeat and skipped (many sensors send each message 2-3 times) */
    dedupe_ms: z.number().int().min(0).max(60_000).default(3000),
    // Stations transmit every 16-60 s.
    ...weatherSettings({ staleAfterS: 300 }),
  })
  .strict();

/** characters, beyond any real rtl_433 line (the codec bounds it again) */
const MAX_LINE = 4096;

/**
 * A 433/868 MHz weather station received by rtl_433 (an RTL-SDR stick on the gateway or elsewhere) and published
 * on MQTT as one JSON object per reception. Fine Offset, Bresser, Acurite and other models, with their unit
 * variants, through the `rtl433` codec. Lines from other devices on the band (tyre sensors, remotes, a neighbour's
 * station) are skipped without counting a fault; radio repeats are dropped.
 */
export const rtl433Weather = defineDriver({
  id: 'rtl433-weather',
  kind: 'weather',
  transport: 'mqtt',
  description: 'Weather station received by rtl_433 (JSON events over MQTT): Fine Offset, Bresser, Acurite, ...',
  config: rtl433Config,
  events: ['weather.reading', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const out = new WeatherOutput(ctx, cfg);
    const decodeOpts: Record<string, unknown> = { model: cfg.model };
    if (cfg.station_id !== undefined) decodeOpts.id = cfg.station_id;
    let unsubscribe: (() => void) | undefined;
    let lastLine = '';
    let lastAt = 0;

    const onLine = (_topic: string, body: Buffer): void => {
      if (body.length > MAX_LINE) {
        ctx.reject('oversized', { length: body.length });
        return;
      }
      const text = body.toString('utf8');
      // A repeat differs from the original only in rtl_433's own "time" field.
      const key = text.replace(/"time"\s*:\s*"[^"]*"/, '');
      const now = Date.now();
      if (key === lastLine && now - lastAt < cfg.dedupe_ms) return;
      try {
        const { data } = decodeRtl433(text, decodeOpts);
        if (cfg.channel !== undefined) {
          const ch = (JSON.parse(text) as { channel?: unknown }).channel;
          if (String(ch) !== String(cfg.channel)) return;
        }
        lastLine = key;
        lastAt = now;
        out.reading(data);
      } catch (err) {
        if (isBenignDecode(err)) return;
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
      }
    };

    return {
      start() {
        out.start();
        unsubscribe = ctx.mqtt().subscribe(cfg.topic, onLine);
      },
      stop() {
        unsubscribe?.();
        out.stop();
      },
    };
  },
});
