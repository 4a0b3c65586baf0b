import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { Bit, GpioOutput } from '../../src/core/links.js';
import { lockAccessSettings } from './access-settings.js';
import { openDoorInputs } from './door-io.js';
import {
  bcmPin,
  contactSettings,
  lockCommandHandler,
  lockCommands,
  rexSettings,
  strikeSettings,
} from './lock-settings.js';
import { reportLockState, Strike } from './strike.js';

export const gpioRelayConfig = z
  .object({
    /** BCM line driving the strike's relay. */
    relay_pin: bcmPin,
    /** The relay board switches on a low level (most opto-isolated boards do). */
    relay_active_low: z.boolean().default(false),
    ...strikeSettings,
    ...contactSettings,
    ...rexSettings,
    /**
     * ms between an unlock command and the relay moving, 0-10000, default 0. For a door whose release must wait for
     * something else (a chime or light that announces the opening); crash tests use it to hold the window between a
     * committed decision and the relay open.
     */
    unlock_delay_ms: z.number().int().min(0).max(10_000).default(0),
    ...lockAccessSettings,
  })
  .strict();

/**
 * A door strike on a GPIO relay with an optional door contact and request-to-exit button. Reports `lock.state` when
 * the strike moves and `door.state` when the door does: opening while locked is `forced` (and an alarm), standing
 * open past `held_open_ms` is `held_open` (and an alarm). A press of the request-to-exit button releases the strike
 * without a pass and is recorded as an `access.decision` with credential `rex`.
 */
export const gpioRelayLock = defineDriver({
  id: 'gpio-relay-lock',
  kind: 'lock',
  transport: 'gpio',
  description: 'Door strike on a GPIO relay, with door contact and request-to-exit button (fail-safe or fail-secure)',
  config: gpioRelayConfig,
  events: ['lock.state', 'door.state', 'alarm', 'access.decision'],
  commands: lockCommands,
  create(ctx) {
    const cfg = ctx.config;
    let relay: GpioOutput | undefined;
    let inputs: { close(): void } | undefined;
    const delays = new Set<NodeJS.Timeout>();
    const levelOf = (energized: boolean): Bit => (energized !== cfg.relay_active_low ? 1 : 0);
    const strike = new Strike({
      mode: cfg.mode,
      openTimeMs: cfg.open_time_ms,
      drive: (energized) => relay?.write(levelOf(energized)),
      changed: reportLockState(ctx),
      log: ctx.log,
    });

    const delayed = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          delays.delete(t);
          resolve();
        }, ms);
        delays.add(t);
      });

    return {
      start() {
        const gpio = ctx.gpio();
        relay = gpio.output(cfg.relay_pin, { initial: levelOf(strike.energizedFor(true)) });
        ctx.emit('lock.state', { locked: true, cause: 'start' });
        inputs = openDoorInputs(ctx, cfg, strike);
        ctx.health(true);
      },
      async stop() {
        for (const t of delays) clearTimeout(t);
        delays.clear();
        inputs?.close();
        strike.dispose();
        await strike.lock('stop');
        relay?.close();
      },
      command: lockCommandHandler(strike, async () => {
        if (cfg.unlock_delay_ms > 0) await delayed(cfg.unlock_delay_ms);
      }),
    };
  },
});
