import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { CoapResponse } from '../../src/core/links.js';
import { reasonOfDecode } from '../codec-kit.js';
import { bayTracker, occupancySettings } from './occupancy/settings.js';
import { decodeBayReading } from './senml.js';

export const coapParkingConfig = z
  .object({
    /** The sensor's resource, e.g. coap://10.0.4.21/parking (plain coap:// only). */
    url: z.string().regex(/^coap:\/\/[^\s/]+(\/[^\s]*)?$/, 'expected a coap:// URL'),
    /** observe (RFC 7641, the sensor notifies on change) or poll (GET every poll_interval_s) */
    mode: z.enum(['observe', 'poll']).default('observe'),
    /** s between GETs in poll mode, 1-86400 */
    poll_interval_s: z.number().int().min(1).max(86_400).default(30),
    /** s after which an observation is registered again (servers forget observers after a reboot), 30-86400 */
    reobserve_s: z.number().int().min(30).max(86_400).default(600),
    /** ms a request may take, 500-60000 */
    timeout_ms: z.number().int().min(500).max(60_000).default(5000),
    /** m: when set, a reported distance at or below it means occupied (else the sensor's own verdict counts) */
    threshold_m: z.number().min(0.05).max(10).optional(),
    ...occupancySettings({ debounceMs: 0, report: 'change' }),
  })
  .strict()
  .refine((c) => c.hysteresis_m === 0 || c.threshold_m !== undefined, {
    message: 'hysteresis_m needs threshold_m',
    path: ['hysteresis_m'],
  });

/** ms before a failed observe registration is tried again (doubling up to the poll interval's cap of 60 s) */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

/**
 * A bay sensor on CoAP (NB-IoT or 6LoWPAN sensors, a gateway-side CoAP proxy): its resource is a SenML pack
 * (RFC 8428) or a plain JSON reading, observed (RFC 7641) or polled with GET. An unreachable sensor is reported
 * down with the transport's reason and tried again with a growing delay.
 */
export const coapParking = defineDriver({
  id: 'coap-parking',
  kind: 'parking',
  transport: 'coap',
  description: 'Parking bay sensor over CoAP (observe or poll; SenML or JSON reading)',
  config: coapParkingConfig,
  events: ['parking.occupancy', 'device.health', 'alarm'],
  create(ctx) {
    const cfg = ctx.config;
    const bay = bayTracker(ctx, cfg, cfg.threshold_m);
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let cancel: (() => Promise<void>) | undefined;
    let retryMs = RETRY_MIN_MS;

    const onResponse = (res: CoapResponse): void => {
      if (!res.code.startsWith('2.')) {
        ctx.reject('coap_error', { code: res.code });
        return;
      }
      try {
        const r = decodeBayReading(res.payload);
        const { occupied, distance_m, ...extra } = r;
        bay.observe({ occupied, distance_m, extra });
      } catch (err) {
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
      }
    };

    const schedule = (fn: () => Promise<void>, ms: number): void => {
      clearTimeout(timer);
      if (!stopped) timer = setTimeout(() => void fn(), ms);
    };

    const poll = async (): Promise<void> => {
      try {
        onResponse(await ctx.coap().get(cfg.url, { timeoutMs: cfg.timeout_ms }));
      } catch (err) {
        if (!stopped) ctx.health(false, reasonOf(err));
      }
      schedule(poll, cfg.poll_interval_s * 1000);
    };

    const observe = async (): Promise<void> => {
      const previous = cancel;
      cancel = undefined;
      await previous?.().catch(() => undefined);
      if (stopped) return;
      try {
        const c = await ctx.coap().observe(cfg.url, onResponse);
        if (stopped) {
          await c();
          return;
        }
        cancel = c;
        retryMs = RETRY_MIN_MS;
        schedule(observe, cfg.reobserve_s * 1000);
      } catch (err) {
        if (stopped) return;
        ctx.health(false, reasonOf(err));
        schedule(observe, retryMs);
        retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
      }
    };

    return {
      start() {
        stopped = false;
        bay.start();
        void (cfg.mode === 'observe' ? observe() : poll());
      },
      async stop() {
        stopped = true;
        clearTimeout(timer);
        bay.stop();
        await cancel?.().catch(() => undefined);
        cancel = undefined;
      },
    };
  },
});
