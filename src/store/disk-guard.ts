import { existsSync } from 'node:fs';
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { reasonOf } from '../core/errors.js';
import { type EventInput, type Lane, laneOf } from '../core/events.js';
import { createReserve, freeBytesAt, isDiskFull, releaseReserve, reserveSize } from './disk-space.js';
import type { AppendOptions, SpaceGuard } from './event-log.js';

/** How much room the state directory's file system has. */
export type DiskState = 'ok' | 'low' | 'full';

export interface DiskSettings {
  /** bytes the file system keeps free; below it events are shed by the lanes' policy and `disk_low` is raised */
  minFreeBytes: number;
  /** bytes of the reserve file kept for access decisions and alarms (0: none) */
  reserveBytes: number;
}

export interface DiskStatus {
  state: DiskState;
  /** bytes free, less what the reserve file should hold and does not */
  free_bytes: number;
  min_free_bytes: number;
  /** bytes of the reserve file on disk now */
  reserve_bytes: number;
}

/** A non-critical event the guard did not let through, with what `record` was given. */
export interface HeldEvent {
  input: EventInput;
  opts: AppendOptions;
}

/** How an event was kept off a full disk: telemetry not written, or state superseded by a later one while held. */
export type DiskShedPolicy = 'disk_full' | 'coalesced';

/** ms between statfs checks while idle */
const CHECK_MS = 1000;
/** ms; events being recorded check at most this often ("before large growth") */
const CHECK_GAP_MS = 100;
/** bytes the database needs to open on a full disk (its shared-memory index, the first WAL frames, start-up rows) */
const OPEN_NEED_BYTES = 1024 * 1024;
/** Below this share of `minFreeBytes` the disk is full; it stays full until half of `minFreeBytes` is free again. */
const FULL_SHARE = 1 / 8;
const LEAVE_FULL_SHARE = 1 / 2;

/** pages; the WAL is checkpointed this often while the disk is full */
const FULL_AUTOCHECKPOINT = 16;

const LANE_CODE: Record<Lane, number> = { critical: 0, state: 1, telemetry: 2 };
const RANK: Record<DiskState, number> = { ok: 0, low: 1, full: 2 };

/**
 * Before the database is opened: on a disk too full to open it (SQLite must create its shared-memory index), give
 * the reserve back to the file system. A gateway must start on a full disk; the reserve is written again later.
 */
export function makeRoomToOpen(stateDir: string, log: Logger): void {
  try {
    if (!existsSync(stateDir) || freeBytesAt(stateDir) >= OPEN_NEED_BYTES) return;
    const freed = releaseReserve(stateDir);
    if (freed > 0) log.error({ freedBytes: freed }, 'disk full at start: reserve released to open the database');
  } catch (err) {
    log.error({ err: reasonOf(err) }, 'could not check the free space of the state directory');
  }
}

/**
 * Watches the real free space of the state directory's file system (statfs) and keeps the doors recording when it
 * runs out:
 * - **low** (less than `minFreeBytes` free): the disk budget sheds by the lanes' written policy (it reads
 *   `headroom()`), and an `alarm` `disk_low` is recorded;
 * - **full** (less than an eighth of it, or a commit failed with SQLITE_FULL): telemetry is not written (counted as
 *   `disk_full`), state events are held in memory, the latest per device and type (the others counted as
 *   `coalesced`), and written when space returns; access decisions and alarms are still committed, into the
 *   reserve file's space when nothing else is left (`relieve`). An `alarm` `disk_full` is recorded.
 * - back to **ok**: the reserve is written again, held state is recorded, and both alarms are recorded `cleared`.
 * Counts go to `sync_shed` (the same totals as the disk budget's) once there is room to write them.
 */
export class DiskGuard implements SpaceGuard {
  private current: DiskState = 'ok';
  private free = Number.POSITIVE_INFINITY;
  private reserve = 0;
  private lastCheck = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly held = new Map<string, HeldEvent>();
  /** `lane code/policy` → events counted and not yet in sync_shed */
  private readonly unsaved = new Map<string, number>();
  private readonly alarms: Array<Record<string, unknown>> = [];
  private recordingAlarms = false;
  private alarmSink: ((data: Record<string, unknown>) => void) | undefined;
  private readonly changeListeners: Array<(state: DiskState, prev: DiskState) => void> = [];
  private readonly shedListeners: Array<(lane: Lane, policy: DiskShedPolicy, count: number) => void> = [];
  private readonly addShed: Statement<[number, string, number]>;
  /** The connection's own autocheckpoint interval (pages), restored when the disk is no longer full. */
  private normalAutocheckpoint: number | undefined;
  /** Times the reserve file was given back to make room for a commit. */
  releases = 0;

  constructor(
    private readonly db: Database,
    private readonly opts: { stateDir: string; settings: DiskSettings; log: Logger },
  ) {
    this.addShed = db.prepare(
      `INSERT INTO sync_shed (lane, policy, count) VALUES (?, ?, ?)
       ON CONFLICT(lane, policy) DO UPDATE SET count = count + excluded.count`,
    );
  }

  get state(): DiskState {
    return this.current;
  }

  status(): DiskStatus {
    return {
      state: this.current,
      free_bytes: Math.max(0, this.free),
      min_free_bytes: this.opts.settings.minFreeBytes,
      reserve_bytes: this.reserve,
    };
  }

  /** bytes free beyond `minFreeBytes` (negative when below): how much more the database may grow. */
  headroom(): number {
    this.checkIfDue();
    return this.free - this.opts.settings.minFreeBytes;
  }

  /** Where alarms go (the event log's `recordNow`); alarms raised before, or that failed, are recorded then. */
  setAlarmSink(sink: (data: Record<string, unknown>) => void): void {
    this.alarmSink = sink;
    this.recordAlarms();
  }

  onChange(listener: (state: DiskState, prev: DiskState) => void): void {
    this.changeListeners.push(listener);
  }

  /** Every event kept off the disk, by lane and policy (metrics). */
  onShed(listener: (lane: Lane, policy: DiskShedPolicy, count: number) => void): void {
    this.shedListeners.push(listener);
  }

  /** Measure now (the state holds for the start-up writes that follow) and then every second. */
  start(): void {
    this.check(false);
    this.timer ??= setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Asked by the event log before it queues an event: false when the event is not to be written now (the guard has
   * counted or held it). Critical events always pass.
   */
  admit(input: EventInput, opts: AppendOptions, lane: Lane): boolean {
    this.checkIfDue();
    if (this.current !== 'full' || lane === 'critical') return true;
    this.hold({ input, opts }, lane);
    return false;
  }

  /** Non-critical events whose commit failed on a full disk even after `relieve`: counted or held like `admit`. */
  lost(events: readonly HeldEvent[]): void {
    for (const e of events) this.hold(e, e.opts.lane ?? laneOf(e.input.type));
  }

  /**
   * A commit failed because the disk is full: stop writing anything but critical events, and for a commit that must
   * succeed (`forCritical`) give the reserve file back; then empty the WAL into the database and cut it to nothing
   * (its blocks go back to the file system), so that a retry of the commit finds room.
   */
  relieve(cause: unknown, forCritical: boolean): void {
    this.measure();
    this.move('full', reasonOf(cause));
    if (forCritical) this.releaseReserve('a commit that must succeed');
    this.truncateWal();
  }

  /** Run a write that must not stop the gateway on a full disk: relieve and retry once, then give up with a log. */
  attempt<T>(what: string, write: () => T): T | undefined {
    try {
      return write();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.relieve(err, true);
    }
    try {
      return write();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      this.opts.log.error({ what }, 'not written: the disk is full');
      return undefined;
    }
  }

  /** Held state events, oldest first, emptied (to be recorded once there is room). */
  takeHeld(): HeldEvent[] {
    const out = [...this.held.values()];
    this.held.clear();
    return out;
  }

  /**
   * Measure the free space, write the reserve when missing and possible (not at start: writing it may take a
   * second on an SD card; the first timer tick does it), and move between states.
   */
  check(writeReserve = true): DiskState {
    try {
      const { stateDir, settings, log } = this.opts;
      this.measure();
      const missing = this.reserve < settings.reserveBytes;
      if (writeReserve && missing && this.free >= settings.minFreeBytes * LEAVE_FULL_SHARE) {
        if (createReserve(stateDir, settings.reserveBytes)) {
          log.info({ reserveBytes: settings.reserveBytes }, 'disk reserve written');
          this.measure();
        }
      }
      this.move(this.stateFor(this.free));
      if (this.current === 'full') this.reclaimWal();
      else if (this.current === 'low') this.checkpoint();
      if (this.current !== 'full') this.saveCounts();
      this.recordAlarms();
    } catch (err) {
      this.opts.log.error({ err: reasonOf(err) }, 'disk space check failed');
    }
    return this.current;
  }

  private checkIfDue(): void {
    if (performance.now() - this.lastCheck >= CHECK_GAP_MS) this.check();
  }

  /** statfs, less what the reserve should hold and does not: releasing the reserve never makes the disk look freer. */
  private measure(): void {
    const { stateDir, settings } = this.opts;
    this.lastCheck = performance.now();
    this.reserve = reserveSize(stateDir);
    this.free = freeBytesAt(stateDir) - Math.max(0, settings.reserveBytes - this.reserve);
  }

  private stateFor(free: number): DiskState {
    const min = this.opts.settings.minFreeBytes;
    if (free < min * FULL_SHARE || (this.current === 'full' && free < min * LEAVE_FULL_SHARE)) return 'full';
    return free < min ? 'low' : 'ok';
  }

  private move(next: DiskState, cause?: string): void {
    const prev = this.current;
    if (prev === next) return;
    this.current = next;
    if (next === 'full' || prev === 'full') this.checkpointEvery(next === 'full' ? FULL_AUTOCHECKPOINT : undefined);
    const { log } = this.opts;
    const facts = { ...this.status(), state_dir: this.opts.stateDir };
    const { state: _state, ...alarmFacts } = facts;
    if (RANK[next] > RANK[prev]) {
      if (prev === 'ok') this.alarm({ alarm: 'disk_low', ...alarmFacts });
      if (next === 'full') {
        this.alarm({ alarm: 'disk_full', ...alarmFacts, ...(cause ? { cause } : {}) });
        log.error(facts, 'DISK FULL: only access decisions and alarms are written; telemetry is shed, state held');
      } else {
        log.warn(facts, 'disk space low: shedding telemetry and coalescing state by policy');
      }
    } else {
      if (prev === 'full') this.alarm({ alarm: 'disk_full', cleared: true, ...alarmFacts });
      if (next === 'ok') this.alarm({ alarm: 'disk_low', cleared: true, ...alarmFacts });
      log.info(facts, next === 'ok' ? 'disk space recovered' : 'disk no longer full; space still low');
    }
    for (const l of this.changeListeners) l(next, prev);
  }

  private hold(e: HeldEvent, lane: Lane): void {
    if (lane !== 'state') {
      this.count(lane, 'disk_full', 1);
      return;
    }
    const key = `${e.input.dev}\u0000${e.input.type}`;
    if (this.held.delete(key)) this.count('state', 'coalesced', 1);
    this.held.set(key, e);
  }

  private count(lane: Lane, policy: DiskShedPolicy, n: number): void {
    const key = `${LANE_CODE[lane]}/${policy}`;
    this.unsaved.set(key, (this.unsaved.get(key) ?? 0) + n);
    for (const l of this.shedListeners) l(lane, policy, n);
  }

  /** Counts into sync_shed (they survive restarts and reach the cloud in gateway.health). */
  private saveCounts(): void {
    if (this.unsaved.size === 0) return;
    try {
      this.db.transaction(() => {
        for (const [key, n] of this.unsaved) {
          const [lane, policy] = key.split('/') as [string, string];
          this.addShed.run(Number(lane), policy, n);
        }
      })();
      this.unsaved.clear();
    } catch (err) {
      if (!isDiskFull(err)) this.opts.log.error({ err: reasonOf(err) }, 'shed counts not saved');
    }
  }

  /**
   * While full, checkpoint after every few pages written on this connection (the shedding and the critical commits
   * run here): a WAL that is emptied often is reused from its start instead of growing into space the disk lacks.
   */
  private checkpointEvery(pages: number | undefined): void {
    try {
      if (pages === undefined) {
        if (this.normalAutocheckpoint !== undefined)
          this.db.pragma(`wal_autocheckpoint = ${this.normalAutocheckpoint}`);
        return;
      }
      this.normalAutocheckpoint ??= this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
      this.db.pragma(`wal_autocheckpoint = ${pages}`);
    } catch (err) {
      this.opts.log.warn({ err: reasonOf(err) }, 'could not change the WAL checkpoint interval');
    }
  }

  /** Copy the WAL into the database when nothing holds it, so the next writes reuse the WAL instead of growing it. */
  private checkpoint(): void {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A checkpoint that cannot run now runs at the next check.
    }
  }

  /**
   * On a full disk: the WAL holds blocks the disk needs, and cannot be reused while its pages wait to be copied into
   * a database file that has no room to grow (even deleting rows to shed needs WAL space: a deadlock). Empty and cut
   * it; if that fails for want of room, give the reserve back to break the deadlock (it is written again later).
   */
  private reclaimWal(): void {
    if (!this.truncateWal()) {
      this.releaseReserve('the WAL to be emptied');
      this.truncateWal();
    }
  }

  /** `wal_checkpoint(TRUNCATE)` without waiting for other connections; true when the WAL was emptied and cut. */
  private truncateWal(): boolean {
    const wait = this.db.pragma('busy_timeout', { simple: true }) as number;
    try {
      this.db.pragma('busy_timeout = 0');
      const rows = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
      return rows[0]?.busy === 0;
    } catch {
      return false;
    } finally {
      this.db.pragma(`busy_timeout = ${wait}`);
    }
  }

  private releaseReserve(forWhat: string): void {
    try {
      const freed = releaseReserve(this.opts.stateDir);
      if (freed > 0) {
        this.releases++;
        this.reserve = 0;
        this.opts.log.error({ freedBytes: freed }, `disk full: reserve released for ${forWhat}`);
      }
    } catch (err) {
      this.opts.log.error({ err: reasonOf(err) }, 'could not release the disk reserve');
    }
  }

  private alarm(data: Record<string, unknown>): void {
    this.alarms.push(data);
    this.recordAlarms();
  }

  /** Record waiting alarms in order; one that cannot be committed yet stays first in line. */
  private recordAlarms(): void {
    if (this.recordingAlarms || !this.alarmSink) return;
    this.recordingAlarms = true;
    try {
      while (this.alarms.length > 0) {
        try {
          this.alarmSink(this.alarms[0]!);
          this.alarms.shift();
        } catch (err) {
          this.opts.log.error({ err: reasonOf(err), alarm: this.alarms[0] }, 'alarm not recorded yet');
          return;
        }
      }
    } finally {
      this.recordingAlarms = false;
    }
  }
}
