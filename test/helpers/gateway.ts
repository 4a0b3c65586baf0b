import { join } from 'node:path';
import { DRIVERS } from '../../devices/index.js';
import { Gateway, type TransportFactories } from '../../src/app/gateway.js';
import { configSchema, type DeviceEntry } from '../../src/config/schema.js';
import { DriverRegistry } from '../../src/core/driver-registry.js';
import type { PortierEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/logger.js';
import { defaultTransports } from '../../src/transports/index.js';

export interface TestGateway {
  gateway: Gateway;
  /** Every committed event, in order. */
  events: PortierEvent[];
}

/**
 * A real gateway in this process with real transports: devices given as `{id, driver, settings}` (validated by
 * each driver's schema here, as the config loader does), sim GPIO in `gpioDir`, the local broker at `brokerUrl`.
 */
export async function startTestGateway(opts: {
  dir: string;
  devices: Array<{ id: string; driver: string; settings: Record<string, unknown> }>;
  gpioDir?: string;
  brokerUrl?: string;
  /** A cloud broker: the outbox then waits for it (a closed port keeps everything queued). */
  cloudUrl?: string;
  /** More `admin` settings (host_names, metrics_open). */
  admin?: Record<string, unknown>;
  /** More `local_mqtt` settings (username, password_file). */
  localMqtt?: Record<string, unknown>;
  /** The `ngsi_ld` section of the config (serve, push). */
  ngsiLd?: Record<string, unknown>;
  /** Links other than the real ones' defaults (a benchmark's variant). */
  transports?: TransportFactories;
  /**
   * `gateway.commit_window_ms`: 0 unless given, so a test sees each event committed at the next turn (the window
   * itself is tested by test/e2e/power-cut.test.ts and measured by test/bench/write-bench.ts).
   */
  commitWindowMs?: number;
}): Promise<TestGateway> {
  const drivers = new DriverRegistry(DRIVERS);
  const devices: DeviceEntry[] = opts.devices.map((d) => ({
    id: d.id,
    driver: d.driver,
    enabled: true,
    settings: drivers.require(d.driver).config.parse(d.settings) as Record<string, unknown>,
  }));
  const gateway = new Gateway({
    // Through the schema, so every default a real config file gets is here too.
    config: configSchema.parse({
      version: 1,
      gateway: {
        id: 'test-gw',
        state_dir: join(opts.dir, 'state'),
        timezone: 'UTC',
        trust_system_clock: true,
        commit_window_ms: opts.commitWindowMs ?? 0,
      },
      log: { level: 'silent' },
      ...(opts.brokerUrl ? { local_mqtt: { url: opts.brokerUrl, base_topic: 'portier', ...opts.localMqtt } } : {}),
      ...(opts.cloudUrl ? { cloud: { url: opts.cloudUrl } } : {}),
      admin: { listen: '127.0.0.1:0', enabled: false, ...opts.admin },
      ...(opts.ngsiLd ? { ngsi_ld: opts.ngsiLd } : {}),
      gpio: opts.gpioDir ? { backend: 'sim', sim_dir: opts.gpioDir } : { backend: 'sim' },
    }),
    devices,
    drivers,
    transports: opts.transports ?? defaultTransports,
    log: silentLogger(),
  });
  const events: PortierEvent[] = [];
  gateway.bus.on('event', (e) => {
    events.push(e);
  });
  await gateway.start();
  return { gateway, events };
}
