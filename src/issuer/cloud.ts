import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { ulid } from 'ulid';
import type { Logger } from '../core/logger.js';
import type { BrokerConfig } from './config.js';

/** What the gateway answered to an `open` (docs/sync.md, Commands). */
export interface OpenAck {
  status: 'ok' | 'error';
  error?: string;
  detail?: string;
}

/** What the gateways' events say of a door: occupied, out of service, or not known. */
export type DoorState = 'free' | 'occupied' | 'out_of_service' | 'unknown';

interface Known {
  occupied?: boolean;
  mode?: string;
  up?: boolean;
}

/** Seconds a command may wait in the broker: a gateway away now must not open the door later for nobody. */
const OPEN_EXPIRY_S = 10;

/**
 * The issuer's link to the town's cloud broker: sends `open` commands to a door's gateway and awaits their
 * acknowledgement by id, and follows the gateways' events to know whether a door is free, occupied or out of service.
 */
export class IssuerCloud {
  private readonly client: MqttClient;
  private readonly waiting = new Map<string, (ack: OpenAck) => void>();
  private readonly known = new Map<string, Known>();
  private readonly gatewayUp = new Map<string, boolean>();
  private wasUp = false;

  constructor(
    private readonly cfg: BrokerConfig,
    gateways: readonly string[],
    private readonly log: Logger,
  ) {
    const opts: IClientOptions = {
      clientId: cfg.client_id,
      protocolVersion: cfg.protocol_version,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      queueQoSZero: false,
      servers: cfg.urls.map((u) => {
        const url = new URL(u);
        return {
          host: url.hostname,
          port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)),
          protocol: url.protocol.replace(':', '') as 'mqtt',
        };
      }),
    };
    if (cfg.username !== undefined) opts.username = cfg.username;
    if (cfg.password_file) opts.password = readFileSync(cfg.password_file, 'utf8').trimEnd();
    if (cfg.ca_file) opts.ca = readFileSync(cfg.ca_file, 'utf8');
    opts.rejectUnauthorized = true;
    this.client = connect(opts);
    this.client.on('connect', () => {
      this.wasUp = true;
      // An `open` is one small packet that a person is waiting for: never hold it back for Nagle's algorithm.
      (this.client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.log.info({ broker: this.client.options.host }, 'issuer: cloud broker connected');
      const topics: string[] = [];
      for (const gw of gateways) {
        const base = `${cfg.prefix}/${gw}/up`;
        topics.push(`${base}/ack`, `${base}/events`, `${base}/status`);
      }
      this.client.subscribe(topics, { qos: 1 }, (err) => {
        if (err) this.log.warn({ err: err.message }, 'issuer: subscribe failed');
      });
    });
    this.client.on('close', () => {
      for (const gw of gateways) this.gatewayUp.delete(gw);
      if (this.wasUp) this.log.warn('issuer: cloud broker away; doors get the offline ways in until it is back');
      this.wasUp = false;
    });
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'issuer: cloud broker error'));
    this.client.on('message', (topic, payload) => this.receive(topic, payload));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Resolves once connected (or after `ms` either way). */
  ready(ms: number): Promise<boolean> {
    if (this.client.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.client.off('connect', onConnect);
        resolve(v);
      };
      const onConnect = () => done(true);
      const t = setTimeout(() => done(false), ms);
      this.client.on('connect', onConnect);
    });
  }

  /**
   * Send `open` to the door's gateway and wait for its acknowledgement, up to the ack timeout. Undefined when the
   * broker is away or no answer came: the caller falls back to the offline ways in. QoS 0 and a message expiry:
   * an `open` that cannot arrive now must never arrive later, when the person has gone.
   */
  async open(gateway: string, lock: string, pass: string): Promise<OpenAck | undefined> {
    if (!this.client.connected) return undefined;
    const id = `issuer-${ulid()}`;
    const acked = new Promise<OpenAck | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, this.cfg.ack_timeout_ms);
      this.waiting.set(id, (ack) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(ack);
      });
    });
    const body = JSON.stringify({ id, cmd: 'open', lock, pass });
    this.client.publish(
      `${this.cfg.prefix}/${gateway}/down/open`,
      body,
      this.cfg.protocol_version === 5
        ? { qos: 0, properties: { messageExpiryInterval: OPEN_EXPIRY_S, contentType: 'application/json' } }
        : { qos: 0 },
      (err) => {
        if (err) this.waiting.get(id)?.({ status: 'error', error: 'not_sent' });
      },
    );
    const ack = await acked;
    return ack?.error === 'not_sent' ? undefined : ack;
  }

  /** The door's state from its gateway's latest events; unknown when its gateway is away or has said nothing. */
  state(gateway: string, lock: string): DoorState {
    if (!this.client.connected || this.gatewayUp.get(gateway) === false) return 'unknown';
    const k = this.known.get(`${gateway}/${lock}`);
    if (!k || k.up === false) return k?.up === false ? 'out_of_service' : 'unknown';
    if (k.mode !== undefined && k.mode !== 'normal') return 'out_of_service';
    if (k.occupied === true) return 'occupied';
    if (k.occupied === false) return 'free';
    return 'unknown';
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private receive(topic: string, payload: Buffer): void {
    const parts = topic.split('/');
    const kind = parts.at(-1);
    const gw = parts.at(-3);
    if (gw === undefined) return;
    let msg: unknown;
    if (kind === 'status') {
      this.gatewayUp.set(gw, payload.toString() === 'online');
      return;
    }
    try {
      msg = JSON.parse(payload.toString('utf8'));
    } catch {
      return;
    }
    if (kind === 'ack') {
      const a = msg as { id?: unknown; status?: unknown; error?: unknown; detail?: unknown };
      if (typeof a.id !== 'string') return;
      const ack: OpenAck = { status: a.status === 'ok' ? 'ok' : 'error' };
      if (typeof a.error === 'string') ack.error = a.error;
      if (typeof a.detail === 'string') ack.detail = a.detail;
      this.waiting.get(a.id)?.(ack);
    } else if (kind === 'events') {
      const events = (msg as { events?: unknown }).events;
      if (!Array.isArray(events)) return;
      for (const e of events as Array<{ dev?: unknown; type?: unknown; data?: Record<string, unknown> }>) {
        if (typeof e.dev !== 'string' || !e.data) continue;
        const key = `${gw}/${e.dev}`;
        const k = this.known.get(key) ?? {};
        if (e.type === 'door.state' && typeof e.data.occupied === 'boolean') k.occupied = e.data.occupied;
        if (e.type === 'lock.state' && typeof e.data.mode === 'string') k.mode = e.data.mode;
        if (e.type === 'device.health' && typeof e.data.up === 'boolean') k.up = e.data.up;
        this.known.set(key, k);
      }
    }
  }
}
