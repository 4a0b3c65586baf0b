import { z } from 'zod';

/** A BCM line on the Pi header. */
export const bcmPin = z.number().int().min(0, 'expected a BCM line 0-27').max(27, 'expected a BCM line 0-27');

export const level = z.union([z.literal(0), z.literal(1)]);

/** How a strike behaves without power and how long it stays released: every lock driver has these. */
export const strikeSettings = {
  /**
   * fail-secure: the strike stays locked without power, the relay energizes to open (doors to service rooms).
   * fail-safe: the strike is open without power, the relay energizes to hold it locked (escape routes).
   */
  mode: z.enum(['fail-secure', 'fail-safe']).default('fail-secure'),
  /** ms the strike stays released after a grant, 500-60000 */
  open_time_ms: z.number().int().min(500).max(60_000).default(5000),
};

/** A door contact (reed switch) on GPIO, with the forced and held-open alarms it makes possible. */
export const contactSettings = {
  /** BCM line of the door contact (reed switch); absent when the door has none. */
  contact_pin: bcmPin.optional(),
  /** Level the contact reads when the door is closed. */
  contact_closed_level: level.default(0),
  /** ms of contact bounce to ignore, 0-1000 */
  contact_debounce_ms: z.number().int().min(0).max(1000).default(20),
  /** ms the door may stand open before `held_open` is raised, 1000-3600000 */
  held_open_ms: z.number().int().min(1000).max(3_600_000).default(30_000),
};

/** A request-to-exit button on GPIO: opens from inside without a pass. */
export const rexSettings = {
  /** BCM line of the request-to-exit button; absent when the door has none. */
  rex_pin: bcmPin.optional(),
  /** Level the button reads while pressed (buttons to ground with a pull-up read 0). */
  rex_active_level: level.default(0),
  /** ms of button bounce to ignore, 0-1000 */
  rex_debounce_ms: z.number().int().min(0).max(1000).default(30),
  /** ms the strike stays released after a press, 500-60000; default the lock's open_time_ms */
  rex_open_time_ms: z.number().int().min(500).max(60_000).optional(),
};

/** The arguments of every lock's `unlock` and `lock` commands. */
export const lockCommands = {
  unlock: z.object({ duration_ms: z.number().int().min(500).max(3_600_000).optional() }).strict(),
  lock: z.object({}).strict(),
};

/** The arguments of a lock command, typed from `lockCommands`. */
export type LockCommandArgs = { [K in keyof typeof lockCommands]: z.output<(typeof lockCommands)[K]> };

/** What a lock command needs of the strike (devices/locks/strike.ts). */
interface CommandedStrike {
  lock(cause: 'command'): Promise<void>;
  unlock(durationMs: number | undefined, cause: 'command'): Promise<unknown>;
}

/**
 * The `command` of a plain lock (GPIO, USB, Tasmota relay): `lock` locks now, `unlock` opens for the given time or
 * the configured one, after `beforeUnlock` (a configured delay). The host has validated `args` against
 * `lockCommands` already.
 */
export function lockCommandHandler(
  strike: CommandedStrike,
  beforeUnlock?: () => Promise<void>,
): (name: string, args: unknown) => Promise<unknown> {
  return async (name, args) => {
    if (name === 'lock') {
      await strike.lock('command');
      return { locked: true };
    }
    await beforeUnlock?.();
    return strike.unlock((args as LockCommandArgs['unlock']).duration_ms, 'command');
  };
}
