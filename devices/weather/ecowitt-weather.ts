import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { HttpAnswer, HttpListenerLink, HttpUpload } from '../../src/core/links.js';
import { isBenignDecode, reasonOfDecode } from '../codec-kit.js';
import { WeatherOutput, weatherSettings } from './aggregation/weather-output.js';
import { decodeEcowitt, parseEcowittForm } from './codecs/ecowitt.js';
import { portSetting } from './port-setting.js';

export const ecowittConfig = z
  .object({
    /** Address to listen on: 0.0.0.0 for a console on the LAN. */
    listen: z.string().min(1).default('0.0.0.0'),
    /** TCP port the console posts to (its "customized" server settings), 1-65535. One port per station. */
    port: portSetting(8090),
    /** The path set in the console ("customized" → Path), e.g. /data/report/ */
    path: z
      .string()
      .regex(/^\/[^\s?#]*$/, 'expected a path starting with /')
      .default('/data/report/'),
    /**
     * The station's PASSKEY: 32 hex digits, the MD5 of its MAC address, sent with every upload. An upload with
     * another PASSKEY is refused (403) and counted; a rejected upload's log line names the PASSKEY it carried.
     */
    passkey: z
      .string()
      .regex(/^[0-9A-Fa-f]{32}$/, 'expected the 32 hex digits of the station PASSKEY')
      .transform((s) => s.toUpperCase()),
    // Consoles upload every 16-60 s.
    ...weatherSettings({ staleAfterS: 300 }),
  })
  .strict();

/**
 * An Ecowitt console or gateway (GW1000/GW1100/GW2000, HP2550, WS2900 and their Froggit/Ambient relatives) using
 * its "customized upload" in the Ecowitt protocol: it POSTs a form body in imperial units to a port and path on the
 * gateway every 16-60 s. The PASSKEY must match; the body is decoded by the `ecowitt` codec; indoor-only bodies are
 * skipped without counting a fault.
 */
export const ecowittWeather = defineDriver({
  id: 'ecowitt-weather',
  kind: 'weather',
  transport: 'http',
  description: 'Ecowitt console or gateway posting its "customized upload" (Ecowitt protocol) over HTTP',
  config: ecowittConfig,
  events: ['weather.reading', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const out = new WeatherOutput(ctx, cfg);
    const expected = Buffer.from(cfg.passkey, 'latin1');
    let link: HttpListenerLink | undefined;

    const passkeyOk = (given: string | undefined): boolean => {
      if (given === undefined) return false;
      const g = Buffer.from(given.toUpperCase(), 'latin1');
      return g.length === expected.length && timingSafeEqual(g, expected);
    };

    const onUpload = (up: HttpUpload): HttpAnswer => {
      let form: Map<string, string>;
      try {
        form = parseEcowittForm(up.body);
      } catch (err) {
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err), remote: up.remote });
        return { status: 400, body: 'not an Ecowitt upload' };
      }
      const given = form.get('PASSKEY');
      if (!passkeyOk(given)) {
        // The PASSKEY names a station (it travels in clear text on the LAN); logging it lets the operator configure it.
        ctx.reject('bad_passkey', { passkey: given ?? '(none)', remote: up.remote });
        return { status: 403, body: 'unknown PASSKEY' };
      }
      try {
        out.reading(decodeEcowitt(up.body).data);
      } catch (err) {
        if (isBenignDecode(err)) {
          ctx.health(true);
          return { status: 200, body: 'OK' };
        }
        ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
        return { status: 400, body: 'bad upload' };
      }
      return { status: 200, body: 'OK' };
    };

    return {
      start() {
        out.start();
        link = ctx.http().listen({ host: cfg.listen, port: cfg.port, paths: [cfg.path], methods: ['POST'] });
        link.onUpload(onUpload);
        link.onState((s) => {
          if (s.state === 'down') ctx.health(false, s.reason ?? 'listener down');
        });
        link.start();
      },
      async stop() {
        out.stop();
        await link?.stop();
      },
    };
  },
});
