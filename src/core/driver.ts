import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EventBus } from './bus.js';
import type { Clock } from './clock.js';
import type { EventType, Lane, PortierEvent } from './events.js';
import type {
  CoapLink,
  GpioBackend,
  HttpTransport,
  MqttLink,
  SerialLink,
  SerialOptions,
  UdpTransport,
} from './links.js';
import type { Metrics } from './metrics.js';
import type { SharedObjects } from './shared.js';

export type DeviceKind = 'lock' | 'reader' | 'parking' | 'weather' | 'sensor';
/** The wire a driver uses; `none` for one that only derives from other devices' events (a parking zone). */
export type TransportKind = 'gpio' | 'serial' | 'mqtt' | 'coap' | 'http' | 'none';

/** In-process signals between drivers and core services (not persisted; persisted facts are events). */
export interface GatewaySignals {
  /** Every event after it is committed to the log. */
  event: PortierEvent;
  /** A credential presented at a reader: a pass, a PIN or a card number, for the access service to decide. */
  credential: { reader: string; lock: string; kind: 'pass' | 'pin' | 'card'; value: string; at: number };
}

/** How a driver's event is recorded (a subset of the event log's append options). */
export interface EmitOptions {
  /** Keep the event in the local log only, out of the outbox (the cloud never sees it). */
  localOnly?: boolean;
  /** Override the event type's default lane. */
  lane?: Lane;
}

/** What a running driver instance can do. */
export interface DeviceDriver {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** Carry out a typed command (validated against the definition's `commands` schema first). */
  command?(name: string, args: unknown): Promise<unknown> | unknown;
}

/** Everything a driver gets: its validated config, its logger, and ways to emit, reject and reach the wires. */
export interface DriverContext<C> {
  id: string;
  config: C;
  log: Logger;
  clock: Clock;
  bus: EventBus<GatewaySignals>;
  /**
   * Record an event of this device (group-committed). `opts.localOnly` keeps it out of the outbox (raw readings
   * that the cloud gets only as aggregates); `opts.lane` overrides the type's default lane.
   */
  emit(type: EventType, data: Record<string, unknown>, opts?: EmitOptions): void;
  /** Record an event durably (synchronous=FULL) and return it committed. */
  emitNow(type: EventType, data: Record<string, unknown>): PortierEvent;
  /** Count and log one rejected input; the driver keeps running. `reason` is a short stable code. */
  reject(reason: string, detail?: Record<string, unknown>): void;
  /** Report the device up or down; emits `device.health` on each change only. */
  health(up: boolean, reason?: string): void;
  /** A serial link whose state feeds this device's health. */
  serial(opts: SerialOptions): SerialLink;
  /** The shared local MQTT link. */
  mqtt(): MqttLink;
  gpio(): GpioBackend;
  coap(): CoapLink;
  /** HTTP listeners and servers (pushed uploads, the pass reader's pages). */
  http(): HttpTransport;
  /** UDP listeners, one socket per port shared by the gateway's devices (Shelly CoIoT). */
  udp(): UdpTransport;
  /** Objects this gateway's devices share by key (a LoRaWAN router per network server). */
  shared: SharedObjects;
  metrics: Metrics;
  /**
   * State a driver keeps across restarts (a zone's bays), with the seq of the last event it reflects: saved as
   * JSON in the store, loaded at start; `history` then brings it up to date from the log.
   */
  memory: {
    load(): { value: unknown; seq: number } | undefined;
    save(value: unknown, seq: number): void;
  };
  /** Committed events of these types after `afterSeq`, oldest first (see EventLog.since). */
  history(afterSeq: number, types: readonly EventType[]): Iterable<PortierEvent>;
  /** The highest committed seq. */
  lastSeq(): number;
}

export interface DriverDefinition<S extends z.ZodType = z.ZodType> {
  /** Stable id used in config files (`driver: davis-vantage`). */
  id: string;
  kind: DeviceKind;
  transport: TransportKind;
  description: string;
  /** The driver's own settings (everything in the device entry except id, driver, name, enabled). */
  config: S;
  /** Event types this driver emits. */
  events: readonly EventType[];
  /** Commands it accepts, each with its argument schema. */
  commands?: Record<string, z.ZodType>;
  create(ctx: DriverContext<z.output<S>>): DeviceDriver;
}

/**
 * Declare a driver; a plain object, so the list in devices/index.ts reads like a catalogue (as in Zigbee2MQTT).
 * The config type is checked here, inside the definition, and erased on the way out: the host validates each
 * device's settings with `config` before `create` ever sees them, so a list of drivers needs no variance tricks.
 */
export function defineDriver<S extends z.ZodType>(def: DriverDefinition<S>): DriverDefinition {
  return def as unknown as DriverDefinition;
}
