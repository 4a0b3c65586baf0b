import type { EventLog } from '../store/event-log.js';
import type { Outbox } from '../store/outbox.js';
import type { ShedTotals } from '../store/outbox-status.js';
import type { CloudConnection } from './connection.js';
import type { DiskBudget } from './shedder.js';
import type { CloudUplink } from './uplink.js';

export interface HealthReporterOptions {
  events: EventLog;
  gatewayId: string;
  outbox: Outbox;
  budget: DiskBudget;
  connection: CloudConnection;
  uplink: CloudUplink;
  /** ms between reports */
  intervalMs: number;
  /** wall clock, ms */
  now?: () => number;
}

/** The `data` of a `gateway.health` event from the sync service. */
export interface SyncHealth {
  outbox: ReturnType<Outbox['summary']>;
  /** cumulative shed counts since the database was created, by lane and policy */
  shed: ShedTotals;
  /** events shed since the previous report */
  shed_since_last: number;
  store: { used_bytes: number; budget_bytes: number; over_budget: boolean };
  cloud: {
    state: string;
    mqtt: '5' | '3.1.1';
    window: number;
    ack_latency_ms: number;
    events_acked: number;
    last_error?: string;
  };
}

/** ms; a shedding episode is reported at once, but not more often than this */
const SOON_MIN_GAP_MS = 60_000;

/**
 * Records a `gateway.health` event (dev = the gateway id) every interval and soon after events were shed: the
 * backlog per lane, the shed counts by lane and policy, disk use against the budget, and the cloud link. The event
 * itself travels the state lane, and its counts are cumulative, so coalescing old reports loses nothing.
 */
export class HealthReporter {
  private timer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private shedSinceLast = 0;
  private readonly now: () => number;

  constructor(private readonly opts: HealthReporterOptions) {
    this.now = opts.now ?? Date.now;
    opts.budget.onShed((_lane, _policy, n) => {
      this.shedSinceLast += n;
      this.soon();
    });
  }

  start(): void {
    this.timer = setInterval(() => this.report(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soonTimer);
  }

  /** Build the current health without recording it. */
  snapshot(): SyncHealth {
    const { outbox, budget, connection, uplink } = this.opts;
    const used = budget.usedBytes();
    const cloud: SyncHealth['cloud'] = {
      state: connection.state,
      mqtt: (connection.session?.version ?? connection.protocolVersion) === 5 ? '5' : '3.1.1',
      window: uplink.window.size,
      ack_latency_ms: Math.round(uplink.window.smoothedLatencyMs * 10) / 10,
      events_acked: uplink.counters.eventsAcked,
    };
    if (connection.lastError) cloud.last_error = connection.lastError;
    return {
      outbox: outbox.summary(this.now()),
      shed: budget.totals(),
      shed_since_last: this.shedSinceLast,
      store: { used_bytes: used, budget_bytes: budget.budgetBytes, over_budget: used > budget.budgetBytes },
      cloud,
    };
  }

  /** Record a report now. */
  report(): void {
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    const data = this.snapshot();
    this.shedSinceLast = 0;
    this.lastAt = this.now();
    this.opts.events.record({ dev: this.opts.gatewayId, type: 'gateway.health', data: { ...data } });
  }

  private soon(): void {
    if (this.soonTimer) return;
    const wait = Math.max(0, this.lastAt + SOON_MIN_GAP_MS - this.now());
    this.soonTimer = setTimeout(() => this.report(), wait);
    this.soonTimer.unref();
  }
}
