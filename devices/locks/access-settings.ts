import { z } from 'zod';

/**
 * The access settings every lock driver's schema includes (read by src/access/controller.ts and the local broker's
 * command handler, src/admin/ha-publisher.ts): the groups a `group:NAME` pass audience can name, the door's rule
 * when the gateway does not know the time, and whether the local broker may command the lock.
 */
export const lockAccessSettings = {
  /** Groups this lock belongs to, e.g. [toilets, market-square]. */
  groups: z
    .array(
      z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a group name of lowercase letters, digits, - and _'),
    )
    .default([]),
  /** When the time is unknown (no NTP, no RTC, no floor): deny (default) or allow passes without a time check. */
  time_unknown: z.enum(['deny', 'allow']).default('deny'),
  /**
   * Take LOCK, UNLOCK and OPEN on the local broker's `<base>/<lock>/set` (Home Assistant's lock entity). Off by
   * default: anyone who may publish there can open the door, so enable it only where the broker admits trusted
   * clients alone (config/mosquitto/). When off, commands there are refused and counted, and Home Assistant gets a
   * read-only lock sensor instead of a lock it could command.
   */
  local_mqtt_control: z.boolean().default(false),
  /**
   * Digits of this lock's keypad codes, 8-10 (default 8); the keypad takes exactly this many. Shorter codes cannot
   * keep the guessing odds of docs/pins.md; longer ones get a larger guess budget.
   */
  pin_length: z.number().int().min(8, 'PIN codes have 8-10 digits').max(10, 'PIN codes have 8-10 digits').default(8),
};
