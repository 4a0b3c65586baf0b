import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { CoapLink, GpioBackend, HttpTransport, MqttLink, SerialLink, SerialOptions } from '../core/links.js';
import { LOCAL_LINK_MAX_INFLIGHT } from '../sync/local.js';
import { createHttpListener } from '../transports/http.js';
import { serveHttp } from '../transports/http-server.js';
import { UdpListeners } from '../transports/udp.js';

/** Constructors of the real links; tests and the demo may pass their own. */
export interface TransportFactories {
  serial(opts: SerialOptions, log: Logger): SerialLink;
  mqtt(
    opts: {
      url: string;
      clientId?: string;
      will?: { topic: string; payload: string; retain?: boolean };
      onlineMessage?: { topic: string; payload: string; retain?: boolean };
      /** publishes awaiting the socket before publish() refuses */
      maxInflight?: number;
      username?: string;
      password?: string;
      /** s the broker keeps the session while we are away; absent = clean session */
      sessionExpiryS?: number;
      /** resolves once what the handlers recorded is committed; QoS 1 PUBACKs wait for it */
      ackGate?: (now?: boolean) => Promise<void>;
      /** runs a QoS 1 message's handlers whose PUBACK waits: what they record needs no crash journal */
      redelivered?: (handlers: () => void) => void;
    },
    log: Logger,
  ): MqttLink;
  gpio(opts: { backend: 'auto' | 'onoff' | 'sim'; simDir?: string }, log: Logger): GpioBackend;
  coap(log: Logger): CoapLink;
}

/**
 * The links a gateway's devices share (the local MQTT client, the GPIO backend, CoAP, UDP sockets, HTTP), each made
 * on first use, and closed together at the stop.
 */
export class GatewayLinks {
  private mqttLink: MqttLink | undefined;
  private gpioBackend: GpioBackend | undefined;
  private coapLink: CoapLink | undefined;
  private udpListeners: UdpListeners | undefined;
  /** Set once the devices have registered their subscriptions: the local link connects only then. */
  private devicesStarted = false;

  constructor(
    private readonly config: GatewayConfig,
    private readonly transports: TransportFactories,
    private readonly log: Logger,
    /** Resolves once what the handlers recorded is committed (the store's `whenCommitted`). */
    private readonly whenCommitted: (now?: boolean) => Promise<void>,
    /** Runs a QoS 1 message's handlers whose PUBACK waits (the event log's `redelivered`: no crash journal). */
    private readonly redelivered?: (handlers: () => void) => void,
  ) {}

  /**
   * A persistent session delivers what the broker queued for us right after CONNACK: the local link connects only
   * once every device's handler is in the subscription table, or those uplinks would be acknowledged unhandled.
   */
  devicesReady(): void {
    this.devicesStarted = true;
    this.mqttLink?.start();
  }

  /** The drivers are about to remove their handlers: the broker keeps queueing their topics for our return. */
  keepSubscriptions(): void {
    this.mqttLink?.keepSubscriptions();
  }

  async stop(): Promise<void> {
    await this.mqttLink?.stop();
    this.gpioBackend?.close();
    this.coapLink?.close();
    this.udpListeners?.close();
  }

  /** The shared local MQTT link, created on first use. */
  mqtt(): MqttLink {
    if (!this.mqttLink) {
      const local = this.config.local_mqtt;
      if (!local)
        throw new PortierError(ErrorCode.ConfigInvalid, 'a device needs MQTT but local_mqtt is not configured');
      const state = `${local.base_topic}/bridge/state`;
      const opts: Parameters<TransportFactories['mqtt']>[0] = {
        url: local.url,
        // Not `portier-<gw>`: that is the cloud client's id, and one broker may serve both in a small town.
        clientId: local.client_id ?? `portier-${this.config.gateway.id}-local`,
        will: { topic: state, payload: 'offline', retain: true },
        onlineMessage: { topic: state, payload: 'online', retain: true },
        maxInflight: LOCAL_LINK_MAX_INFLIGHT,
        ackGate: this.whenCommitted,
      };
      if (this.redelivered) opts.redelivered = this.redelivered;
      if (local.username !== undefined) opts.username = local.username;
      if (local.password_file !== undefined) opts.password = readLocalPassword(local.password_file);
      if (local.session_expiry_s > 0) opts.sessionExpiryS = local.session_expiry_s;
      this.mqttLink = this.transports.mqtt(opts, this.log.child({ component: 'local-mqtt' }));
      if (this.devicesStarted) this.mqttLink.start();
    }
    return this.mqttLink;
  }

  gpio(): GpioBackend {
    if (!this.gpioBackend) {
      const g = this.config.gpio;
      const opts: Parameters<TransportFactories['gpio']>[0] = { backend: g.backend };
      if (g.sim_dir) opts.simDir = g.sim_dir;
      this.gpioBackend = this.transports.gpio(opts, this.log.child({ component: 'gpio' }));
    }
    return this.gpioBackend;
  }

  /** HTTP for devices: the transports' listener and server (each device owns what it opens). */
  http(): HttpTransport {
    const log = this.log.child({ component: 'http' });
    return { listen: (opts) => createHttpListener(opts, log), serve: serveHttp };
  }

  /** The gateway's UDP sockets, shared per port by its devices, created on first use. */
  udp(): UdpListeners {
    this.udpListeners ??= new UdpListeners(this.log.child({ component: 'udp' }));
    return this.udpListeners;
  }

  coap(): CoapLink {
    this.coapLink ??= this.transports.coap(this.log.child({ component: 'coap' }));
    return this.coapLink;
  }
}

/** The local broker password from its file (trailing newline dropped); a missing file is a config error. */
function readLocalPassword(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd();
  } catch (err) {
    throw new PortierError(
      ErrorCode.ConfigInvalid,
      `local_mqtt.password_file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
