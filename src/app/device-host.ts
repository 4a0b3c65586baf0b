import type { Logger } from 'pino';
import type { z } from 'zod';
import type { EventBus } from '../core/bus.js';
import type { DeviceDriver, DriverContext, DriverDefinition, GatewaySignals } from '../core/driver.js';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { EventType } from '../core/events.js';
import type { SerialLink, SerialOptions } from '../core/links.js';
import type { Metrics } from '../core/metrics.js';
import { deviceMemoryKey } from '../store/meta.js';
import type { Store } from '../store/store.js';

/** How the host reaches the wires; the gateway supplies these (shared links are created once). */
export type HostTransports = Pick<DriverContext<unknown>, 'mqtt' | 'gpio' | 'coap' | 'http' | 'udp' | 'shared'> & {
  serial(opts: SerialOptions, log: Logger): SerialLink;
};

export interface HostDeps {
  store: Store;
  bus: EventBus<GatewaySignals>;
  metrics: Metrics;
  log: Logger;
  transports: HostTransports;
}

/**
 * One running device: builds the driver's context, owns its links, tracks its health, and contains its failures so
 * that one broken device never stops the others.
 */
export class DeviceHost {
  private driver: DeviceDriver | undefined;
  private up: boolean | undefined;
  private readonly links: SerialLink[] = [];
  private readonly log: Logger;
  /** Inputs rejected since start, by reason. */
  readonly rejected = new Map<string, number>();

  constructor(
    readonly id: string,
    readonly def: DriverDefinition,
    readonly config: unknown,
    private readonly deps: HostDeps,
  ) {
    this.log = deps.log.child({ device: id, driver: def.id });
  }

  get isUp(): boolean | undefined {
    return this.up;
  }

  async start(): Promise<void> {
    try {
      this.driver = this.def.create(this.context());
      await this.driver.start();
    } catch (err) {
      this.log.error({ err }, 'device failed to start');
      this.health(false, `start failed: ${reasonOf(err)}`);
    }
  }

  async stop(): Promise<void> {
    try {
      await this.driver?.stop();
    } catch (err) {
      this.log.warn({ err }, 'device failed to stop cleanly');
    }
    await Promise.allSettled(this.links.map((l) => l.stop()));
  }

  /** Validate the arguments against the driver's command schema, then run it. */
  async command(name: string, args: unknown): Promise<unknown> {
    const schema = this.def.commands?.[name];
    if (!schema || !this.driver?.command) {
      throw new PortierError(ErrorCode.DeviceCommandFailed, `device "${this.id}" has no command "${name}"`);
    }
    const parsed = (schema as z.ZodType).safeParse(args ?? {});
    if (!parsed.success) {
      throw new PortierError(
        ErrorCode.DeviceCommandFailed,
        `${name}: ${parsed.error.issues[0]?.message ?? 'bad arguments'}`,
      );
    }
    return this.driver.command(name, parsed.data);
  }

  private context(): DriverContext<unknown> {
    const { store, bus, metrics, transports } = this.deps;
    const id = this.id;
    return {
      id,
      config: this.config,
      log: this.log,
      clock: store.clock,
      bus,
      metrics,
      emit: (type: EventType, data, opts) => store.events.record({ dev: id, type, data }, opts),
      emitNow: (type: EventType, data) => store.events.recordNow({ dev: id, type, data }),
      reject: (reason, detail) => this.reject(reason, detail),
      health: (up, reason) => this.health(up, reason),
      serial: (opts) => {
        const link = transports.serial(opts, this.log);
        link.onState((s) => {
          if (s.state === 'up') this.health(true);
          else if (s.state === 'down') {
            metrics.reconnects.inc({ device: id });
            this.health(false, s.reason ?? 'link down');
          }
        });
        this.links.push(link);
        return link;
      },
      mqtt: () => transports.mqtt(),
      gpio: () => transports.gpio(),
      coap: () => transports.coap(),
      http: () => transports.http(),
      udp: () => transports.udp(),
      shared: transports.shared,
      memory: {
        load: () => {
          const text = store.meta.get(deviceMemoryKey(id));
          if (text === undefined) return undefined;
          try {
            return JSON.parse(text) as { value: unknown; seq: number };
          } catch {
            return undefined;
          }
        },
        save: (value, seq) => store.meta.set(deviceMemoryKey(id), JSON.stringify({ value, seq })),
      },
      history: (afterSeq, types) => store.events.since(afterSeq, types),
      lastSeq: () => store.events.lastSeq(),
    };
  }

  private reject(reason: string, detail: Record<string, unknown> = {}): void {
    const count = (this.rejected.get(reason) ?? 0) + 1;
    this.rejected.set(reason, count);
    this.deps.metrics.decodeErrors.inc({ device: this.id, reason });
    this.log.warn({ ...detail, reason, count }, 'input rejected');
  }

  private health(up: boolean, reason?: string): void {
    if (this.up === up) return;
    this.up = up;
    this.deps.metrics.deviceUp.set({ device: this.id }, up ? 1 : 0);
    const data: Record<string, unknown> = { up };
    if (reason) data.reason = reason;
    this.deps.store.events.record({ dev: this.id, type: 'device.health', data });
    if (up) this.log.info('device up');
    else this.log.warn({ reason }, 'device down');
  }
}
