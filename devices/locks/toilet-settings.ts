import { z } from 'zod';
import { lockAccessSettings } from './access-settings.js';
import { bcmPin, contactSettings, level, lockCommands, strikeSettings } from './lock-settings.js';

export const toiletConfig = z
  .object({
    /** BCM line driving the door strike's relay. */
    relay_pin: bcmPin,
    relay_active_low: z.boolean().default(false),
    ...strikeSettings,
    ...contactSettings,
    /** BCM line of the door contact: a toilet needs one to know it is occupied. */
    contact_pin: bcmPin,
    /** BCM line of the contact on the inside bolt (thrown by the person inside). */
    bolt_pin: bcmPin,
    /** Level the bolt contact reads while the bolt is thrown. */
    bolt_engaged_level: level.default(0),
    /** ms of bolt contact bounce to ignore, 0-1000 */
    bolt_debounce_ms: z.number().int().min(0).max(1000).default(50),
    /** BCM line of the Euro-key (CEN/Eurokey) switch contact; absent when the door has none. */
    eurokey_pin: bcmPin.optional(),
    /** Level the Euro-key contact reads while the key is turned. */
    eurokey_active_level: level.default(0),
    /** ms of key-switch bounce to ignore, 0-1000 */
    eurokey_debounce_ms: z.number().int().min(0).max(1000).default(30),
    /** ms the strike stays released after the Euro-key is turned, 500-60000; default the lock's open_time_ms */
    eurokey_open_time_ms: z.number().int().min(500).max(60_000).optional(),
    /** ms the toilet may stay occupied before an alarm (someone may need help), 1000-14400000, default 30 min */
    max_occupancy_ms: z.number().int().min(1000).max(14_400_000).default(1_800_000),
    /**
     * ms cleaning mode lasts at most, 1000-28800000, default 1 h: a forgotten cleaning mode must not leave the toilet
     * open all night.
     */
    cleaning_max_ms: z.number().int().min(1000).max(28_800_000).default(3_600_000),
    /**
     * Local MQTT topic for a sign: retained plain text `free`, `occupied`, `cleaning` or `out_of_order`. The same
     * facts are in the retained `<base>/<device>/state` (door.state `occupied`, lock.state `mode`) for the cloud.
     */
    sign_topic: z
      .string()
      .regex(/^[^#+\s]+$/, 'expected an MQTT topic without wildcards')
      .optional(),
    ...lockAccessSettings,
  })
  .strict()
  .refine((c) => new Set([c.relay_pin, c.contact_pin, c.bolt_pin, c.eurokey_pin ?? -1]).size === 4, {
    message: 'relay_pin, contact_pin, bolt_pin and eurokey_pin must be different lines',
    path: ['bolt_pin'],
  });

export const toiletCommands = {
  ...lockCommands,
  /** Cleaning mode on or off: the strike is held released for the cleaner, passes are refused (see docs/doors.md). */
  cleaning: z.object({ on: z.boolean() }).strict(),
  /** Open now and stay open until `reset`: someone inside needs help. Called by the admin API. */
  emergency_release: z.object({}).strict(),
  /** Back to normal after cleaning or an emergency release: lock, and take passes again. */
  reset: z.object({}).strict(),
};

/** What the toilet is doing: taking passes, being cleaned, or released in an emergency. */
export type ToiletMode = 'normal' | 'cleaning' | 'emergency';

/** The sign's text for a mode and occupancy. */
export function signText(mode: ToiletMode, occupied: boolean): 'free' | 'occupied' | 'cleaning' | 'out_of_order' {
  if (mode === 'emergency') return 'out_of_order';
  if (mode === 'cleaning') return 'cleaning';
  return occupied ? 'occupied' : 'free';
}
