import type { DriverContext } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';
import type { Bit, GpioInput } from '../../src/core/links.js';
import { DoorWatch } from './door-watch.js';
import type { Strike, StrikeCause } from './strike.js';

type Ctx = Pick<DriverContext<unknown>, 'id' | 'emit' | 'emitNow' | 'gpio' | 'log'>;

export interface DoorInputSettings {
  contact_pin?: number | undefined;
  contact_closed_level: 0 | 1;
  contact_debounce_ms: number;
  held_open_ms: number;
  rex_pin?: number | undefined;
  rex_active_level?: 0 | 1;
  rex_debounce_ms?: number;
  rex_open_time_ms?: number | undefined;
  open_time_ms: number;
}

/**
 * Record an opening that needed no credential (request-to-exit, Euro-key) as an `access.decision`: granted, reason
 * `ok`, the credential naming the input. Durable and in the critical lane like every decision, so the door's audit
 * trail shows every opening; written after the strike moved, because egress must never wait for a disk.
 */
export function recordKeylessOpening(ctx: Ctx, credential: 'rex' | 'eurokey'): void {
  try {
    ctx.emitNow('access.decision', { credential, granted: true, reason: 'ok', lock: ctx.id });
  } catch (err) {
    ctx.log.error({ err: reasonOf(err), credential }, 'opening not recorded');
  }
}

/**
 * A button or key-switch input that fires once per press (level `active`), debounced. Returns a function that
 * closes it.
 */
export function watchPress(ctx: Ctx, line: number, active: Bit, debounceMs: number, onPress: () => void): () => void {
  const input = ctx.gpio().input(line, { edge: 'both', debounceMs });
  const off = input.watch((value) => {
    if (value === active) onPress();
  });
  return () => {
    off();
    input.close();
  };
}

/**
 * The door's own inputs around a strike: the door contact (door.state, forced and held-open alarms) and the
 * request-to-exit button (opens without a pass, recorded as a keyless decision). Returns the door watch (absent
 * without a contact) and a function that closes the inputs.
 */
export function openDoorInputs(
  ctx: Ctx,
  cfg: DoorInputSettings,
  strike: Strike,
  opts: { expectOpen?: () => boolean; extra?: () => Record<string, unknown> } = {},
): { door: DoorWatch | undefined; close(): void } {
  const closers: Array<() => void> = [];
  let door: DoorWatch | undefined;
  if (cfg.contact_pin !== undefined) {
    const contact: GpioInput = ctx.gpio().input(cfg.contact_pin, { edge: 'both', debounceMs: cfg.contact_debounce_ms });
    const watch = new DoorWatch({
      heldOpenMs: cfg.held_open_ms,
      isLocked: () => strike.locked,
      ...(opts.expectOpen ? { expectOpen: opts.expectOpen } : {}),
      onState: (state) => ctx.emit('door.state', { state, locked: strike.locked, ...opts.extra?.() }),
      onAlarm: (alarm) => ctx.emit('alarm', { alarm }),
    });
    door = watch;
    watch.initial(contact.read() === cfg.contact_closed_level);
    ctx.emit('door.state', { state: watch.state, locked: strike.locked, ...opts.extra?.() });
    const off = contact.watch((v) => watch.contact(v === cfg.contact_closed_level));
    closers.push(() => {
      off();
      watch.stop();
      contact.close();
    });
  }
  if (cfg.rex_pin !== undefined) {
    const openMs = cfg.rex_open_time_ms ?? cfg.open_time_ms;
    closers.push(
      watchPress(ctx, cfg.rex_pin, cfg.rex_active_level ?? 0, cfg.rex_debounce_ms ?? 30, () => {
        void openKeyless(ctx, strike, openMs, 'rex');
      }),
    );
  }
  return {
    door,
    close() {
      for (const c of closers.splice(0)) c();
    },
  };
}

/** Release the strike for an input that needs no credential, then record it. */
export async function openKeyless(
  ctx: Ctx,
  strike: Strike,
  openMs: number,
  credential: 'rex' | 'eurokey',
): Promise<void> {
  try {
    await strike.unlock(openMs, credential as StrikeCause);
  } catch (err) {
    ctx.log.error({ err: reasonOf(err), credential }, 'strike did not release');
    return;
  }
  recordKeylessOpening(ctx, credential);
}
