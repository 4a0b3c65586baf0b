import { connect, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { reasonOf } from '../core/errors.js';
import { Backoff, NETWORK_BACKOFF } from '../transports/backoff.js';
import { buildClientOptions, type CloudConnectionConfig, checkConnectionConfig } from './connection-options.js';
import type { CloudTopics } from './topics.js';

export type CloudLinkState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

/** One established connection to the cloud broker. */
export interface CloudSession {
  client: MqttClient;
  /** MQTT protocol level in use: 5, or 4 (3.1.1) after the broker refused 5 */
  version: 4 | 5;
  /** bytes, the broker's Maximum Packet Size when it announced one (MQTT 5) */
  maxPacketSize?: number;
  /** publishes the broker accepts unacknowledged at once, when it announced it (MQTT 5 Receive Maximum) */
  receiveMaximum?: number;
  /** One more per connection: callbacks of an older connection compare it and stand down. */
  generation: number;
}

export interface CloudConnectionOptions {
  config: CloudConnectionConfig & { reconnect_min_ms: number; reconnect_max_ms: number };
  gatewayId: string;
  topics: CloudTopics;
  log: Logger;
  /** For tests of the jitter; defaults to Math.random. */
  random?: () => number;
}

/** ms a connection must hold before the reconnect delay starts again from the bottom. */
const HELD_MS = 10_000;
/** CONNACK codes meaning "not this protocol version": 1 in MQTT 3.1.1, 0x84 in MQTT 5. */
const VERSION_REFUSED = new Set([1, 0x84]);

/**
 * The cloud MQTT connection: its own mqtt.js client (never the local broker's), one client per attempt with
 * mqtt.js's reconnect turned off and our own loop instead (exponential backoff with full jitter), MQTT 5 first and
 * 3.1.1 when the broker refuses 5, the last will `offline` on `up/status` and `online` published on every connect,
 * commands subscribed on `down/+`. A state machine: it never exits, it retries until stopped.
 */
export class CloudConnection {
  private stateValue: CloudLinkState = 'idle';
  private client: MqttClient | undefined;
  private current: CloudSession | undefined;
  private generation = 0;
  private version: 4 | 5;
  private upSince = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly upListeners: Array<(s: CloudSession) => void> = [];
  private readonly downListeners: Array<(reason: string) => void> = [];
  private readonly messageListeners: Array<(topic: string, payload: Buffer) => void> = [];
  /** Why the last attempt or connection failed (TLS verification errors end up here). */
  lastError: string | undefined;
  /** Connections established since start. */
  connects = 0;
  /** Attempts that failed before the broker accepted us (refused, TLS not verified, unreachable). */
  failedAttempts = 0;

  constructor(private readonly opts: CloudConnectionOptions) {
    checkConnectionConfig(opts.config);
    this.version = opts.config.protocol_version;
    const { reconnect_min_ms: initialMs, reconnect_max_ms: maxMs } = opts.config;
    this.backoff = new Backoff({ initialMs, maxMs: Math.max(initialMs, maxMs) }, NETWORK_BACKOFF, opts.random);
  }

  get state(): CloudLinkState {
    return this.stateValue;
  }

  /** The live session, or undefined while down. */
  get session(): CloudSession | undefined {
    return this.current;
  }

  /** Protocol level the next attempt uses. */
  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  onUp(listener: (s: CloudSession) => void): void {
    this.upListeners.push(listener);
  }

  onDown(listener: (reason: string) => void): void {
    this.downListeners.push(listener);
  }

  /** Every message on the subscribed command topics. Runs synchronously before mqtt.js sends the PUBACK. */
  onMessage(listener: (topic: string, payload: Buffer) => void): void {
    this.messageListeners.push(listener);
  }

  start(): void {
    if (this.stateValue !== 'idle') return;
    this.attempt();
  }

  /** Drop the current connection (a lost acknowledgement, a refused batch) and reconnect after the backoff. */
  drop(reason: string): void {
    if (this.stateValue !== 'up' && this.stateValue !== 'connecting') return;
    this.lost(this.generation, reason);
  }

  /** Publish `offline` (the will is not sent on a clean disconnect), disconnect, and stay down. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return;
    const wasUp = this.stateValue === 'up';
    this.stateValue = 'stopped';
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    this.generation++;
    if (!client) return;
    client.removeAllListeners('close');
    client.on('error', () => {});
    if (wasUp && client.connected) {
      await withTimeout(
        new Promise<void>((resolve) => {
          client.publish(this.opts.topics.status, 'offline', { qos: 1, retain: true }, () => resolve());
        }),
        2000,
      );
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        client.end(!client.connected, {}, () => resolve());
      }),
      2000,
    );
    client.end(true);
  }

  private attempt(): void {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'connecting';
    const gen = ++this.generation;
    const version = this.version;
    let client: MqttClient;
    try {
      const options = buildClientOptions(this.opts.config, this.opts.gatewayId, this.opts.topics, version);
      client = connect(this.opts.config.url, options);
    } catch (err) {
      this.lastError = reasonOf(err);
      this.lost(gen, this.lastError);
      return;
    }
    this.client = client;
    let refusedVersion = false;
    client.on('connect', (connack: IConnackPacket) => {
      if (gen !== this.generation) return;
      this.onConnected(client, connack, version, gen);
    });
    client.on('message', (topic, payload) => {
      if (gen !== this.generation) return;
      for (const l of this.messageListeners) l(topic, payload);
    });
    client.on('error', (err: Error & { code?: number | string }) => {
      if (gen !== this.generation) return;
      if (version === 5 && typeof err.code === 'number' && VERSION_REFUSED.has(err.code)) refusedVersion = true;
      this.lastError = typeof err.code === 'string' ? `${err.code}: ${err.message}` : err.message;
    });
    client.on('close', () => {
      if (gen !== this.generation) return;
      if (refusedVersion) {
        this.opts.log.warn('cloud broker refused MQTT 5; falling back to MQTT 3.1.1');
        this.version = 4;
      }
      this.lost(gen, this.lastError ?? 'connection closed', refusedVersion);
    });
  }

  private onConnected(client: MqttClient, connack: IConnackPacket, version: 4 | 5, gen: number): void {
    const props = connack.properties;
    const session: CloudSession = { client, version, generation: gen };
    if (props?.maximumPacketSize) session.maxPacketSize = props.maximumPacketSize;
    if (props?.receiveMaximum) session.receiveMaximum = props.receiveMaximum;
    this.current = session;
    this.stateValue = 'up';
    this.upSince = Date.now();
    this.connects++;
    this.lastError = undefined;
    this.opts.log.info({ url: this.opts.config.url, mqtt: version === 5 ? '5' : '3.1.1' }, 'cloud connected');
    client.publish(this.opts.topics.status, 'online', { qos: 1, retain: true }, () => {});
    client.subscribe(this.opts.topics.downFilter, { qos: 1 }, (err) => {
      if (err && gen === this.generation) this.opts.log.warn({ err }, 'cloud command subscription failed');
    });
    for (const l of this.upListeners) l(session);
  }

  private lost(gen: number, reason: string, immediate = false): void {
    if (gen !== this.generation || this.stateValue === 'stopped') return;
    const wasUp = this.stateValue === 'up';
    if (!wasUp) this.failedAttempts++;
    this.generation++;
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    if (client) {
      client.removeAllListeners('close');
      client.on('error', () => {});
      client.end(true);
    }
    if (wasUp && Date.now() - this.upSince >= HELD_MS) this.backoff.reset();
    this.stateValue = 'down';
    const delay = immediate ? 0 : this.backoff.next();
    if (wasUp) this.opts.log.warn({ reason, retryInMs: delay }, 'cloud connection lost');
    else this.opts.log.debug({ reason, retryInMs: delay }, 'cloud connection attempt failed');
    for (const l of this.downListeners) l(reason);
    this.timer = setTimeout(() => this.attempt(), delay);
  }
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
