/**
 * The state of one parking bay, whatever sensor watches it: debounce (a new state must hold before it counts),
 * hysteresis (a distance sensor leaves "occupied" only beyond threshold + band), `since` (when the current state
 * began, i.e. when it was first seen, not when the debounce accepted it), an overstay alarm (maximum parking time)
 * and a stale-sensor watch (no uplink for a configured time reports the device down).
 *
 * No I/O: the driver hands in observations and a sink; timers are the only side effect, and `stop()` clears them.
 */

/** One decoded input from a bay sensor. */
export interface BayObservation {
  /** The sensor's own verdict; absent for messages without occupancy (a heartbeat of a sensor that omits it). */
  occupied?: boolean;
  /** m, the measured distance for ultrasonic or radar sensors (used by the hysteresis). */
  distance_m?: number;
  /**
   * Other normalized fields to pass on (battery_v, temperature_c, rssi_dbm, kind, ...). The tracker takes the
   * object over and adds the bay's fields to it (a fresh object per observation; no copy on the hot path).
   */
  extra?: Record<string, unknown>;
}

export interface BayTrackerOptions {
  /** Bay name in events. */
  bay: string;
  /** Zone device id, added to each event so a zone can find bays that name it. */
  zone?: string;
  /** ms a new "occupied" must hold before it is accepted, 0-600000 */
  debounceMs: number;
  /** ms a new "free" must hold before it is accepted; defaults to debounceMs (a longer value is hysteresis in time) */
  freeDebounceMs?: number;
  /** m: with a distance, the bay becomes occupied at ≤ threshold and free only at > threshold + hysteresis */
  thresholdM?: number;
  /** m, 0-5, the width of the distance band */
  hysteresisM?: number;
  /** s, an `alarm` {alarm: 'overstay'} when a bay stays occupied longer */
  maxParkingS?: number;
  /** s, the device is reported down when no observation arrives for this long */
  staleAfterS?: number;
  /** 'change': an event per accepted state change; 'every': also one per observation that confirms the state */
  report: 'change' | 'every';
}

/** Where the tracker's results go: the driver context's emit/health and clock. */
export interface BaySink {
  emit(type: 'parking.occupancy' | 'alarm', data: Record<string, unknown>): void;
  health(up: boolean, reason?: string): void;
  /** ms since the epoch (the gateway's clock, which respects the time floor) */
  now(): number;
}

interface Pending {
  value: boolean;
  /** ms, when the candidate state was first seen */
  firstAt: number;
  timer: NodeJS.Timeout | undefined;
  extra: Record<string, unknown>;
}

export class BayTracker {
  private committed: boolean | undefined;
  private sinceMs = 0;
  /** `sinceMs` as ISO text, made once per change rather than once per event */
  private sinceIso: string | undefined;
  private pending: Pending | undefined;
  private overstayTimer: NodeJS.Timeout | undefined;
  /** ISO `since` of the occupancy that overstayed, until it ends. */
  private overstayedSince: string | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly opts: BayTrackerOptions,
    private readonly sink: BaySink,
  ) {}

  /** The accepted state: undefined until the first observation. */
  get occupied(): boolean | undefined {
    return this.committed;
  }

  /** ISO time the accepted state began. */
  get since(): string | undefined {
    return this.sinceIso;
  }

  /** Arm the stale watch from now (a sensor that never speaks is stale too). */
  start(): void {
    this.stopped = false;
    this.armStale();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.staleTimer);
    clearTimeout(this.overstayTimer);
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  /** One input from the sensor: refreshes the stale watch, then debounces and commits a state change. */
  observe(obs: BayObservation): void {
    if (this.stopped) return;
    this.sink.health(true);
    this.armStale();
    const raw = this.classify(obs);
    if (raw === undefined) return;
    const extra = obs.extra ?? {};
    if (obs.distance_m !== undefined) extra.distance_m = obs.distance_m;
    if (this.committed === undefined) {
      // Nothing to debounce against: the first report is the best knowledge there is.
      this.commit(raw, this.sink.now(), extra);
      return;
    }
    if (raw === this.committed) {
      this.cancelPending();
      if (this.opts.report === 'every') this.emitState(extra);
      return;
    }
    const delay = raw ? this.opts.debounceMs : (this.opts.freeDebounceMs ?? this.opts.debounceMs);
    if (this.pending?.value === raw) {
      this.pending.extra = extra;
      return;
    }
    this.cancelPending();
    const now = this.sink.now();
    if (delay <= 0) {
      this.commit(raw, now, extra);
      return;
    }
    const pending: Pending = { value: raw, firstAt: now, timer: undefined, extra };
    pending.timer = setTimeout(() => {
      if (this.pending !== pending || this.stopped) return;
      this.pending = undefined;
      this.commit(pending.value, pending.firstAt, pending.extra);
    }, delay);
    this.pending = pending;
  }

  /** The sensor's verdict, adjusted by the distance band when the bay is occupied now. */
  private classify(obs: BayObservation): boolean | undefined {
    const { thresholdM, hysteresisM } = this.opts;
    const d = obs.distance_m;
    if (d !== undefined && thresholdM !== undefined) {
      if (this.committed === true && hysteresisM) return d <= thresholdM + hysteresisM;
      return d <= thresholdM;
    }
    return obs.occupied;
  }

  private cancelPending(): void {
    if (!this.pending) return;
    clearTimeout(this.pending.timer);
    this.pending = undefined;
  }

  private commit(value: boolean, sinceMs: number, extra: Record<string, unknown>): void {
    const changed = value !== this.committed;
    this.committed = value;
    if (changed) {
      this.sinceMs = sinceMs;
      this.sinceIso = new Date(sinceMs).toISOString();
    }
    this.emitState(extra);
    if (changed) this.armOverstay();
  }

  private emitState(data: Record<string, unknown>): void {
    data.bay = this.opts.bay;
    data.occupied = this.committed;
    data.since = this.sinceIso;
    if (this.opts.zone) data.zone = this.opts.zone;
    this.sink.emit('parking.occupancy', data);
  }

  private armOverstay(): void {
    clearTimeout(this.overstayTimer);
    this.overstayTimer = undefined;
    const max = this.opts.maxParkingS;
    if (this.overstayedSince !== undefined && !this.committed) {
      this.sink.emit('alarm', { ...this.alarmBase(this.overstayedSince), cleared: true });
      this.overstayedSince = undefined;
    }
    if (!this.committed || max === undefined) return;
    const due = this.sinceMs + max * 1000 - this.sink.now();
    this.overstayTimer = setTimeout(
      () => {
        this.overstayTimer = undefined;
        if (this.stopped || !this.committed) return;
        this.overstayedSince = this.since;
        this.sink.emit('alarm', this.alarmBase(this.overstayedSince));
      },
      Math.max(0, due),
    );
  }

  private alarmBase(since: string | undefined): Record<string, unknown> {
    const data: Record<string, unknown> = {
      alarm: 'overstay',
      bay: this.opts.bay,
      since,
      max_parking_s: this.opts.maxParkingS,
    };
    if (this.opts.zone) data.zone = this.opts.zone;
    return data;
  }

  private armStale(): void {
    const s = this.opts.staleAfterS;
    if (s === undefined) return;
    if (this.staleTimer) {
      this.staleTimer.refresh();
      return;
    }
    this.staleTimer = setTimeout(() => {
      this.staleTimer = undefined;
      if (!this.stopped) this.sink.health(false, `stale: no uplink for ${s} s`);
    }, s * 1000);
  }
}
