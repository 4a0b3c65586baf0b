import { existsSync } from 'node:fs';
import type { TimeQuality } from './events.js';

/** Where the time floor lives between runs (the store's meta table implements this). */
export interface FloorStore {
  readFloor(): number | undefined;
  writeFloor(ms: number): void;
}

export interface ClockOptions {
  /** Treat the system clock as synchronized (bench, CI, demo). Default: detect NTP sync. */
  trustSystemClock?: boolean;
  /** Wall clock source in ms; tests replace it. */
  wall?: () => number;
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
 * Wall time that never goes below a persisted floor. A Pi has no RTC: after a power cut its clock may start in the
 * past, so the floor (raised by NTP, an RTC, and the `iat` of every validly signed pass) is the earliest time we
 * know has passed. When the wall clock is below the floor we report the floor with quality `floor`.
 */
export class Clock {
  private floor: number;
  private persistedFloor: number;
  private readonly wall: () => number;
  private readonly isSynced: () => boolean;
  private readonly hasRtc: () => boolean;

  constructor(
    private readonly store: FloorStore | undefined,
    opts: ClockOptions = {},
  ) {
    this.wall = opts.wall ?? Date.now;
    const trust = opts.trustSystemClock === true;
    this.isSynced = opts.isSynced ?? cached(() => trust || existsSync('/run/systemd/timesync/synchronized'));
    this.hasRtc = opts.hasRtc ?? cached(() => existsSync('/dev/rtc0'));
    this.floor = store?.readFloor() ?? 0;
    this.persistedFloor = this.floor;
  }

  now(): Now {
    const wall = this.wall();
    if (wall < this.floor) return { ms: this.floor, tq: 'floor' };
    if (this.isSynced()) {
      this.floor = wall;
      return { ms: wall, tq: 'synced' };
    }
    if (this.hasRtc()) {
      this.floor = wall;
      return { ms: wall, tq: 'rtc' };
    }
    return { ms: wall, tq: this.floor > 0 ? 'floor' : 'unknown' };
  }

  /** The earliest time (ms) we know has passed. */
  timeFloor(): number {
    return this.floor;
  }

  /** Raise the floor from trusted evidence (e.g. a validly signed pass's `iat`); never lowers it. */
  raiseFloor(ms: number): void {
    if (ms > this.floor) this.floor = ms;
  }

  /** Persist the floor if it moved; called periodically and at shutdown. */
  persist(): void {
    if (this.store && this.floor > this.persistedFloor) {
      this.store.writeFloor(this.floor);
      this.persistedFloor = this.floor;
    }
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
