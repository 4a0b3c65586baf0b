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
 * Publishes every committed event on the local broker (`<base>/<dev>/event`) and keeps a retained, merged state
 * per device (`<base>/<dev>/state`) for signs, dashboards and Home Assistant. Local publishing is best effort: the
 * event log is the record, so a broker that is down costs nothing but freshness.
 */
export class LocalPublisher {
  private readonly state = new Map<string, Record<string, unknown>>();
  private inflight = new Set<Promise<void>>();
  private readonly log: Logger;

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
    const link = this.link();
    if (link.state !== 'up') return;
    this.track(link.publish(`${this.base}/${e.dev}/event`, JSON.stringify(e), { qos: 0 }));
    if (STATEFUL.has(e.type)) {
      const merged: Record<string, unknown> = { ...(this.state.get(e.dev) ?? {}), ...e.data, ts: e.ts };
      if (e.type === 'device.health') merged.available = e.data.up;
      this.state.set(e.dev, merged);
      this.track(link.publish(`${this.base}/${e.dev}/state`, JSON.stringify(merged), { qos: 0, retain: true }));
    }
  }

  /** Wait for publishes under way (at shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.log.debug({ err }, 'local publish failed'));
    this.inflight.add(tracked);
    void tracked.finally(() => this.inflight.delete(tracked));
  }
}
