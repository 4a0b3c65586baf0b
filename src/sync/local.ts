import type { Logger } from 'pino';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { PortierEvent } from '../core/events.js';
import { STATEFUL_EVENT_TYPES } from '../core/events.js';
import type { MqttLink } from '../core/links.js';
import { eventJson } from '../store/event-log.js';

/** Event types whose data is the device's current state, kept retained on `<base>/<device>/state`. */
const STATEFUL = new Set<string>(STATEFUL_EVENT_TYPES);

/** The local link's own in-flight cap, set by the gateway: QoS 0 publishes are "in flight" only until written. */
export const LOCAL_LINK_MAX_INFLIGHT = 10_000;

/** Event messages waiting for a congested socket, at most; past it the oldest are skipped (and counted). */
const MAX_QUEUED = 10_000;

/** ms before trying again when the socket was congested */
const RETRY_MS = 5;

/** ms `drain` waits for a congested socket at shutdown */
const DRAIN_MS = 2000;

/**
 * Publishes every committed event on the local broker (`<base>/<dev>/event`) and keeps a retained, merged state
 * per device (`<base>/<dev>/state`) for signs, dashboards and Home Assistant. Events committed in one turn of the
 * event loop are published together in the next: each event once, and each device's state once with all of that
 * turn's changes merged, so a burst of thousands of uplinks costs one retained message per device, not per event.
 * Messages are written fire-and-forget at QoS 0 while the socket keeps up (see MqttLink.sendQos0); when it falls
 * behind, events wait in a bounded queue and states stay dirty. Local publishing is best effort: the event log is
 * the record, so a broker that is down or slow costs freshness, never data; what was skipped is counted. Every
 * retained state is sent again when the link comes back up, since a restarted broker without persistence has lost
 * them.
 */
export class LocalPublisher {
  private readonly state = new Map<string, Record<string, unknown>>();
  private queue: PortierEvent[] = [];
  /** Devices whose retained state changed and is not yet published. */
  private readonly dirty = new Set<string>();
  private scheduled = false;
  private retry: NodeJS.Timeout | undefined;
  private offState: (() => void) | undefined;
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
    this.offState = this.link().onState((change) => {
      if (change.state !== 'up') return;
      for (const dev of this.state.keys()) this.dirty.add(dev);
      this.schedule();
    });
  }

  publish(e: PortierEvent): void {
    this.queue.push(e);
    if (STATEFUL.has(e.type)) {
      // Merged in place: the record is ours alone and only serialized when sent.
      let merged = this.state.get(e.dev);
      if (!merged) {
        merged = {};
        this.state.set(e.dev, merged);
      }
      Object.assign(merged, e.data);
      merged.ts = e.ts;
      if (e.type === 'device.health') merged.available = e.data.up;
      this.dirty.add(e.dev);
    }
    this.schedule();
  }

  /** Send what is waiting (at shutdown), giving a congested socket a little time. */
  async drain(): Promise<void> {
    clearTimeout(this.retry);
    this.retry = undefined;
    const deadline = Date.now() + DRAIN_MS;
    while (this.flush() && Date.now() < deadline) await new Promise((r) => setTimeout(r, RETRY_MS));
    this.offState?.();
  }

  private schedule(): void {
    if (this.scheduled || this.retry) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.flush())
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.schedule();
        }, RETRY_MS);
    });
  }

  /** Send as much as the socket takes; true when something is left for later. */
  private flush(): boolean {
    if (this.queue.length === 0 && this.dirty.size === 0) return false;
    const link = this.link();
    if (link.state !== 'up') {
      // The retained states stay dirty: they go out when the broker is back.
      this.skipped += this.queue.length;
      this.queue = [];
      return false;
    }
    let left = false;
    const send = () => {
      left = !this.sendEvents(link) || !this.sendStates(link);
    };
    if (link.corked) link.corked(send);
    else send();
    return left;
  }

  /** Events in order; false when the socket filled up first. */
  private sendEvents(link: MqttLink): boolean {
    const excess = this.queue.length - MAX_QUEUED;
    if (excess > 0) {
      // Trimmed here, once per turn, rather than shifted off one by one as events arrive.
      this.queue.splice(0, excess);
      this.skipped += excess;
    }
    let i = 0;
    for (; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      const r = this.send(link, `${this.base}/${e.dev}/event`, eventJson(e), false);
      if (r === 'congested') break;
      if (r !== 'sent') this.skipped++;
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i);
    return this.queue.length === 0;
  }

  /** Retained state, never skipped: once per device per turn, with everything merged into it by then. */
  private sendStates(link: MqttLink): boolean {
    for (const dev of this.dirty) {
      const r = this.send(link, `${this.base}/${dev}/state`, JSON.stringify(this.state.get(dev)), true);
      if (r === 'congested') return false;
      this.dirty.delete(dev);
    }
    return true;
  }

  private send(link: MqttLink, topic: string, payload: string, retain: boolean): 'sent' | 'congested' | 'failed' {
    try {
      const r = link.sendQos0(topic, payload, retain);
      return r === 'down' ? 'failed' : r;
    } catch (err) {
      this.log.debug({ err, topic }, 'local publish refused');
      return 'failed';
    }
  }
}
