import type { Logger } from 'pino';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { PortierEvent } from '../core/events.js';
import type { MqttLink } from '../transports/types.js';

/** Event types whose data is the device's current state, kept retained on `<base>/<device>/state`. */
const STATEFUL = new Set([
  'door.state',
  'lock.state',
  'parking.occupancy',
  'parking.zone',
  'weather.reading',
  'device.health',
]);

/**
 * Local publishes awaiting the socket, at most (below the link's own cap, see LOCAL_LINK_MAX_INFLIGHT); past it
 * event messages are skipped (and counted) and state messages wait for the next turn, never queued in memory.
 */
const MAX_INFLIGHT = 9000;

/** The local link's own in-flight cap, set by the gateway: QoS 0 publishes are "in flight" only until written. */
export const LOCAL_LINK_MAX_INFLIGHT = 10_000;

/** ms before retrying state messages held back by the in-flight cap */
const RETRY_MS = 20;

/**
 * Publishes every committed event on the local broker (`<base>/<dev>/event`) and keeps a retained, merged state
 * per device (`<base>/<dev>/state`) for signs, dashboards and Home Assistant. Events committed in one turn of the
 * event loop are published together in the next: each event once, and each device's state once with all of that
 * turn's changes merged, so a burst of thousands of uplinks costs one retained message per device, not per event.
 * Local publishing is best effort: the event log is the record, so a broker that is down or slow costs freshness,
 * never data; what was skipped is counted.
 */
export class LocalPublisher {
  private readonly state = new Map<string, Record<string, unknown>>();
  private pending: PortierEvent[] = [];
  /** Devices whose retained state changed and is not yet published. */
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private inflight = 0;
  private drained: Array<() => void> = [];
  private readonly log: Logger;
  /** Event messages skipped because the broker was down or too far behind. */
  skipped = 0;

  constructor(
    private readonly link: () => MqttLink,
    private readonly base: string,
    log: Logger,
  ) {
    this.log = log.child({ component: 'local-publisher' });
  }

  attach(bus: EventBus<GatewaySignals>): void {
    bus.on('event', (e) => this.publish(e));
  }

  publish(e: PortierEvent): void {
    this.pending.push(e);
    if (STATEFUL.has(e.type)) {
      const merged: Record<string, unknown> = { ...(this.state.get(e.dev) ?? {}), ...e.data, ts: e.ts };
      if (e.type === 'device.health') merged.available = e.data.up;
      this.state.set(e.dev, merged);
      this.dirty.add(e.dev);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Wait for publishes under way (at shutdown). */
  async drain(): Promise<void> {
    this.flush();
    if (this.inflight === 0) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 && this.dirty.size === 0) return;
    const link = this.link();
    if (link.state !== 'up') {
      // The retained states stay dirty: they go out when the broker is back (on the next event).
      this.skipped += batch.length;
      return;
    }
    if (link.corked) link.corked(() => this.sendBatch(link, batch));
    else this.sendBatch(link, batch);
  }

  private sendBatch(link: MqttLink, batch: PortierEvent[]): void {
    for (const e of batch) {
      if (this.inflight >= MAX_INFLIGHT) {
        this.skipped++;
        continue;
      }
      this.send(link, `${this.base}/${e.dev}/event`, JSON.stringify(e), false);
    }
    // Retained state is what a sign or a dashboard shows: never skipped, once per device per turn, and what the
    // in-flight cap holds back goes out on a later turn with everything merged into it by then.
    for (const dev of this.dirty) {
      if (this.inflight >= MAX_INFLIGHT) break;
      this.dirty.delete(dev);
      this.send(link, `${this.base}/${dev}/state`, JSON.stringify(this.state.get(dev)), true);
    }
    if (this.dirty.size > 0 && !this.scheduled) {
      this.scheduled = true;
      setTimeout(() => this.flush(), RETRY_MS);
    }
  }

  private send(link: MqttLink, topic: string, payload: string, retain: boolean): void {
    this.inflight++;
    link.publish(topic, payload, { qos: 0, retain }).then(
      () => this.settle(),
      (err: unknown) => {
        this.settle();
        this.log.debug({ err, topic }, 'local publish failed');
      },
    );
  }

  private settle(): void {
    if (--this.inflight === 0) for (const resolve of this.drained.splice(0)) resolve();
  }
}
