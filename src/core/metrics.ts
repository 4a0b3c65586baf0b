import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { portierVersion } from './package-root.js';

/**
 * The gateway's Prometheus metrics, on a registry of its own (no module singleton: two gateways in one test
 * process must not share counters).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly events = new Counter({
    name: 'portier_events_total',
    help: 'Events committed to the event log, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly decodeErrors = new Counter({
    name: 'portier_decode_errors_total',
    help: 'Inputs rejected by a driver, by device and reason',
    labelNames: ['device', 'reason'] as const,
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'portier_transport_reconnects_total',
    help: 'Times a transport link went down and was reopened, by device',
    labelNames: ['device'] as const,
    registers: [this.registry],
  });
  readonly deviceUp = new Gauge({
    name: 'portier_device_up',
    help: '1 when the device is up, 0 when down',
    labelNames: ['device'] as const,
    registers: [this.registry],
  });

  /**
   * `defaults`: Node's process metrics under their standard names (`process_*`, `nodejs_*`, no prefix, so stock
   * Node.js dashboards work) and `portier_build_info`.
   */
  constructor(opts: { defaults?: boolean } = {}) {
    if (!opts.defaults) return;
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'portier_build_info',
      help: 'Always 1; the labels say which Portier and which Node.js run',
      labelNames: ['version', 'nodejs_version'] as const,
      registers: [this.registry],
    }).set({ version: portierVersion(), nodejs_version: process.version }, 1);
  }

  /** Current value of a labelled counter (for tests, health reports and the CLI). */
  async valueOf(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
    const { values } = await counter.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
