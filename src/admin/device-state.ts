import type { Database } from 'better-sqlite3';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { PortierEvent } from '../core/events.js';

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
/** rows read per turn of the event loop while seeding (the start and the doors do not wait for the seed) */
const SEED_PAGE_ROWS = 2000;

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
 * events in the log, a page per turn after the start, then kept current from the bus, so a request never scans
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

  constructor(db: Database, bus: EventBus<GatewaySignals>) {
    this.off = bus.on('event', (e) => {
      this.heard?.push(e);
      this.apply(e);
    });
    // A log that cannot be read shows the states heard from now on.
    this.seeded = this.seed(db).catch(() => {});
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
   * what was heard meanwhile. Read a page per turn, newest first.
   */
  private async seed(db: Database): Promise<void> {
    const placeholders = STATE_TYPES.map(() => '?').join(', ');
    const page = db.prepare(
      `SELECT seq, dev, type, body FROM events WHERE seq < ? AND type IN (${placeholders}) ORDER BY seq DESC LIMIT ?`,
    );
    const latest = new Map<string, string>();
    let before = Number.MAX_SAFE_INTEGER;
    try {
      for (let scanned = 0; scanned < SEED_SCAN_ROWS && !this.closed; ) {
        const rows = page.all(before, ...STATE_TYPES, SEED_PAGE_ROWS) as Array<{
          seq: number;
          dev: string;
          type: string;
          body: string;
        }>;
        for (const r of rows) {
          const key = `${r.dev}\u0000${r.type}`;
          if (!latest.has(key)) latest.set(key, r.body);
        }
        scanned += rows.length;
        if (rows.length < SEED_PAGE_ROWS) break;
        before = rows.at(-1)!.seq;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      const heard = this.heard ?? [];
      this.heard = undefined;
      if (!this.closed) {
        const events = [...latest.values()].map((b) => JSON.parse(b) as PortierEvent).sort((a, b) => a.seq - b.seq);
        this.states = new Map();
        for (const e of [...events, ...heard]) this.apply(e);
      }
    }
  }
}
