import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CloudConfig } from '../config/schema.js';
import { ensureIncrementalVacuum } from '../store/disk.js';
import { Outbox } from '../store/outbox.js';
import type { Store } from '../store/store.js';
import { Downlink } from './commands/downlink.js';
import type { CommandHandlers } from './commands/handlers.js';
import { CloudConnection } from './connection.js';
import { HealthReporter, type SyncHealth } from './health.js';
import { SyncMetrics } from './metrics.js';
import { DiskBudget } from './shedder.js';
import { cloudTopics } from './topics.js';
import { CloudUplink } from './uplink.js';

export interface CloudSyncOptions {
  /** The config's `cloud` section, validated. */
  config: CloudConfig;
  gatewayId: string;
  store: Pick<Store, 'db' | 'events' | 'clock'> & { disk?: Store['disk'] };
  log: Logger;
  /** The gateway's Prometheus registry (Metrics.registry); no metrics without it. */
  registry?: Registry;
  /** The effects of downlink commands; without them every command is refused with `not_supported`. */
  handlers?: CommandHandlers;
}

/** ms between disk budget checks (three header reads each) */
const BUDGET_CHECK_MS = 1000;
/** ms between retention passes (acknowledged events past their days, old command ids, free pages) */
const HOUSEKEEPING_MS = 10 * 60_000;
/** ms; command ids are remembered at least this long, longer than any signed command may live */
const JOURNAL_MIN_KEEP_MS = 7 * 86_400_000;
const DAY_MS = 86_400_000;

/**
 * Cloud sync: the uplink that drains the outbox, the disk budget that sheds by policy, the downlink that takes
 * commands, the periodic health report and the metrics, wired to one store and one cloud connection.
 *
 * Must be constructed before events are recorded that it should count (it listens to the event log's appends; the
 * backlog already on disk is counted at construction).
 */
export class CloudSync {
  readonly connection: CloudConnection;
  readonly outbox: Outbox;
  readonly uplink: CloudUplink;
  readonly budget: DiskBudget;
  readonly downlink: Downlink;
  readonly health: HealthReporter;
  readonly metrics: SyncMetrics | undefined;
  private readonly log: Logger;
  private budgetTimer: NodeJS.Timeout | undefined;
  private housekeepingTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  /** Draining and shedding: from the first `start` once the backlog on disk is counted. */
  private running = false;

  constructor(private readonly opts: CloudSyncOptions) {
    const { config: cfg, gatewayId, store } = opts;
    this.log = opts.log.child({ component: 'cloud-sync' });
    const topics = cloudTopics(cfg.prefix, gatewayId);
    ensureIncrementalVacuum(store.db, this.log);
    // Everything recorded so far is on disk before the outbox notes where its own count ends.
    store.events.flush();
    this.outbox = new Outbox(store.db, store.events.epoch.legacy, store.events);
    this.connection = new CloudConnection({ config: cfg, gatewayId, topics, log: this.log });
    this.uplink = new CloudUplink({
      connection: this.connection,
      outbox: this.outbox,
      topics,
      gatewayId,
      limits: { maxEvents: cfg.batch_max_events, maxBytes: cfg.batch_max_bytes },
      maxAgeMs: cfg.batch_max_age_ms,
      maxInflight: cfg.max_inflight,
      ackTimeoutMs: cfg.ack_timeout_ms,
      log: this.log,
    });
    this.budget = new DiskBudget(store.db, this.outbox, {
      budgetBytes: cfg.disk_budget_bytes,
      downsampleMs: cfg.telemetry_downsample_s * 1000,
      retainAckedMs: cfg.retain_acked_days * DAY_MS,
      log: this.log,
      takenUpTo: (lane) => this.uplink.takenUpTo(lane),
      ...(store.disk ? { headroom: () => store.disk!.headroom() } : {}),
    });
    this.downlink = new Downlink({
      db: store.db,
      events: store.events,
      clock: store.clock,
      gatewayId,
      topics,
      handlers: opts.handlers,
      operatorKeysFile: cfg.operator_keys_file,
      maxLifetimeS: cfg.command_max_lifetime_s,
      log: this.log,
      publishAck: (payload) => {
        this.connection.session?.client.publish(topics.ack, payload, { qos: 1 }, () => {});
      },
      onOutcome: (command, status) => this.metrics?.commands.inc({ command, status }),
    });
    this.health = new HealthReporter({
      events: store.events,
      gatewayId,
      outbox: this.outbox,
      budget: this.budget,
      connection: this.connection,
      uplink: this.uplink,
      intervalMs: cfg.health_interval_s * 1000,
    });
    if (opts.registry) {
      this.metrics = new SyncMetrics(opts.registry, {
        outbox: this.outbox,
        uplink: this.uplink,
        connection: this.connection,
        usedBytes: () => this.budget.usedBytes(),
        budgetBytes: cfg.disk_budget_bytes,
      });
      this.budget.onShed((lane, policy, n) => this.metrics?.shed.inc({ lane, policy }, n));
    }
    let appendedBytes = 0;
    store.events.onOutboxAppend((rows) => {
      if (this.stopped) return;
      this.outbox.appended(rows);
      this.uplink.notify();
      for (const r of rows) appendedBytes += r.bytes;
      // A burst can fill the budget between two timer checks; check early once it has grown by 1 %.
      if (this.running && appendedBytes > cfg.disk_budget_bytes / 100) {
        appendedBytes = 0;
        this.checkBudget();
      }
    });
    this.connection.onMessage((topic, payload) => this.downlink.receive(topic, payload));
  }

  /**
   * Connect and start draining, shedding and reporting, as soon as the backlog already on disk is counted (a thread
   * of its own does that after the start: a week's backlog must not hold up the doors).
   */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.outbox.counted.then(() => this.run());
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.running = true;
    this.connection.start();
    this.health.start();
    this.budgetTimer = setInterval(() => this.checkBudget(), BUDGET_CHECK_MS);
    this.budgetTimer.unref();
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), HOUSEKEEPING_MS);
    this.housekeepingTimer.unref();
    this.checkBudget();
  }

  /** Stop draining (unacknowledged batches stay in the outbox), let running commands finish, say offline. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.budgetTimer);
    clearInterval(this.housekeepingTimer);
    this.health.stop();
    this.uplink.stop();
    await Promise.race([this.downlink.settle(), new Promise((r) => setTimeout(r, 3000).unref())]);
    await this.connection.stop();
  }

  /** For the admin API and tests: link, backlog, disk and shed counts. */
  status(): SyncHealth & { counters: CloudUplink['counters'] } {
    return { ...this.health.snapshot(), counters: { ...this.uplink.counters } };
  }

  private checkBudget(): void {
    if (this.stopped || !this.budget.overBudget()) return;
    this.budget.enforce().then(
      (r) => {
        if (Object.keys(r.shed).length || r.pruned) {
          this.log.warn(
            { usedBefore: r.usedBefore, usedAfter: r.usedAfter, pruned: r.pruned, shed: r.shed },
            'disk budget: shed by policy',
          );
        }
      },
      (err: unknown) => this.log.error({ err }, 'disk budget enforcement failed'),
    );
  }

  private async housekeeping(): Promise<void> {
    try {
      const pruned = await this.budget.pruneExpired();
      const forgotten = this.downlink.prune(
        Date.now() - Math.max(JOURNAL_MIN_KEEP_MS, this.opts.config.command_max_lifetime_s * 2000),
      );
      if (pruned || forgotten) this.log.debug({ pruned, forgotten }, 'sync housekeeping');
    } catch (err) {
      this.log.error({ err }, 'sync housekeeping failed');
    }
  }
}
