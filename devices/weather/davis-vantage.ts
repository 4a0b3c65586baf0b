import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { SerialLink } from '../../src/core/links.js';
import { reasonOfDecode } from '../codec-kit.js';
import { WeatherOutput, weatherSettings } from './aggregation/weather-output.js';
import { LoopFramer } from './codecs/davis-framer.js';
import { decodeDavisLoop, RAIN_COLLECTORS } from './codecs/davis-loop.js';

export const davisConfig = z
  .object({
    /** Prefer /dev/serial/by-id/... (the Davis USB data logger is a CP210x). */
    path: z.string().min(1),
    baud_rate: z
      .union([z.literal(1200), z.literal(2400), z.literal(4800), z.literal(9600), z.literal(14400), z.literal(19200)])
      .default(19200),
    rain_collector: z.enum(Object.keys(RAIN_COLLECTORS) as [string, ...string[]]).default('0.01in'),
    /** packets asked for with each `LOOP n`, 1-200; the driver asks again when they are used up */
    loop_count: z.number().int().min(1).max(200).default(200),
    /** ms without a packet before the console is woken and asked again, 3000-120000 */
    packet_timeout_ms: z.number().int().min(3000).max(120_000).default(10_000),
    /**
     * Which packets to ask for: `loop` (LOOP n: all firmware), `loop2` (LPS 2 n: adds the 10-minute gust and the
     * dew point; Vantage Pro2 firmware 1.90 and later, Vue) or `both` (LPS 3 n: alternating LOOP and LOOP2).
     */
    packet: z.enum(['loop', 'loop2', 'both']).default('loop'),
    ...weatherSettings({ staleAfterS: 120 }),
  })
  .strict();

/** The command that starts the stream of `n` packets of the configured kind (Davis reference, LOOP and LPS). */
export function loopCommand(packet: 'loop' | 'loop2' | 'both', n: number): string {
  if (packet === 'loop') return `LOOP ${n}\n`;
  return `LPS ${packet === 'loop2' ? 2 : 3} ${n}\n`;
}

const WAKE_REPLY = '\n\r';
/** ms to wait for the wake-up reply; the Davis manual says 1.2 s, three tries. */
const WAKE_WAIT_MS = 1200;
const WAKE_TRIES = 3;

/**
 * A Davis Vantage Pro2 / Vue console on its serial data logger: wakes the console ("\n" → "\n\r"), asks for
 * `LOOP n` (or `LPS 2 n` for LOOP2 packets), and turns each 99-byte packet with a good CRC into a raw local
 * `weather.reading`, aggregated per minute for the cloud. Bad CRCs are counted and skipped; a silent console is
 * woken again and reported down until it answers.
 */
export const davisVantage = defineDriver({
  id: 'davis-vantage',
  kind: 'weather',
  transport: 'serial',
  description: 'Davis Vantage Pro2 / Vue console over its serial or USB data logger (LOOP packets)',
  config: davisConfig,
  events: ['weather.reading', 'device.health'],
  create(ctx) {
    const cfg = ctx.config;
    const out = new WeatherOutput(ctx, cfg);
    let link: SerialLink | undefined;
    let framer = new LoopFramer();
    let recent = '';
    let wakeWaiter: (() => void) | undefined;
    let left = 0;
    let watchdog: NodeJS.Timeout | undefined;
    let polling = false;
    let stopped = false;

    const armWatchdog = (): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        ctx.health(false, 'console not answering');
        void poll();
      }, cfg.packet_timeout_ms);
    };

    const wake = async (): Promise<boolean> => {
      for (let i = 0; i < WAKE_TRIES && !stopped; i++) {
        recent = '';
        const woke = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), WAKE_WAIT_MS);
          wakeWaiter = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        await link?.write('\n');
        if (await woke) return true;
      }
      return false;
    };

    /** Wake the console and ask for packets; the watchdog retries when it stays silent. */
    const poll = async (): Promise<void> => {
      if (polling || stopped || link?.state !== 'up') return;
      polling = true;
      try {
        armWatchdog();
        framer = new LoopFramer();
        if (!(await wake())) {
          ctx.log.debug('no wake-up reply');
          return;
        }
        left = cfg.loop_count;
        await link.write(loopCommand(cfg.packet, cfg.loop_count));
      } catch (err) {
        ctx.log.debug({ err: reasonOf(err) }, 'poll failed');
      } finally {
        polling = false;
        wakeWaiter = undefined;
      }
    };

    const onChunk = (chunk: Buffer): void => {
      if (wakeWaiter) {
        recent = (recent + chunk.toString('latin1')).slice(-8);
        if (recent.includes(WAKE_REPLY)) wakeWaiter();
      }
      const badBefore = framer.badCrc;
      for (const packet of framer.push(chunk)) {
        try {
          const { data } = decodeDavisLoop(packet, { rain_collector: cfg.rain_collector });
          out.reading(data);
          armWatchdog();
        } catch (err) {
          ctx.reject(reasonOfDecode(err) ?? 'garbage', { error: reasonOf(err) });
        }
        if (--left <= 0) void poll();
      }
      for (let i = badBefore; i < framer.badCrc; i++) ctx.reject('bad_crc', { error: 'LOOP packet CRC is not 0' });
    };

    return {
      start() {
        out.start();
        link = ctx.serial({ path: cfg.path, baudRate: cfg.baud_rate, framing: { kind: 'raw' } });
        link.onFrame(onChunk);
        link.onState((s) => {
          if (s.state === 'up') void poll();
          else clearTimeout(watchdog);
        });
        link.start();
      },
      async stop() {
        stopped = true;
        out.stop();
        clearTimeout(watchdog);
        await link?.stop();
      },
    };
  },
});
