import { z } from 'zod';

/**
 * The access settings every lock driver's schema includes (read by src/access/controller.ts): the groups a
 * `group:NAME` pass audience can name, and the door's rule when the gateway does not know the time.
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
};
