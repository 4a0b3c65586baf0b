import { connect, type IClientOptions, type ISubscriptionMap, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { MqttLink, MqttPublishOptions } from '../core/links.js';
import { Backoff, NETWORK_BACKOFF } from './backoff.js';
import { ReconnectingLink } from './link.js';
import type { MqttLinkOptions, QoS } from './mqtt-options.js';
import { filterMatcher, validateFilter, validateTopic } from './mqtt-topic.js';

/** PUBACKs held for the event log's commit after which the log is asked to commit at once (see holdAcks). */
const ACKS_HELD_MAX = 16;

export type { MqttLinkOptions, MqttStateMessage } from './mqtt-options.js';

/**
 * The local broker as a link. mqtt.js runs with `reconnectPeriod: 0` (it has no backoff of its own); this link
 * reconnects with backoff and jitter, keeps the subscription table and subscribes it again on every connect, and
 * routes each message only to the handlers whose own filter matches. `publish()` rejects with a transient
 * TransportClosed error while offline instead of queueing in memory: the durable queue is the SQLite outbox.
 */
export function createMqttLink(opts: MqttLinkOptions, log: Logger): MqttLink {
  return new MqttBrokerLink(opts, log);
}

type Handler = (topic: string, payload: Buffer) => void;

interface Subscription {
  qos: QoS;
  handlers: Set<Handler>;
  matches: (levels: readonly string[], dollar: boolean) => boolean;
}

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);
/** ms a graceful stop may spend on the final "offline" publish and DISCONNECT */
const STOP_GRACE_MS = 2000;

class MqttBrokerLink extends ReconnectingLink implements MqttLink {
  private client: MqttClient | undefined;
  private readonly subs = new Map<string, Subscription>();
  private readonly inflight = new Set<(err: Error) => void>();
  private readonly safeUrl: string;
  private readonly maxInflight: number;
  private readonly maxBuffered: number;
  /** The socket whose writes (our PUBACKs among them) are held until the ack gate opens, if any. */
  private heldStream: MqttClient['stream'] | undefined;
  /** QoS 1/2 messages received, for the ack gate to tell whether more came in while it waited. */
  private acksOwed = 0;
  /** `acksOwed` when the gate was last asked to commit at once */
  private acksAtGate = 0;
  private keepingSubscriptions = false;

  constructor(
    private readonly opts: MqttLinkOptions,
    log: Logger,
  ) {
    const safeUrl = redactUrl(opts.url);
    super(log.child({ transport: 'mqtt', url: safeUrl }), new Backoff(opts.backoff, NETWORK_BACKOFF));
    this.safeUrl = safeUrl;
    this.maxInflight = opts.maxInflight ?? 1000;
    this.maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
    let protocol: string;
    try {
      protocol = new URL(opts.url).protocol;
    } catch {
      throw new PortierError(ErrorCode.ConfigInvalid, `MQTT url "${safeUrl}" is not a URL`);
    }
    if (!PROTOCOLS.has(protocol)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `MQTT url "${safeUrl}": unsupported scheme ${protocol}`);
    }
    if (opts.will) validateTopic(opts.will.topic);
    if (opts.onlineMessage) validateTopic(opts.onlineMessage.topic);
  }

  subscribe(filter: string, handler: Handler, opts: { qos?: QoS } = {}): () => void {
    validateFilter(filter);
    // QoS 1 unless asked otherwise: with a persistent session the broker then queues device messages published at
    // QoS 1 while we are away (and QoS 0 ones too where it is told to, mosquitto's queue_qos0_messages).
    const qos = opts.qos ?? 1;
    let sub = this.subs.get(filter);
    const fresh = !sub;
    const raised = sub !== undefined && qos > sub.qos;
    if (!sub) {
      sub = { qos, handlers: new Set(), matches: filterMatcher(filter) };
      this.subs.set(filter, sub);
    }
    sub.qos = Math.max(sub.qos, qos) as QoS;
    sub.handlers.add(handler);
    // `connected` rather than state 'up': a filter added while open() resubscribes must not wait for the next drop.
    if ((fresh || raised) && this.client?.connected) this.sendSubscribe({ [filter]: { qos: sub.qos } });
    return () => {
      const current = this.subs.get(filter);
      if (!current?.handlers.delete(handler) || current.handlers.size > 0) return;
      this.subs.delete(filter);
      const client = this.client;
      if (client?.connected && !this.keepingSubscriptions) {
        client.unsubscribeAsync(filter).catch((err: unknown) => this.log.debug({ err, filter }, 'unsubscribe failed'));
      }
    };
  }

  publish(topic: string, payload: string | Buffer, opts: MqttPublishOptions = {}): Promise<void> {
    try {
      validateTopic(topic);
    } catch (err) {
      return Promise.reject(err);
    }
    const client = this.client;
    if (this.state !== 'up' || !client) {
      return Promise.reject(
        new PortierError(ErrorCode.TransportClosed, `MQTT ${this.safeUrl} is ${this.state}`, { topic }),
      );
    }
    if (this.inflight.size >= this.maxInflight) {
      return Promise.reject(
        new PortierError(
          ErrorCode.TransportTimeout,
          `MQTT ${this.safeUrl}: ${this.inflight.size} publishes in flight`,
          {
            topic,
          },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        this.inflight.delete(fail);
        reject(err);
      };
      this.inflight.add(fail);
      client.publish(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false }, (err) => {
        if (!this.inflight.delete(fail)) return;
        if (err) reject(closedError(this.safeUrl, reasonOf(err), topic));
        else resolve();
      });
    });
  }

  keepSubscriptions(): void {
    this.keepingSubscriptions = true;
  }

  sendQos0(topic: string, payload: string | Buffer, retain: boolean): 'sent' | 'congested' | 'down' {
    validateTopic(topic);
    const client = this.client;
    if (this.state !== 'up' || !client) return 'down';
    if ((client.stream?.writableLength ?? 0) > this.maxBuffered) return 'congested';
    // No callback: mqtt.js then adds no 'drain' listener per message when the socket is behind.
    client.publish(topic, payload, { qos: 0, retain });
    return 'sent';
  }

  corked(fn: () => void): void {
    const stream = this.client?.stream;
    if (!stream || typeof stream.cork !== 'function') {
      fn();
      return;
    }
    stream.cork();
    try {
      fn();
    } finally {
      process.nextTick(() => stream.uncork());
    }
  }

  /** On a graceful stop, say "offline" ourselves: a clean DISCONNECT makes the broker discard the will. */
  override async stop(): Promise<void> {
    const client = this.client;
    if (client && this.state === 'up') {
      const will = this.opts.will;
      try {
        if (will) {
          await withTimeout(
            client.publishAsync(will.topic, will.payload, { qos: will.qos ?? 1, retain: will.retain ?? false }),
            STOP_GRACE_MS,
          );
        }
        await withTimeout(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), STOP_GRACE_MS);
      } catch (err) {
        this.log.debug({ err }, 'graceful MQTT disconnect failed');
      }
    }
    await super.stop();
  }

  protected async open(): Promise<void> {
    const client = connect(this.opts.url, this.clientOptions());
    this.client = client;
    let lastError: Error | undefined;
    // Always listen: an 'error' event without a listener would be thrown out of the event loop.
    client.on('error', (err) => {
      lastError = err;
      this.log.debug({ err: err.message }, 'mqtt error');
    });
    client.on('message', (topic, payload, packet) => {
      if (client !== this.client) return;
      // Corked before the handlers run: mqtt.js writes this message's PUBACK right after they return.
      if (packet.qos > 0 && this.opts.ackGate) this.holdAcks(client);
      const redelivered = this.opts.redelivered;
      if (packet.qos === 1 && this.opts.ackGate && redelivered && this.persistent) {
        redelivered(() => this.dispatch(topic, payload));
      } else this.dispatch(topic, payload);
    });
    const closed = new Promise<never>((_, reject) => {
      client.once('close', () => reject(closedError(this.safeUrl, lastError?.message ?? 'connection closed')));
    });
    // Stays pending while connected; only the races below and the 'close' handler care about it.
    closed.catch(() => undefined);
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', (err) => reject(closedError(this.safeUrl, err.message)));
      }),
      closed,
    ]);
    client.on('close', () => {
      if (client !== this.client) return;
      this.rejectInflight(lastError?.message ?? 'connection closed');
      this.lost(lastError ? `MQTT connection lost: ${lastError.message}` : 'MQTT connection lost');
    });
    if (this.subs.size > 0) {
      const map: ISubscriptionMap = {};
      for (const [filter, sub] of this.subs) map[filter] = { qos: sub.qos };
      const granted = await Promise.race([client.subscribeAsync(map), closed]);
      for (const g of granted) {
        if (g.qos === 128) this.log.warn({ filter: g.topic }, 'broker refused subscription');
      }
    }
    const online = this.opts.onlineMessage;
    if (online) {
      await Promise.race([
        client.publishAsync(online.topic, online.payload, { qos: online.qos ?? 1, retain: online.retain ?? false }),
        closed,
      ]);
    }
  }

  protected async release(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.rejectInflight('link released');
    if (!client) return;
    // Forced: the connection is already gone or being abandoned; waiting for acknowledgements would hang.
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  /**
   * Hold the socket's writes until the ack gate says everything recorded so far is committed. mqtt.js sends a
   * PUBACK as soon as the handlers return and only then reads the next packet, so delaying that callback would
   * commit one uplink per turn; corking the socket instead lets a whole burst be handled and group-committed, and
   * its PUBACKs leave together after the commit. Messages that arrive while the gate is awaited are covered by
   * asking again before uncorking. A kill -9 in between loses the held PUBACKs, never an acknowledged uplink.
   */
  private holdAcks(client: MqttClient): void {
    this.acksOwed++;
    const stream = client.stream;
    // A broker stops sending at its in-flight limit (mosquitto's default: 20) until it has PUBACKs: so many held
    // ends the commit window at once, or a steady stream would stall for the rest of it.
    if (this.heldStream === stream && this.acksOwed - this.acksAtGate >= ACKS_HELD_MAX) {
      this.acksAtGate = this.acksOwed;
      this.opts.ackGate!(true).catch(() => undefined);
    }
    if (!stream || this.heldStream === stream) return;
    this.heldStream = stream;
    stream.cork();
    // After this turn's handlers: one gate for the whole burst rather than one per message.
    setImmediate(() => void this.releaseAcks(stream));
  }

  private async releaseAcks(stream: NonNullable<MqttClient['stream']>): Promise<void> {
    let paused = false;
    try {
      // The first wait may last the event log's commit window, and messages keep coming meanwhile (committed with
      // it, or just after): then reading stops, and what came is committed at once, until nothing more came.
      for (let round = 0; ; round++) {
        const owed = this.acksOwed;
        this.acksAtGate = owed;
        await this.opts.ackGate!(round > 0);
        if (this.acksOwed === owed) break;
        if (!paused) {
          paused = true;
          stream.pause();
        }
      }
    } catch (err) {
      // Not on disk: the PUBACKs must never leave. Dropping the connection discards them; the broker delivers the
      // messages again once we are back.
      this.log.error(
        { err: reasonOf(err) },
        'received messages not committed; reconnecting so the broker resends them',
      );
      if (this.heldStream === stream) this.heldStream = undefined;
      stream.destroy();
      return;
    }
    if (this.heldStream === stream) this.heldStream = undefined;
    if (!stream.destroyed) {
      stream.uncork();
      if (paused) stream.resume();
    }
  }

  /** The broker keeps our session (and the QoS 1 messages not yet acknowledged) while we are away. */
  private get persistent(): boolean {
    return this.opts.sessionExpiryS !== undefined && this.opts.clientId !== undefined;
  }

  private clientOptions(): IClientOptions {
    const o = this.opts;
    const persistent = this.persistent;
    const options: IClientOptions = {
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: o.keepaliveS ?? 30,
      // A persistent session keeps our subscriptions and queues QoS 1 messages while we are away (a restart of
      // the daemon or of the broker): the uplinks sent meanwhile reach us when we are back.
      clean: !persistent,
      resubscribe: false,
      queueQoSZero: false,
      protocolVersion: o.protocolVersion ?? 4,
      // mqtt-packet's cache of all 65,536 two-byte numbers as Buffers is 6 MiB of heap (the largest single item in
      // a 20-device gateway's heap snapshot) to save a 2-byte allocation per packet id.
      writeCache: false,
    };
    if (persistent && options.protocolVersion === 5) options.properties = { sessionExpiryInterval: o.sessionExpiryS };
    if (o.clientId) options.clientId = o.clientId;
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (o.will) {
      options.will = {
        topic: o.will.topic,
        payload: Buffer.from(o.will.payload),
        qos: o.will.qos ?? 1,
        retain: o.will.retain ?? false,
      };
    }
    return options;
  }

  private sendSubscribe(map: ISubscriptionMap): void {
    const client = this.client;
    if (!client) return;
    client.subscribeAsync(map).then(
      (granted) => {
        for (const g of granted) if (g.qos === 128) this.log.warn({ filter: g.topic }, 'broker refused subscription');
      },
      // The table keeps the filter, so the next reconnect subscribes it again.
      (err: unknown) => this.log.warn({ err: reasonOf(err), filters: Object.keys(map) }, 'subscribe failed'),
    );
  }

  private dispatch(topic: string, payload: Buffer): void {
    const levels = topic.split('/');
    const dollar = topic.startsWith('$');
    for (const [filter, sub] of this.subs) {
      if (!sub.matches(levels, dollar)) continue;
      // The Set itself: a handler removed by another one while this message is dispatched is skipped.
      for (const handler of sub.handlers) {
        try {
          handler(topic, payload);
        } catch (err) {
          this.log.error({ err, topic, filter }, 'mqtt handler threw');
        }
      }
    }
  }

  private rejectInflight(reason: string): void {
    const fails = [...this.inflight];
    this.inflight.clear();
    for (const fail of fails) fail(closedError(this.safeUrl, reason));
  }
}

function closedError(url: string, reason: string, topic?: string): PortierError {
  return new PortierError(ErrorCode.TransportClosed, `MQTT ${url}: ${reason}`, topic ? { topic } : {});
}

/** The URL without user:password, for logs and error messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PortierError(ErrorCode.TransportTimeout, `no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
