import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { shedCounter } from '../store/disk-metrics.js';
import { LANES_BY_CODE } from '../store/event-log.js';
import type { Outbox } from '../store/outbox.js';
import type { CloudConnection } from './connection.js';
import type { CloudUplink } from './uplink.js';

/** What the gauges read when Prometheus scrapes. */
export interface SyncMetricSources {
  outbox: Outbox;
  uplink: CloudUplink;
  connection: CloudConnection;
  usedBytes: () => number;
  budgetBytes: number;
  now?: () => number;
}

/**
 * The sync service's Prometheus metrics, registered on the gateway's registry (src/core/metrics.ts owns it).
 * The backlog-bytes gauge reads the outbox's in-memory counts at scrape time.
 */
export class SyncMetrics {
  readonly shed: Counter<'lane' | 'policy'>;
  readonly commands: Counter<'command' | 'status'>;
  readonly ackLatency: Histogram;
  readonly deliveryAge: Histogram;
  readonly eventsAcked: Counter;

  constructor(registry: Registry, sources: SyncMetricSources) {
    const registers = [registry];
    const now = sources.now ?? Date.now;
    // The backlog's events and oldest age per lane are the admin collector's portier_outbox_* gauges (one family
    // per meaning); the bytes, which only the outbox's in-memory counts know, are kept here under the same prefix.
    new Gauge({
      name: 'portier_outbox_backlog_bytes',
      help: 'UTF-8 bytes of the JSON of the waiting events, by lane',
      labelNames: ['lane'] as const,
      registers,
      collect() {
        LANES_BY_CODE.forEach((lane, code) => {
          this.set({ lane }, sources.outbox.lane(code).bytes);
        });
      },
    });
    new Gauge({
      name: 'portier_store_used_bytes',
      help: 'Bytes of database pages in use (the disk budget counts these)',
      registers,
      collect() {
        this.set(sources.usedBytes());
      },
    });
    new Gauge({
      name: 'portier_store_budget_bytes',
      help: 'The disk budget of the event store',
      registers,
      collect() {
        this.set(sources.budgetBytes);
      },
    });
    new Gauge({
      name: 'portier_cloud_connected',
      help: '1 while connected to the cloud broker',
      registers,
      collect() {
        this.set(sources.connection.state === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'portier_cloud_inflight_window',
      help: 'Batches allowed to await their PUBACK at once (adapts to acknowledgement latency)',
      registers,
      collect() {
        this.set(sources.uplink.window.size);
      },
    });
    this.eventsAcked = new Counter({
      name: 'portier_cloud_events_acked_total',
      help: 'Events the cloud broker acknowledged (PUBACK) and that left the outbox',
      registers,
    });
    this.ackLatency = new Histogram({
      name: 'portier_cloud_ack_latency_seconds',
      help: 'Time from publishing a batch to its PUBACK',
      buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.deliveryAge = new Histogram({
      name: 'portier_cloud_delivery_age_seconds',
      help: "Time from an event's timestamp to the cloud broker's PUBACK of the batch carrying it",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400],
      registers,
    });
    // Shared with the disk guard, which counts what it keeps off a full disk on the same series.
    this.shed = shedCounter(registry);
    this.commands = new Counter({
      name: 'portier_cloud_commands_total',
      help: 'Downlink commands by command and outcome (ok, error, refused, duplicate)',
      labelNames: ['command', 'status'] as const,
      registers,
    });
    sources.uplink.onAck((batch, latencyMs) => {
      this.eventsAcked.inc(batch.count);
      this.ackLatency.observe(latencyMs / 1000);
      const t = now();
      // An event stamped ahead of this clock (a corrected clock) counts as delivered at once, not negatively.
      for (const ts of batch.eventTs) this.deliveryAge.observe(Math.max(0, (t - Date.parse(ts)) / 1000));
    });
  }
}
