import { z } from 'zod';
import { defineDriver } from '../../src/core/driver.js';
import type { Bit, GpioInput, GpioOutput } from '../../src/transports/types.js';
import { lockAccessSettings } from './access-settings.js';

const pin = z.number().int().min(0, 'expected a BCM line 0-27').max(27, 'expected a BCM line 0-27');

export const gpioRelayConfig = z
  .object({
    /** BCM line driving the strike's relay. */
    relay_pin: pin,
    /** The relay board switches on a low level (most opto-isolated boards do). */
    relay_active_low: z.boolean().default(false),
    /**
     * fail-secure: the strike stays locked without power, the relay energizes to open (doors to service rooms).
     * fail-safe: the strike is open without power, the relay energizes to hold it locked (escape routes).
     */
    mode: z.enum(['fail-secure', 'fail-safe']).default('fail-secure'),
    /** ms the strike stays released after a grant, 500-60000 */
    open_time_ms: z.number().int().min(500).max(60_000).default(5000),
    /** BCM line of the door contact (reed switch); absent when the door has none. */
    contact_pin: pin.optional(),
    /** Level the contact reads when the door is closed. */
    contact_closed_level: z.union([z.literal(0), z.literal(1)]).default(0),
    /** ms of contact bounce to ignore, 0-1000 */
    contact_debounce_ms: z.number().int().min(0).max(1000).default(20),
    /** ms the door may stand open before `held_open` is raised, 1000-3600000 */
    held_open_ms: z.number().int().min(1000).max(3_600_000).default(30_000),
    ...lockAccessSettings,
  })
  .strict();

type DoorState = 'closed' | 'open' | 'held_open' | 'forced';

/**
 * A door strike on a GPIO relay with an optional door contact. Reports `lock.state` when the strike moves and
 * `door.state` when the door does: opening while locked is `forced` (and an alarm), standing open past
 * `held_open_ms` is `held_open` (and an alarm).
 */
export const gpioRelayLock = defineDriver({
  id: 'gpio-relay-lock',
  kind: 'lock',
  transport: 'gpio',
  description: 'Door strike on a GPIO relay, with door contact (fail-safe or fail-secure)',
  config: gpioRelayConfig,
  events: ['lock.state', 'door.state', 'alarm'],
  commands: {
    unlock: z.object({ duration_ms: z.number().int().min(500).max(3_600_000).optional() }).strict(),
    lock: z.object({}).strict(),
  },
  create(ctx) {
    const cfg = ctx.config;
    let relay: GpioOutput | undefined;
    let contact: GpioInput | undefined;
    let unwatch: (() => void) | undefined;
    let locked = true;
    let door: DoorState = 'closed';
    let relockTimer: NodeJS.Timeout | undefined;
    let heldTimer: NodeJS.Timeout | undefined;

    // fail-secure energizes to open; fail-safe energizes to hold locked.
    const levelFor = (wantLocked: boolean): Bit => {
      const energize = cfg.mode === 'fail-secure' ? !wantLocked : wantLocked;
      return (energize !== cfg.relay_active_low ? 1 : 0) as Bit;
    };

    const setLocked = (wantLocked: boolean): void => {
      relay?.write(levelFor(wantLocked));
      if (locked !== wantLocked) {
        locked = wantLocked;
        ctx.emit('lock.state', { locked });
      }
    };

    const setDoor = (next: DoorState): void => {
      if (next === door) return;
      door = next;
      ctx.emit('door.state', { state: door, locked });
      if (next === 'forced' || next === 'held_open')
        ctx.emit('alarm', { alarm: next === 'forced' ? 'door_forced' : 'door_held_open' });
    };

    const onContact = (level: Bit): void => {
      const closed = level === cfg.contact_closed_level;
      clearTimeout(heldTimer);
      if (closed) {
        setDoor('closed');
        return;
      }
      if (door !== 'closed') return;
      setDoor(locked ? 'forced' : 'open');
      heldTimer = setTimeout(() => setDoor('held_open'), cfg.held_open_ms);
    };

    return {
      start() {
        const gpio = ctx.gpio();
        relay = gpio.output(cfg.relay_pin, { initial: levelFor(true) });
        ctx.emit('lock.state', { locked: true });
        if (cfg.contact_pin !== undefined) {
          contact = gpio.input(cfg.contact_pin, { edge: 'both', debounceMs: cfg.contact_debounce_ms });
          door = contact.read() === cfg.contact_closed_level ? 'closed' : 'open';
          ctx.emit('door.state', { state: door, locked });
          unwatch = contact.watch(onContact);
        }
        ctx.health(true);
      },
      stop() {
        clearTimeout(relockTimer);
        clearTimeout(heldTimer);
        unwatch?.();
        setLocked(true);
        relay?.close();
        contact?.close();
      },
      command(name, args) {
        clearTimeout(relockTimer);
        if (name === 'lock') {
          setLocked(true);
          return { locked: true };
        }
        const duration = (args as { duration_ms?: number }).duration_ms ?? cfg.open_time_ms;
        setLocked(false);
        relockTimer = setTimeout(() => setLocked(true), duration);
        return { locked: false, relock_in_ms: duration };
      },
    };
  },
});
