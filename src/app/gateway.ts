import type { Logger } from 'pino';
import { AccessController, type LockAccessSettings, type LockPort } from '../access/controller.js';
import type { DeviceEntry, GatewayConfig } from '../config/schema.js';
import { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { DriverRegistry } from '../core/driver-registry.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { MqttLink } from '../core/links.js';
import { Metrics } from '../core/metrics.js';
import { SharedObjects } from '../core/shared.js';
import { watchCommitWindow } from '../store/commit-window-metrics.js';
import { crashJournalDir } from '../store/crash-journal.js';
import { checkIntegrity, quarantineAtNextStart } from '../store/database.js';
import { watchDisk } from '../store/disk-metrics.js';
import { WRITER_START_ROWS_PER_S } from '../store/event-writer.js';
import type { Store } from '../store/store.js';
import { openStore } from '../store/store.js';
import { recordFloorAudits } from '../store/time-floor.js';
import { BridgeApi } from '../sync/bridge-api.js';
import { LocalPublisher } from '../sync/local.js';
import { CloudSync } from '../sync/service.js';
import { DeviceHost } from './device-host.js';
import { GatewayCommandHandlers } from './gateway-commands.js';
import { GatewayLinks, type TransportFactories } from './gateway-links.js';
import { Provisioning } from './provisioning.js';

export type { TransportFactories } from './gateway-links.js';

export interface GatewayOptions {
  config: GatewayConfig;
  devices: DeviceEntry[];
  drivers: DriverRegistry;
  transports: TransportFactories;
  log: Logger;
}

/** ms between persisting the time floor, 60 s */
const FLOOR_PERSIST_MS = 60_000;

/**
 * The gateway: opens the store, provisions the config's devices into the registry, starts one host per device,
 * publishes committed events locally, and stops everything in order. One per process; everything it uses is in
 * its fields, nothing in module state.
 */
export class Gateway {
  readonly bus: EventBus<GatewaySignals>;
  readonly metrics = new Metrics({ defaults: true });
  store!: Store;
  readonly hosts = new Map<string, DeviceHost>();
  readonly provisioning: Provisioning;
  /** The links the devices share, each made on first use. */
  readonly links: GatewayLinks;
  /** What this gateway's devices share by key (a LoRaWAN router per network server). */
  readonly shared = new SharedObjects();
  private publisher: LocalPublisher | undefined;
  private bridge: BridgeApi | undefined;
  /** The cloud uplink and downlink, when `cloud` is configured. */
  cloud: CloudSync | undefined;
  private floorTimer: NodeJS.Timeout | undefined;
  readonly log: Logger;
  /** The process's root logger, for services that make their own children. */
  readonly rootLog: Logger;
  /** Readers to locks; created at start (it needs the store). */
  access!: AccessController;
  private stopping = false;
  private releaseBackground: () => void = () => {};
  /**
   * Resolves when the work that reads the whole backlog may begin (counting the outbox, seeding the dashboard's
   * states): after READY in the daemon, at the end of `start` otherwise. The doors never wait for it.
   */
  readonly background = new Promise<void>((resolve) => {
    this.releaseBackground = resolve;
  });

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.log.child({ component: 'gateway' });
    this.rootLog = opts.log;
    this.bus = new EventBus(this.log);
    this.links = new GatewayLinks(
      opts.config,
      opts.transports,
      opts.log,
      (now) => this.store.events.whenCommitted(now),
      (handlers) => this.store.events.redelivered(handlers),
    );
    this.provisioning = new Provisioning({
      gatewayId: opts.config.gateway.id,
      drivers: opts.drivers,
      store: () => this.store,
      startDevice: (id, driverId, stored) => this.startDevice(id, driverId, stored),
      stopDevice: (id) => this.stopDevice(id),
    });
  }

  get drivers(): DriverRegistry {
    return this.opts.drivers;
  }

  get config(): GatewayConfig {
    return this.opts.config;
  }

  get id(): string {
    return this.opts.config.gateway.id;
  }

  /** `holdBackground`: the caller calls `startBackground` itself, once the gateway is announced ready. */
  async start(opts: { holdBackground?: boolean } = {}): Promise<void> {
    const { config } = this.opts;
    this.store = openStore({
      stateDir: config.gateway.state_dir,
      gatewayId: config.gateway.id,
      log: this.log,
      clock: { trustSystemClock: config.gateway.trust_system_clock },
      // Started by a burst of uplinks only (event-writer.ts, WRITER_START_ROWS_PER_S).
      writerThread: WRITER_START_ROWS_PER_S,
      commitWindowMs: config.gateway.commit_window_ms,
      crashJournalDir: crashJournalDir(config.gateway.crash_journal_dir, config.gateway.state_dir),
      disk: { minFreeBytes: config.gateway.disk_min_free_bytes, reserveBytes: config.gateway.disk_reserve_bytes },
    });
    if (this.store.disk) watchDisk(this.store.disk, this.metrics.registry);
    watchCommitWindow(this.store.events, this.store.journal, this.metrics.registry);
    this.store.events.onCommitted((events) => {
      // Counted once per type and commit: a label lookup per event costs more than the counting.
      const byType = new Map<string, number>();
      for (const e of events) {
        byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
        this.bus.emit('event', e);
      }
      for (const [type, n] of byType) this.metrics.events.inc({ type }, n);
    });
    if (this.store.quarantinedTo) {
      this.store.events.record({
        dev: this.id,
        type: 'alarm',
        data: {
          alarm: 'database_quarantined',
          quarantined_to: this.store.quarantinedTo,
          ...(this.store.epochStarted ? { epoch: this.store.epochStarted } : {}),
        },
      });
    }
    const epoch = this.store.epochStarted;
    // A brand-new log needs no word (its first event is seq 1 of an epoch nobody has seen); a quarantine has its own.
    const silent =
      epoch?.reason === 'database_quarantined' || (epoch?.reason === 'new_database' && epoch.first_seq === 1);
    if (epoch && !silent) {
      this.log.warn(epoch, 'new log epoch: seqs continue, under a new epoch id');
      this.store.events.record({ dev: this.id, type: 'alarm', data: { alarm: 'log_epoch_started', ...epoch } });
    }
    this.access = new AccessController({
      store: this.store,
      bus: this.bus,
      locks: this.lockPort(),
      timezone: config.gateway.timezone,
      metrics: this.metrics,
      log: this.rootLog,
    });
    this.access.start();
    if (config.cloud) {
      this.cloud = new CloudSync({
        config: config.cloud,
        gatewayId: this.id,
        store: this.store,
        log: this.rootLog,
        registry: this.metrics.registry,
        handlers: new GatewayCommandHandlers(this),
      });
    }
    const declared = this.opts.devices.map((d) => ({ id: d.id, driver: d.driver, config: deviceConfig(d) }));
    // On a full disk the registry keeps what it had: the devices still start from it.
    this.write('device registry', () => this.store.devices.syncFromConfig(declared));

    if (config.local_mqtt) {
      this.publisher = new LocalPublisher(() => this.links.mqtt(), config.local_mqtt.base_topic, this.log);
      this.publisher.attach(this.bus);
      this.bridge = new BridgeApi(
        {
          gatewayId: this.id,
          store: this.store,
          devices: this.hosts,
          link: () => this.links.mqtt(),
          healthy: () => this.healthy(),
          log: this.rootLog,
          registry: this.metrics.registry,
        },
        config.local_mqtt.base_topic,
      );
      this.bridge.start();
    }
    for (const rec of this.store.devices.list()) {
      if (rec.config.enabled === false) continue;
      try {
        await this.startDevice(rec.id, rec.driver, rec.config);
      } catch (err) {
        // A stored device this version cannot run (driver gone, schema changed) must not keep the others down.
        this.log.error({ err, device: rec.id }, 'device not started');
      }
    }
    this.links.devicesReady();
    if (!opts.holdBackground) this.startBackground();
    this.write('time floor audit', () => recordFloorAudits(this.store, this.id));
    this.floorTimer = setInterval(
      () =>
        this.write('time floor', () => {
          this.store.clock.persist();
          recordFloorAudits(this.store, this.id);
        }),
      FLOOR_PERSIST_MS,
    );
    this.floorTimer.unref();
    this.log.info({ gateway: this.id, devices: this.hosts.size, stateDir: config.gateway.state_dir }, 'gateway ready');
  }

  /** Begin what may read the whole backlog: the cloud sync (its outbox count first), the dashboard's seed. */
  startBackground(): void {
    this.releaseBackground();
    this.cloud?.start();
  }

  /**
   * The full integrity check of the database, run after the start on a thread of its own (it reads the whole file,
   * which grows with the backlog). A fault is alarmed, logged at error level, and quarantines the database at the
   * next start (docs/architecture.md, Storage): the running gateway keeps its keys and goes on deciding and
   * recording, rather than restarting into a fresh database that would refuse every pass until keys are imported.
   */
  async checkIntegrity(): Promise<string | undefined> {
    const stateDir = this.opts.config.gateway.state_dir;
    let problem: string | undefined;
    try {
      problem = await checkIntegrity(stateDir);
    } catch (err) {
      const message = (err as Error).message;
      if (!/malformed|not a database|corrupt/i.test(message)) {
        this.log.warn({ err }, 'integrity check could not run');
        return undefined;
      }
      problem = message;
    }
    if (!problem) {
      this.log.info('integrity check passed');
      return undefined;
    }
    quarantineAtNextStart(stateDir, problem);
    this.log.error(
      { problem },
      'DATABASE FAILED ITS INTEGRITY CHECK: it will be moved aside (kept) at the next start; restart when convenient',
    );
    if (!this.stopping) {
      try {
        this.store.events.record({
          dev: this.id,
          type: 'alarm',
          data: { alarm: 'database_integrity_failed', problem, action: 'quarantine_at_next_start' },
        });
      } catch (err) {
        this.log.error({ err }, 'could not record the integrity alarm');
      }
    }
    return problem;
  }

  /** A write the gateway can live without for a while: on a full disk it is retried once and then logged. */
  write(what: string, fn: () => void): void {
    if (this.store.disk) this.store.disk.attempt(what, fn);
    else fn();
  }

  /** Start a device from its registry record (config holds the driver settings plus name/enabled). */
  async startDevice(id: string, driverId: string, stored: Record<string, unknown>): Promise<DeviceHost> {
    const def = this.opts.drivers.require(driverId);
    const { name: _name, enabled: _enabled, ...settings } = stored;
    const parsed = def.config.safeParse(settings);
    if (!parsed.success) {
      throw new PortierError(ErrorCode.DeviceConfigInvalid, `device "${id}": ${parsed.error.issues[0]?.message}`);
    }
    const host = new DeviceHost(id, def, parsed.data, {
      store: this.store,
      bus: this.bus,
      metrics: this.metrics,
      log: this.opts.log,
      transports: {
        serial: (o, log) => this.opts.transports.serial(o, log),
        mqtt: () => this.links.mqtt(),
        gpio: () => this.links.gpio(),
        coap: () => this.links.coap(),
        http: () => this.links.http(),
        udp: () => this.links.udp(),
        shared: this.shared,
      },
    });
    this.hosts.set(id, host);
    await host.start();
    return host;
  }

  async stopDevice(id: string): Promise<void> {
    const host = this.hosts.get(id);
    if (!host) return;
    this.hosts.delete(id);
    await host.stop();
  }

  /** The running locks, as the access controller reaches them. */
  private lockPort(): LockPort {
    return {
      isUp: (lock) => {
        const host = this.hosts.get(lock);
        return host !== undefined && host.isUp !== false && host.def.commands?.unlock !== undefined;
      },
      unlock: async (lock) => {
        const host = this.hosts.get(lock);
        if (!host) throw new Error('the lock is not running');
        await host.command('unlock', {});
      },
      settings: (lock) => (this.store.devices.get(lock)?.config ?? {}) as LockAccessSettings,
    };
  }

  /** The shared local MQTT link (the admin API's status, Home Assistant discovery), created on first use. */
  mqtt(): MqttLink {
    return this.links.mqtt();
  }

  /** True while the store answers; the systemd watchdog pings only then. */
  healthy(): { healthy: boolean; reason?: string } {
    try {
      this.store.ping();
      return { healthy: true };
    } catch (err) {
      return { healthy: false, reason: `store: ${(err as Error).message}` };
    }
  }

  /** Stop drivers, flush the log, close links and the database. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.floorTimer);
    this.links.keepSubscriptions();
    this.access?.stop();
    this.bridge?.stop();
    await Promise.allSettled([...this.hosts.values()].map((h) => h.stop()));
    this.hosts.clear();
    this.store?.events.flush();
    await this.cloud?.stop();
    await this.publisher?.drain();
    await this.links.stop();
    this.store?.close();
    this.log.info('gateway stopped');
  }
}

function deviceConfig(d: DeviceEntry): Record<string, unknown> {
  const out: Record<string, unknown> = { ...d.settings, enabled: d.enabled };
  if (d.name !== undefined) out.name = d.name;
  return out;
}
