import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { PortierEvent } from '../core/events.js';
import type { EventQuery } from '../store/event-query.js';

/** Event types whose data is a device's current state (the same set the local broker keeps retained). */
export const STATE_TYPES = [
  'door.state',
  'lock.state',
  'parking.occupancy',
  'parking.zone',
  'weather.reading',
  'device.health',
] as const;
const STATEFUL = new Set<string>(STATE_TYPES);

/** rows scanned back at start to find each source's latest state; older sources show no state until they report */
const SEED_SCAN_ROWS = 200_000;

export interface SourceState {
  /** Merged data of the latest event of each state type, plus `available` from device.health. */
  state: Record<string, unknown>;
  /** Time of the latest state event. */
  ts: string;
  /** Event types seen, for telling zones from devices. */
  types: Set<string>;
}

/**
 * The live state of every source of state events (devices and parking zones), merged the way the local broker's
 * retained `<base>/<dev>/state` is: later fields win, `available` follows device.health. Seeded once from the
 * newest events in the log, then kept current from the bus, so a request never scans the event log.
 */
export class DeviceStates {
  private readonly states = new Map<string, SourceState>();
  private readonly off: () => void;

  constructor(events: EventQuery, bus: EventBus<GatewaySignals>) {
    this.seed(events);
    this.off = bus.on('event', (e) => this.apply(e));
  }

  get(id: string): SourceState | undefined {
    return this.states.get(id);
  }

  entries(): IterableIterator<[string, SourceState]> {
    return this.states.entries();
  }

  /** Forget a source (a removed device); its old state must not show when the id is reused. */
  forget(id: string): void {
    this.states.delete(id);
  }

  close(): void {
    this.off();
  }

  apply(e: PortierEvent): void {
    if (e.type === 'provisioning.change' && e.data.action === 'removed' && typeof e.data.device === 'string') {
      this.forget(e.data.device);
      return;
    }
    if (!STATEFUL.has(e.type)) return;
    const prev = this.states.get(e.dev);
    const state: Record<string, unknown> = { ...(prev?.state ?? {}), ...e.data };
    if (e.type === 'device.health') state.available = e.data.up;
    const types = prev?.types ?? new Set<string>();
    types.add(e.type);
    this.states.set(e.dev, { state, ts: e.ts, types });
  }

  /** The latest event of each (source, type) among the newest SEED_SCAN_ROWS state events, merged in seq order. */
  private seed(log: EventQuery): void {
    const rows = log.newestOfTypes(STATE_TYPES, SEED_SCAN_ROWS);
    const latest = new Map<string, string>();
    for (const r of rows) {
      const key = `${r.dev}\u0000${r.type}`;
      if (!latest.has(key)) latest.set(key, r.body);
    }
    const events = [...latest.values()].map((b) => JSON.parse(b) as PortierEvent).sort((a, b) => a.seq - b.seq);
    for (const e of events) this.apply(e);
  }
}
