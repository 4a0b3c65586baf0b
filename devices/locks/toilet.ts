import { defineDriver } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { Bit, GpioInput, GpioOutput } from '../../src/core/links.js';
import { openKeyless, watchPress } from './door-io.js';
import { DoorWatch } from './door-watch.js';
import type { LockCommandArgs } from './lock-settings.js';
import { reportLockState, Strike, type StrikeCause } from './strike.js';
import { signText, type ToiletMode, toiletCommands, toiletConfig } from './toilet-settings.js';

/**
 * A public toilet: a door strike on a GPIO relay, a door contact and an inside-bolt contact (occupied = door closed
 * and bolt thrown), a Euro-key switch that opens without a pass, a maximum occupancy time with an alarm, cleaning
 * mode and emergency release. `door.state` carries `occupied`; `lock.state` carries `mode` (normal, cleaning,
 * emergency), which the access controller reads to refuse passes it cannot honour without using them up.
 */
export const publicToilet = defineDriver({
  id: 'public-toilet',
  kind: 'lock',
  transport: 'gpio',
  description:
    'Public toilet: GPIO strike, door and bolt contacts (occupancy), Euro-key, cleaning and emergency release',
  config: toiletConfig,
  events: ['lock.state', 'door.state', 'alarm', 'access.decision'],
  commands: toiletCommands,
  create(ctx) {
    const cfg = ctx.config;
    let relay: GpioOutput | undefined;
    let bolt: GpioInput | undefined;
    let contact: GpioInput | undefined;
    const closers: Array<() => void> = [];
    let mode: ToiletMode = 'normal';
    let boltThrown = false;
    /** Someone is inside: they came in through the unlocked door, or threw the bolt. */
    let inside = false;
    let leaving = false;
    let enteredUnlocked = false;
    let occupied = false;
    let occupiedSince = 0;
    let occupancyTimer: NodeJS.Timeout | undefined;
    let cleaningTimer: NodeJS.Timeout | undefined;
    let sign: string | undefined;
    // While a mode change moves the strike, its one lock.state is written by the mode change itself.
    let quiet = false;

    const levelOf = (energized: boolean): Bit => (energized !== cfg.relay_active_low ? 1 : 0);
    const report = reportLockState(ctx, () => ({ mode }));
    const strike = new Strike({
      mode: cfg.mode,
      openTimeMs: cfg.open_time_ms,
      drive: (energized) => relay?.write(levelOf(energized)),
      changed: (locked, cause) => {
        if (!quiet) report(locked, cause);
      },
      log: ctx.log,
    });

    const door = new DoorWatch({
      heldOpenMs: cfg.held_open_ms,
      isLocked: () => strike.locked,
      // Someone inside leaves through the locked door (the inside handle always opens it): that is no forced door.
      expectOpen: () => mode !== 'normal' || inside,
      onState: (state) => {
        track(state);
        update(true);
      },
      onAlarm: (alarm) => ctx.emit('alarm', { alarm }),
    });

    const publishSign = (): void => {
      const text = signText(mode, occupied);
      if (!cfg.sign_topic || text === sign) return;
      let link: ReturnType<typeof ctx.mqtt>;
      try {
        link = ctx.mqtt();
      } catch (err) {
        ctx.log.warn({ err: reasonOf(err) }, 'sign not published');
        return;
      }
      // The sign is told again on the next change if the broker is away; the state is in the event log anyway.
      if (link.state !== 'up') return;
      sign = text;
      link.publish(cfg.sign_topic, text, { qos: 1, retain: true }).catch((err: unknown) => {
        sign = undefined;
        ctx.log.warn({ err: reasonOf(err) }, 'sign not published');
      });
    };

    const occupancyAlarm = (): void => {
      occupancyTimer = undefined;
      if (!occupied || mode !== 'normal') return;
      ctx.emit('alarm', { alarm: 'max_occupancy', occupied_ms: Date.now() - occupiedSince });
    };

    /** Who went through the door: an opening by someone inside is their exit; a close after an unlocked opening, an entry. */
    const track = (state: string): void => {
      if (state === 'closed') {
        inside = !leaving && enteredUnlocked;
        return;
      }
      if (state === 'open' || state === 'forced') {
        leaving = inside;
        enteredUnlocked = !strike.locked;
        inside = false;
      }
    };

    /** Recompute occupancy from the contacts; report the door when it or the occupancy changed. */
    const update = (doorChanged: boolean): void => {
      const now = door.closed && boltThrown;
      const changed = now !== occupied;
      if (changed) {
        occupied = now;
        clearTimeout(occupancyTimer);
        occupancyTimer = undefined;
        if (occupied) {
          occupiedSince = Date.now();
          if (mode === 'normal') occupancyTimer = setTimeout(occupancyAlarm, cfg.max_occupancy_ms);
        }
      }
      if (changed || doorChanged) ctx.emit('door.state', { state: door.state, locked: strike.locked, occupied });
      if (changed) publishSign();
    };

    /** Change mode and move the strike; one durable lock.state tells the controller and the signs at once. */
    const setMode = async (next: ToiletMode, move: () => Promise<void>, cause: StrikeCause): Promise<void> => {
      mode = next;
      clearTimeout(cleaningTimer);
      cleaningTimer = undefined;
      if (next !== 'normal') {
        clearTimeout(occupancyTimer);
        occupancyTimer = undefined;
      } else if (occupied && occupancyTimer === undefined) {
        occupiedSince = Date.now();
        occupancyTimer = setTimeout(occupancyAlarm, cfg.max_occupancy_ms);
      }
      quiet = true;
      try {
        await move();
      } finally {
        quiet = false;
      }
      ctx.emitNow('lock.state', { locked: strike.locked, cause, mode });
      publishSign();
    };

    const endHold = () => setMode('normal', () => strike.lock('reset'), 'reset');

    return {
      start() {
        const gpio = ctx.gpio();
        relay = gpio.output(cfg.relay_pin, { initial: levelOf(strike.energizedFor(true)) });
        contact = gpio.input(cfg.contact_pin, { edge: 'both', debounceMs: cfg.contact_debounce_ms });
        bolt = gpio.input(cfg.bolt_pin, { edge: 'both', debounceMs: cfg.bolt_debounce_ms });
        door.initial(contact.read() === cfg.contact_closed_level);
        boltThrown = bolt.read() === cfg.bolt_engaged_level;
        occupied = door.closed && boltThrown;
        if (occupied) {
          occupiedSince = Date.now();
          occupancyTimer = setTimeout(occupancyAlarm, cfg.max_occupancy_ms);
        }
        ctx.emit('lock.state', { locked: true, cause: 'start', mode });
        ctx.emit('door.state', { state: door.state, locked: true, occupied });
        const c = contact;
        const b = bolt;
        closers.push(c.watch((v) => door.contact(v === cfg.contact_closed_level)));
        closers.push(
          b.watch((v) => {
            boltThrown = v === cfg.bolt_engaged_level;
            if (boltThrown) inside = true;
            update(false);
          }),
        );
        if (cfg.eurokey_pin !== undefined) {
          const openMs = cfg.eurokey_open_time_ms ?? cfg.open_time_ms;
          closers.push(
            watchPress(ctx, cfg.eurokey_pin, cfg.eurokey_active_level, cfg.eurokey_debounce_ms, () => {
              void openKeyless(ctx, strike, openMs, 'eurokey');
            }),
          );
        }
        if (cfg.sign_topic) {
          // Tell the sign again whenever the broker comes (back): it may have missed changes, or never heard one.
          const link = ctx.mqtt();
          closers.push(
            link.onState((st) => {
              if (st.state !== 'up') return;
              sign = undefined;
              publishSign();
            }),
          );
          publishSign();
        }
        ctx.health(true);
      },
      async stop() {
        for (const c of closers.splice(0)) c();
        clearTimeout(occupancyTimer);
        clearTimeout(cleaningTimer);
        door.stop();
        strike.dispose();
        await strike.lock('stop');
        contact?.close();
        bolt?.close();
        relay?.close();
      },
      async command(name, args) {
        switch (name) {
          case 'lock':
          case 'reset':
            await endHold();
            return { locked: true, mode };
          case 'cleaning': {
            if (!(args as { on: boolean }).on) {
              if (mode === 'cleaning') await endHold();
              return { locked: strike.locked, mode };
            }
            if (mode === 'emergency') return { locked: false, mode };
            await setMode('cleaning', () => strike.hold('cleaning'), 'cleaning');
            cleaningTimer = setTimeout(() => {
              endHold().catch((err: unknown) => ctx.log.error({ err: reasonOf(err) }, 'cleaning did not end'));
            }, cfg.cleaning_max_ms);
            return { locked: false, mode, ends_in_ms: cfg.cleaning_max_ms };
          }
          case 'emergency_release':
            await setMode('emergency', () => strike.hold('emergency_release'), 'emergency_release');
            return { locked: false, mode };
          default: {
            if (mode !== 'normal') return { locked: false, mode };
            return strike.unlock((args as LockCommandArgs['unlock']).duration_ms, 'command');
          }
        }
      },
    };
  },
});
