import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import { isBenignDecode, reasonOfDecode } from '../codec-kit.js';
import { WeatherOutput, weatherSettings } from './aggregation/weather-output.js';
import { decodeShellyCoiot } from './codecs/shelly-coiot.js';
import { COIOT_MULTICAST, COIOT_PORT, type CoiotStatus, readCoiotStatus } from './coiot/coiot-status.js';
import { portSetting } from './port-setting.js';

export const shellyHtConfig = z
  .object({
    /** The device's MAC, 12 hex digits (the middle of its CoIoT id SHHT-1#<MAC>#2, also on its label). */
    mac: z
      .string()
      .regex(/^[0-9A-Fa-f]{12}$/, 'expected the 12 hex digits of the Shelly MAC')
      .transform((s) => s.toUpperCase()),
    /**
     * listen: receive the status the H&T sends when it wakes (multicast, or unicast to this gateway set as its
     * "CoIoT peer" ip:5683; firmware 1.9.4+ needs the peer). poll: GET /cit/s (a USB-powered H&T that stays awake).
     */
    mode: z.enum(['listen', 'poll']).default('listen'),
    /** Address to bind in listen mode; 0.0.0.0 to receive multicast. */
    listen: z.string().min(1).default('0.0.0.0'),
    /** UDP port in listen mode, 1-65535 (CoIoT uses 5683). */
    port: portSetting(COIOT_PORT),
    /** Join the CoIoT multicast group 224.0.1.187 in listen mode. */
    multicast: z.boolean().default(true),
    /** coap://<ip>/cit/s for poll mode. */
    url: z
      .string()
      .regex(/^coap:\/\/[^\s/]+(\/[^\s]*)?$/, 'expected a coap:// URL')
      .optional(),
    /** s between GETs in poll mode, 5-86400 */
    poll_interval_s: z.number().int().min(5).max(86_400).default(60),
    // A battery H&T wakes on a change of 0.5 °C or 2 % and at least every few hours.
    ...weatherSettings({ staleAfterS: 43_200 }),
  })
  .strict()
  .refine((c) => c.mode !== 'poll' || c.url !== undefined, { message: 'poll mode needs url', path: ['url'] });

/**
 * A Shelly H&T (Gen1) temperature and humidity sensor over CoIoT, Shelly's CoAP dialect: its status JSON
 * (`{"G":[[ch,id,value],...]}`) is decoded by the `shelly-coiot` codec. A repeated status (same serial) is
 * skipped; statuses of other Shellys on the port go to their own drivers.
 */
export const shellyHt = defineDriver({
  id: 'shelly-ht',
  kind: 'weather',
  transport: 'coap',
  description: 'Shelly H&T (Gen1) temperature and humidity over CoIoT (CoAP status on /cit/s, or polled)',
  config: shellyHtConfig,
  events: ['weather.reading', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const out = new WeatherOutput(ctx, cfg);
    let lastSerial: number | undefined;
    let close: (() => Promise<void>) | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;

    const onPayload = (payload: Buffer): void => {
      try {
        out.reading(decodeShellyCoiot(payload).data);
      } catch (err) {
        if (isBenignDecode(err)) {
          ctx.health(true);
          return;
        }
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
      }
    };

    const onStatus = (s: CoiotStatus): void => {
      // The device repeats a status (multicast and unicast, or a resend) with the same serial.
      if (s.serial !== undefined && s.serial === lastSerial) return;
      lastSerial = s.serial;
      onPayload(s.payload);
    };

    const poll = async (): Promise<void> => {
      try {
        const res = await ctx.coap().get(cfg.url!, { timeoutMs: 5000 });
        if (res.code.startsWith('2.')) onPayload(res.payload);
        else ctx.reject('coap_error', { code: res.code });
      } catch (err) {
        if (!stopped) ctx.health(false, reasonOf(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), cfg.poll_interval_s * 1000);
    };

    const listen = async (): Promise<void> => {
      try {
        const mac = cfg.mac.toUpperCase();
        const c = await ctx.udp().listen(
          {
            host: cfg.listen,
            port: cfg.port,
            claim: `Shelly ${mac}`,
            ...(cfg.multicast ? { multicastGroup: COIOT_MULTICAST } : {}),
          },
          (buf, remote) => {
            let status: CoiotStatus | undefined;
            try {
              status = readCoiotStatus(buf, remote);
            } catch (err) {
              ctx.log.debug({ err: reasonOf(err), from: remote }, 'not a CoAP datagram');
            }
            if (status?.mac !== mac) return false;
            onStatus(status);
            return true;
          },
        );
        if (stopped) await c();
        else close = c;
      } catch (err) {
        if (stopped) return;
        ctx.health(false, reasonOf(err));
        timer = setTimeout(() => void listen(), 5000);
      }
    };

    return {
      start() {
        stopped = false;
        out.start();
        void (cfg.mode === 'poll' ? poll() : listen());
      },
      async stop() {
        stopped = true;
        clearTimeout(timer);
        out.stop();
        await close?.();
        close = undefined;
      },
    };
  },
});
