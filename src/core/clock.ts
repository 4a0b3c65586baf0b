import { existsSync } from 'node:fs';
import type { TimeQuality } from './events.js';

/** Where the time floor lives between runs (the store's meta table implements this). */
export interface FloorStore {
  readFloor(): number | undefined;
  /**
   * Write a raised floor, unless an operator has set the floor since `epoch` (another process may have): then
   * nothing is written and the answer is false.
   */
  writeFloor(ms: number, epoch?: number): boolean;
  /** How many times an operator has set the floor (0: never); a running gateway adopts a new setting by it. */
  floorEpoch(): number;
  /** An operator's setting: the floor becomes `ms` (lower or higher; 0 clears it) and a new epoch starts. */
  replaceFloor(ms: number): number;
}

export interface ClockOptions {
  /** Treat the system clock as synchronized (bench, CI, demo). Default: detect NTP sync. */
  trustSystemClock?: boolean;
  /** Wall clock source in ms; tests replace it. */
  wall?: () => number;
  /** Monotonic ms (time elapsed, immune to clock changes); tests replace it. Default `performance.now`. */
  mono?: () => number;
  /** Probe for NTP sync; defaults to systemd-timesyncd's marker file. */
  isSynced?: () => boolean;
  /** Probe for a hardware real-time clock. */
  hasRtc?: () => boolean;
}

export interface Now {
  ms: number;
  tq: TimeQuality;
}

/**
 * ms a signed `iat` may lie beyond the best time the gateway otherwise knows and still raise the floor (30 min).
 * Below the smallest error a misconfigured issuer makes in practice (a time zone written as UTC: whole hours),
 * above any skew between two NTP-synced clocks; and what a wrong iat within it can cost is at most 30 min of a
 * pass's validity. docs/passes.md "Time" argues the figure.
 */
export const MAX_FLOOR_STEP_MS = 30 * 60_000;

/** What a signed `iat` offered to the floor did. */
export type FloorOffer =
  /** the floor rose to the iat */
  | { outcome: 'raised' }
  /** the floor was already at or above it, or the clock is synced or an RTC (a signed iat never moves those) */
  | { outcome: 'kept' }
  /** more than MAX_FLOOR_STEP_MS beyond the best known time: not taken; `limitMs` is how far it could have gone */
  | { outcome: 'refused'; limitMs: number };

/**
 * Wall time that never goes below a persisted floor. A Pi has no RTC: after a power cut its clock may start in the
 * past, so the floor (raised by NTP, an RTC, and the `iat` of validly signed passes and commands) is the earliest
 * time we know has passed. When the wall clock is below the floor we report the floor with quality `floor`.
 *
 * A signed `iat` only vouches for the issuer's clock, which can be wrong: it may raise the floor at most
 * MAX_FLOOR_STEP_MS beyond `bestKnown()`, so no single pass or command can push the gateway into the future.
 */
export class Clock {
  private floor: number;
  private persistedFloor: number;
  /** mono() when the floor last changed: the floor plus the time elapsed since is a time we know has passed. */
  private floorMono: number;
  private epoch: number;
  private readonly wall: () => number;
  private readonly mono: () => number;
  private readonly isSynced: () => boolean;
  private readonly hasRtc: () => boolean;

  constructor(
    private readonly store: FloorStore | undefined,
    opts: ClockOptions = {},
  ) {
    this.wall = opts.wall ?? Date.now;
    this.mono = opts.mono ?? (() => performance.now());
    const trust = opts.trustSystemClock === true;
    this.isSynced = opts.isSynced ?? cached(() => trust || existsSync('/run/systemd/timesync/synchronized'));
    this.hasRtc = opts.hasRtc ?? cached(() => existsSync('/dev/rtc0'));
    this.floor = store?.readFloor() ?? 0;
    this.persistedFloor = this.floor;
    this.floorMono = this.mono();
    this.epoch = store?.floorEpoch() ?? 0;
  }

  now(): Now {
    const wall = this.wall();
    if (wall < this.floor) return { ms: this.floor, tq: 'floor' };
    if (this.isSynced()) {
      this.setFloor(wall);
      return { ms: wall, tq: 'synced' };
    }
    if (this.hasRtc()) {
      this.setFloor(wall);
      return { ms: wall, tq: 'rtc' };
    }
    return { ms: wall, tq: this.floor > 0 ? 'floor' : 'unknown' };
  }

  /** The earliest time (ms) we know has passed. */
  timeFloor(): number {
    return this.floor;
  }

  /**
   * The latest time (ms) the gateway knows without taking anyone's word for it: the wall clock, or the floor plus
   * the monotonic time elapsed since the floor was set, whichever is later.
   */
  bestKnown(): number {
    return Math.max(this.wall(), this.floor + Math.max(0, this.mono() - this.floorMono));
  }

  /**
   * Offer the verified `iat` (ms) of a pass or command good for this gateway. A synced clock or an RTC takes no
   * one's word (an issuer whose clock runs fast must not push it ahead); otherwise the floor rises to the iat when
   * that lies at most MAX_FLOOR_STEP_MS beyond `bestKnown()`, and a jump beyond is refused (the caller alarms).
   */
  offerIat(ms: number): FloorOffer {
    const limitMs = this.bestKnown() + MAX_FLOOR_STEP_MS;
    if (ms > limitMs) return { outcome: 'refused', limitMs };
    const tq = this.now().tq;
    if (tq === 'synced' || tq === 'rtc' || ms <= this.floor) return { outcome: 'kept' };
    this.setFloor(ms);
    return { outcome: 'raised' };
  }

  /**
   * An operator sets the floor (CLI `portier time floor`, the signed `time-floor` command): lower or higher, 0
   * clears it. Written at once and under a new epoch, so a gateway running in another process adopts it.
   */
  setByOperator(ms: number): void {
    if (!this.store) {
      this.setFloor(ms);
      return;
    }
    this.epoch = this.store.replaceFloor(ms);
    this.setFloor(ms);
    this.persistedFloor = ms;
  }

  /** Adopt a floor an operator set from another process since we read it; true when one was adopted. */
  reload(): boolean {
    if (!this.store || this.store.floorEpoch() === this.epoch) return false;
    this.epoch = this.store.floorEpoch();
    this.setFloor(this.store.readFloor() ?? 0);
    this.persistedFloor = this.floor;
    return true;
  }

  /** Persist the floor if it moved; called periodically and at shutdown. An operator's newer setting wins. */
  persist(): void {
    if (!this.store || this.reload() || this.floor <= this.persistedFloor) return;
    if (this.store.writeFloor(this.floor, this.epoch)) this.persistedFloor = this.floor;
    else this.reload();
  }

  private setFloor(ms: number): void {
    this.floor = ms;
    this.floorMono = this.mono();
  }
}

/** ms a probe of the system's clock state stays valid: a file check per event would cost a syscall each. */
const PROBE_TTL_MS = 10_000;

function cached(probe: () => boolean): () => boolean {
  let value = false;
  let at = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - at > PROBE_TTL_MS) {
      value = probe();
      at = now;
    }
    return value;
  };
}
