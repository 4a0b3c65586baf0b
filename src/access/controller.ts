import type { Logger } from 'pino';
import { Histogram } from 'prom-client';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import { reasonOf } from '../core/errors.js';
import type { PortierEvent } from '../core/events.js';
import type { Metrics } from '../core/metrics.js';
import type { Store } from '../store/store.js';
import type { TimeUnknownPolicy } from './policy.js';
import { AccessService, type Decision } from './service.js';

/** Histogram of the time from credential read to relay command, by outcome. */
export const LATENCY_METRIC = 'portier_access_decision_latency_seconds';

/** What a lock device's settings may say about access (every lock driver's schema includes these). */
export interface LockAccessSettings {
  /** Groups for `group:NAME` audiences. */
  groups?: string[];
  /** The door's rule when the gateway does not know the time. */
  time_unknown?: TimeUnknownPolicy;
  /** Digits of the lock's keypad codes (8-10). */
  pin_length?: number;
}

/** The locks as access sees them; the composition root answers from its running devices and the registry. */
export interface LockPort {
  /** False when the lock is not running, is not a lock (no `unlock` command), or reports itself down. */
  isUp(lock: string): boolean;
  /** Move the lock's relay; throws when it cannot. */
  unlock(lock: string): Promise<void>;
  /** The lock's stored settings that concern access. */
  settings(lock: string): LockAccessSettings;
}

export interface AccessControllerDeps {
  store: Store;
  bus: EventBus<GatewaySignals>;
  locks: LockPort;
  timezone: string;
  metrics: Metrics;
  /** The process's root logger. */
  log: Logger;
}

/**
 * Why a credential was not even checked: the door could not honour a grant, so deciding would only use up a
 * single-use pass or a one-time PIN for nothing. `out_of_service`: the lock is in cleaning mode or released in an
 * emergency; `occupied`: a toilet is occupied (the inside bolt is thrown); `lock_unavailable`: the lock is not
 * running, reports itself down (a USB board unplugged, a Tasmota offline), or is not a lock.
 */
export type RefusalReason = 'out_of_service' | 'occupied' | 'lock_unavailable';

/** A credential refused before deciding, recorded as a denied `access.decision` (critical lane, durable). */
export interface Refusal {
  granted: false;
  reason: RefusalReason;
  lock: string;
  credential: GatewaySignals['credential']['kind'];
  event: PortierEvent;
}

/** What a lock last said about itself, from its committed `lock.state` and `door.state` events. */
interface LockStatus {
  mode?: string;
  occupied?: boolean;
}

/**
 * Joins readers to locks: every `credential` a reader presents is decided by the AccessService (durably committed
 * before this returns), and a grant then moves the lock's relay through its `unlock` command. A credential at a lock
 * that cannot open (cleaning, emergency, occupied, down) is refused first, without counting a use. The door never
 * waits for the network: nothing here leaves the gateway.
 */
export class AccessController {
  readonly service: AccessService;
  private readonly log: Logger;
  private readonly offs: Array<() => void> = [];
  private readonly status = new Map<string, LockStatus>();
  private readonly latency: Histogram<'outcome'>;

  constructor(private readonly deps: AccessControllerDeps) {
    this.log = deps.log.child({ component: 'access' });
    this.service = new AccessService({
      store: deps.store,
      timezone: deps.timezone,
      metrics: deps.metrics,
      log: deps.log,
    });
    const registry = deps.metrics.registry;
    this.latency =
      (registry.getSingleMetric(LATENCY_METRIC) as Histogram<'outcome'> | undefined) ??
      new Histogram({
        name: LATENCY_METRIC,
        help: 'Time from a reader reading a credential to the relay command (granted) or the committed denial',
        labelNames: ['outcome'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      });
  }

  start(): void {
    this.offs.push(
      this.deps.bus.on('credential', (c) => {
        this.present(c).catch((err: unknown) => {
          // Nothing was recorded, so nothing opened (a full disk even after the reserve, an I/O error); the reader
          // goes on taking credentials.
          this.log.error(
            { lock: c.lock, credential: c.kind, err: reasonOf(err) },
            'credential not decided: the door stays shut',
          );
        });
      }),
      this.deps.bus.on('event', (e) => this.track(e)),
    );
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  /** Decide one credential at a lock and open it when granted. Returns the committed decision or refusal. */
  async present(c: GatewaySignals['credential']): Promise<Decision | Refusal> {
    const refusal = this.refusalFor(c.lock);
    if (refusal) {
      const refused = this.refuse(c, refusal);
      this.observe(c, 'denied');
      return refused;
    }
    const settings = this.deps.locks.settings(c.lock);
    const decision = this.service.decide({
      lock: c.lock,
      lockGroups: settings.groups ?? [],
      credential: { kind: c.kind, value: c.value },
      timeUnknownPolicy: settings.time_unknown ?? 'deny',
      reader: c.reader,
      ...(settings.pin_length !== undefined ? { pinLength: settings.pin_length } : {}),
    });
    if (decision.granted) await this.open(c.lock, decision);
    this.observe(c, decision.granted ? 'granted' : 'denied');
    return decision;
  }

  /** Credential read (the reader's wall-clock stamp) to now; a stamp ahead of the clock counts as 0. */
  private observe(c: GatewaySignals['credential'], outcome: 'granted' | 'denied'): void {
    this.latency.observe({ outcome }, Math.max(0, (Date.now() - c.at) / 1000));
  }

  /** Keep each lock's mode and occupancy from its own events (a toilet's cleaning mode, its inside bolt). */
  private track(e: PortierEvent): void {
    if (e.type !== 'lock.state' && e.type !== 'door.state') return;
    const s = this.status.get(e.dev) ?? {};
    if (e.type === 'lock.state' && typeof e.data.mode === 'string') s.mode = e.data.mode;
    if (e.type === 'door.state' && typeof e.data.occupied === 'boolean') s.occupied = e.data.occupied;
    this.status.set(e.dev, s);
  }

  private refusalFor(lock: string): RefusalReason | undefined {
    if (!this.deps.locks.isUp(lock)) return 'lock_unavailable';
    const s = this.status.get(lock);
    if (s?.mode !== undefined && s.mode !== 'normal') return 'out_of_service';
    if (s?.occupied === true) return 'occupied';
    return undefined;
  }

  private refuse(c: GatewaySignals['credential'], reason: RefusalReason): Refusal {
    const data: Record<string, unknown> = {
      credential: c.kind,
      granted: false,
      reason,
      lock: c.lock,
      reader: c.reader,
    };
    const mode = this.status.get(c.lock)?.mode;
    if (reason === 'out_of_service' && mode) data.mode = mode;
    const event = this.deps.store.events.recordNow({ dev: c.lock, type: 'access.decision', data });
    this.log.info({ lock: c.lock, credential: c.kind, reason }, 'access refused before deciding');
    return { granted: false, reason, lock: c.lock, credential: c.kind, event };
  }

  private async open(lock: string, decision: Decision): Promise<void> {
    try {
      await this.deps.locks.unlock(lock);
    } catch (err) {
      // The use is already counted: say so loudly, so an operator can give the holder a new pass.
      this.log.error({ lock, err: reasonOf(err) }, 'granted, but the lock did not open');
      try {
        const data: Record<string, unknown> = { alarm: 'lock_failed', lock, reason: reasonOf(err) };
        if (decision.passId !== undefined) data.pass_id = decision.passId;
        this.deps.store.events.recordNow({ dev: lock, type: 'alarm', data });
      } catch (e) {
        this.log.error({ lock, err: reasonOf(e) }, 'lock failure not recorded');
      }
    }
  }
}
