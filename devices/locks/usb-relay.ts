import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { SerialLink } from '../../src/core/links.js';
import { lockAccessSettings } from './access-settings.js';
import { openDoorInputs } from './door-io.js';
import { encodeLcus } from './lcus-frame.js';
import { contactSettings, lockCommandHandler, lockCommands, rexSettings, strikeSettings } from './lock-settings.js';
import { reportLockState, Strike } from './strike.js';

export const usbRelayConfig = z
  .object({
    /** Prefer /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0 so a replugged board keeps its name. */
    path: z.string().min(1),
    baud_rate: z.number().int().positive().default(9600),
    /** Relay channel on the board, 1-8 (LCUS-1 has one, LCUS-2/4/8 more). */
    channel: z.number().int().min(1).max(8).default(1),
    ...strikeSettings,
    ...contactSettings,
    ...rexSettings,
    ...lockAccessSettings,
  })
  .strict();

/**
 * A door strike on an LCUS-type USB relay board (CH340 serial, `A0 0n 01 sum` on, `A0 0n 00 sum` off). The board is
 * write-only and forgets its state when it loses power, so the strike's state is sent again every time the port
 * comes (back) up; a command while the board is unplugged fails at once, never queued for later. Door contact and
 * request-to-exit button, when present, are on the Pi's GPIO.
 */
export const usbRelayLock = defineDriver({
  id: 'lcus-usb-relay',
  kind: 'lock',
  transport: 'serial',
  description:
    'Door strike on an LCUS-type USB relay board (serial A0 protocol), with GPIO door contact and exit button',
  config: usbRelayConfig,
  events: ['lock.state', 'door.state', 'alarm', 'access.decision'],
  commands: lockCommands,
  create(ctx) {
    const cfg = ctx.config;
    let link: SerialLink | undefined;
    let inputs: { close(): void } | undefined;
    const strike = new Strike({
      mode: cfg.mode,
      openTimeMs: cfg.open_time_ms,
      drive: async (on) => {
        if (!link) throw new Error('relay board not started');
        await link.write(encodeLcus({ channel: cfg.channel, on }));
      },
      changed: reportLockState(ctx),
      log: ctx.log,
    });
    return {
      start() {
        link = ctx.serial({ path: cfg.path, baudRate: cfg.baud_rate, framing: { kind: 'raw' } });
        link.onState((s) => {
          if (s.state !== 'up') return;
          strike.refresh().catch((err: unknown) => ctx.log.warn({ err: reasonOf(err) }, 'relay state not restored'));
        });
        // The board never speaks: bytes from it mean the path names another device (or a faulty board).
        link.onFrame((chunk) => ctx.reject('unexpected_data', { bytes: chunk.length }));
        ctx.emit('lock.state', { locked: true, cause: 'start' });
        inputs = openDoorInputs(ctx, cfg, strike);
        link.start();
      },
      async stop() {
        inputs?.close();
        strike.dispose();
        if (link?.state === 'up') {
          await strike.lock('stop').catch((err: unknown) => ctx.log.warn({ err: reasonOf(err) }, 'not relocked'));
        }
      },
      command: lockCommandHandler(strike),
    };
  },
});
