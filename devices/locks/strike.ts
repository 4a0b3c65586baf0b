import type { Logger } from 'pino';
import type { DriverContext } from '../../src/core/driver.js';
import { reasonOf } from '../../src/core/errors.js';

/** Why the strike moved, as `lock.state` reports it. */
export type StrikeCause =
  | 'start'
  | 'command'
  | 'relock'
  | 'rex'
  | 'eurokey'
  | 'cleaning'
  | 'emergency_release'
  | 'reset'
  | 'device'
  | 'stop';

export interface StrikeOptions {
  mode: 'fail-secure' | 'fail-safe';
  /** ms a plain unlock lasts */
  openTimeMs: number;
  /**
   * Energize the relay (true) or not. May be async (serial, MQTT): a rejection means the strike did not move and
   * is passed on to the caller. A synchronous driver moves before `unlock()` first yields. `cause` is why, for a
   * driver whose device confirms the move by itself (Tasmota).
   */
  drive(energized: boolean, cause: StrikeCause): void | Promise<void>;
  /** The strike moved: report `lock.state`. */
  changed(locked: boolean, cause: StrikeCause): void;
  log?: Logger;
}

/**
 * The strike of one door: which relay level locks it (fail-secure energizes to open, fail-safe to hold locked), how
 * long an unlock lasts, and holds (cleaning, emergency release) that keep it released until reset. Shared by the
 * GPIO, USB and Tasmota relay locks and the toilet.
 */
export class Strike {
  private isLocked = true;
  private relockTimer: NodeJS.Timeout | undefined;
  private heldBy: StrikeCause | undefined;

  constructor(private readonly o: StrikeOptions) {}

  get locked(): boolean {
    return this.isLocked;
  }

  /** What holds the strike released (until `lock` or `reset`), if anything. */
  get held(): StrikeCause | undefined {
    return this.heldBy;
  }

  /** The relay level for a lock state: energized to open when fail-secure, energized to hold when fail-safe. */
  energizedFor(locked: boolean): boolean {
    return this.o.mode === 'fail-secure' ? !locked : locked;
  }

  /** The lock state a relay level stands for (the inverse of `energizedFor`). */
  lockedFor(energized: boolean): boolean {
    return this.o.mode === 'fail-secure' ? !energized : energized;
  }

  /** Release for `durationMs` (default the open time), then relock; a hold in force stays in force. */
  async unlock(
    durationMs = this.o.openTimeMs,
    cause: StrikeCause = 'command',
  ): Promise<{ locked: false; relock_in_ms?: number }> {
    clearTimeout(this.relockTimer);
    await this.set(false, cause);
    if (this.heldBy) return { locked: false };
    this.relockTimer = setTimeout(() => {
      this.set(true, 'relock').catch((err: unknown) => this.o.log?.error({ err: reasonOf(err) }, 'relock failed'));
    }, durationMs);
    return { locked: false, relock_in_ms: durationMs };
  }

  /** Keep the strike released until `lock()` (cleaning, emergency release). */
  async hold(cause: StrikeCause): Promise<void> {
    clearTimeout(this.relockTimer);
    this.heldBy = cause;
    await this.set(false, cause);
  }

  /** Lock now, ending any hold. */
  async lock(cause: StrikeCause = 'command'): Promise<void> {
    clearTimeout(this.relockTimer);
    this.heldBy = undefined;
    await this.set(true, cause);
  }

  /** Drive the relay to the current state again (a USB board that was replugged, a Tasmota that rebooted). */
  async refresh(): Promise<void> {
    await this.o.drive(this.energizedFor(this.isLocked), 'reset');
  }

  /** Record a state the device reported by itself (a Tasmota switched by its own button). */
  reported(locked: boolean, cause: StrikeCause = 'device'): void {
    if (locked === this.isLocked) return;
    this.isLocked = locked;
    this.o.changed(locked, cause);
  }

  /** Stop timers (the driver is stopping); the caller locks first if it should. */
  dispose(): void {
    clearTimeout(this.relockTimer);
  }

  private async set(locked: boolean, cause: StrikeCause): Promise<void> {
    await this.o.drive(this.energizedFor(locked), cause);
    if (locked !== this.isLocked) {
      this.isLocked = locked;
      this.o.changed(locked, cause);
    }
  }
}

/**
 * The usual `changed` of a strike: a `lock.state` event with the cause (and `extra()`, e.g. a toilet's mode). The
 * relock at shutdown is written at once, so it is on record before the driver is gone.
 */
export function reportLockState(
  ctx: Pick<DriverContext<unknown>, 'emit' | 'emitNow'>,
  extra: () => Record<string, unknown> = () => ({}),
): (locked: boolean, cause: StrikeCause) => void {
  return (locked, cause) => {
    const data = { locked, cause, ...extra() };
    if (cause === 'stop') ctx.emitNow('lock.state', data);
    else ctx.emit('lock.state', data);
  };
}
