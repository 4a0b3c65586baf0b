import { Counter, Gauge } from 'prom-client';
import { LANE_NAMES, type OutboxBacklog, type OutboxQuery } from '../store/outbox-query.js';
import type { OperatedGateway } from './operated-gateway.js';

/** Name of the decisions counter; AccessService registers the same one when given the gateway's metrics. */
export const DECISIONS_METRIC = 'portier_access_decisions_total';

/** ms an outbox read is reused within one scrape */
const SNAPSHOT_MS = 250;

/**
 * The operator metrics that the core does not keep itself, on the gateway's own registry:
 * - access decisions by lock and reason, counted from committed `access.decision` events on the bus (so every
 *   producer is counted, and only decisions that were durably recorded);
 * - outbox backlog and oldest age per lane, read from SQLite on each scrape;
 * (event-loop delay is Node's default `nodejs_eventloop_lag_*`, registered with the gateway's metrics);
 * - device up, re-read from the running hosts on each scrape so removed devices disappear;
 * - admin API errors by status and reason.
 */
export class MetricsCollector {
  readonly adminErrors: Counter<'status' | 'code'>;
  private readonly decisions: Counter<'lock' | 'reason'>;
  /** True when the AccessService counts its own decisions; then only operator openings are counted here. */
  private readonly serviceCounts: boolean;
  private readonly off: () => void;

  constructor(
    private readonly gateway: Pick<OperatedGateway, 'metrics' | 'bus' | 'hosts'>,
    outbox: OutboxQuery,
  ) {
    const registry = gateway.metrics.registry;
    const existing = registry.getSingleMetric(DECISIONS_METRIC) as Counter<'lock' | 'reason'> | undefined;
    // The gateway's AccessService counts each decision it makes on this same counter; counting its events here too
    // would double them. Openings by an operator (test pulse, emergency release, Home Assistant) it never sees.
    this.serviceCounts = existing !== undefined;
    this.decisions =
      existing ??
      new Counter({
        name: DECISIONS_METRIC,
        help: 'Access decisions committed to the event log, by lock and reason (ok = granted)',
        labelNames: ['lock', 'reason'] as const,
        registers: [registry],
      });
    this.off = gateway.bus.on('event', (e) => {
      if (e.type !== 'access.decision') return;
      if (this.serviceCounts && e.data.credential !== 'operator') return;
      const reason = typeof e.data.reason === 'string' ? e.data.reason : 'unknown';
      const lock = typeof e.data.lock === 'string' ? e.data.lock : e.dev;
      this.decisions.inc({ lock, reason });
    });

    // One outbox read serves both gauges of a scrape.
    let snap: { at: number; b: OutboxBacklog } | undefined;
    const snapshot = (): OutboxBacklog => {
      const now = Date.now();
      if (!snap || now - snap.at > SNAPSHOT_MS) snap = { at: now, b: outbox.read(now) };
      return snap.b;
    };
    new Gauge({
      name: 'portier_outbox_backlog_events',
      help: 'Events waiting for the cloud acknowledgement, by lane',
      labelNames: ['lane'] as const,
      registers: [registry],
      collect() {
        const b = snapshot();
        for (const lane of LANE_NAMES) this.set({ lane }, b.lanes[lane].count);
      },
    });
    new Gauge({
      name: 'portier_outbox_oldest_age_seconds',
      help: 'Age of the oldest event waiting for the cloud, by lane (0 when none waits)',
      labelNames: ['lane'] as const,
      registers: [registry],
      collect() {
        const b = snapshot();
        for (const lane of LANE_NAMES) this.set({ lane }, b.lanes[lane].oldest_age_s ?? 0);
      },
    });

    this.adminErrors = new Counter({
      name: 'portier_admin_errors_total',
      help: 'Admin API requests refused or failed, by HTTP status and reason code',
      labelNames: ['status', 'code'] as const,
      registers: [registry],
    });
  }

  /** Refresh what is read on scrape but lives in the core's own gauges (device up). */
  beforeScrape(): void {
    const up = this.gateway.metrics.deviceUp;
    up.reset();
    for (const [id, host] of this.gateway.hosts) {
      if (host.isUp !== undefined) up.set({ device: id }, host.isUp ? 1 : 0);
    }
  }

  close(): void {
    this.off();
    const registry = this.gateway.metrics.registry;
    for (const name of [
      'portier_outbox_backlog_events',
      'portier_outbox_oldest_age_seconds',
      'portier_admin_errors_total',
    ]) {
      registry.removeSingleMetric(name);
    }
    if (!this.serviceCounts) registry.removeSingleMetric(DECISIONS_METRIC);
  }
}
