import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import { type PortierEvent, STATEFUL_EVENT_TYPES } from '../core/events.js';

const STATEFUL = new Set<string>(STATEFUL_EVENT_TYPES);

/** rows scanned back at start to find each source's latest state; older sources show no state until they report */
const SEED_SCAN_ROWS = 200_000;

/** Where the seed comes from: the store's `latestEvents`. */
export type SeedSource = (types: readonly string[], scanRows: number) => Promise<PortierEvent[]>;

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
 * retained `<base>/<dev>/state` is: later fields win, `available` follows device.health. Seeded from the newest
 * events in the log (found by a thread of its own after the start), then kept current from the bus, so a request never scans
 * the event log.
 */
export class DeviceStates {
  private states = new Map<string, SourceState>();
  private readonly off: () => void;
  /** Events heard while seeding, replayed over the seed when it is done. */
  private heard: PortierEvent[] | undefined = [];
  private closed = false;
  /** Resolves when the seed is in (a source that reported since start shows at once). */
  readonly seeded: Promise<void>;

  /** `after`: the seed (a scan of up to SEED_SCAN_ROWS rows) waits for it; the gateway's `background`. */
  constructor(load: SeedSource, bus: EventBus<GatewaySignals>, after: Promise<void> = Promise.resolve()) {
    this.off = bus.on('event', (e) => {
      this.heard?.push(e);
      this.apply(e);
    });
    // A log that cannot be read shows the states heard from now on.
    this.seeded = after.then(() => this.seed(load)).catch(() => {});
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
    this.closed = true;
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

  /**
   * The latest event of each (source, type) among the newest SEED_SCAN_ROWS state events, merged in seq order under
   * what was heard meanwhile. The scan runs on a thread of its own (it reads up to SEED_SCAN_ROWS rows); this thread
   * reads only the few rows it found.
   */
  private async seed(load: SeedSource): Promise<void> {
    if (this.closed) return;
    let events: PortierEvent[] = [];
    try {
      events = await load(STATEFUL_EVENT_TYPES, SEED_SCAN_ROWS);
    } finally {
      const heard = this.heard ?? [];
      this.heard = undefined;
      if (!this.closed) {
        this.states = new Map();
        for (const e of [...events, ...heard]) this.apply(e);
      }
    }
  }
}
