import { Counter } from 'prom-client';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { OperatedGateway } from './operated-gateway.js';

export interface RetentionOptions {
  /** days a local event is kept after its timestamp, > 0 (fractions allowed, for tests and short-lived benches) */
  days: number;
  /** ms between purges, 60000-86400000, default 3600000 (hourly) */
  intervalMs?: number;
  /** Clock in ms; tests replace it. */
  now?: () => number;
}

export interface RetentionHandle {
  /** Purge now; resolves with the number of events deleted. */
  runOnce(): Promise<number>;
  close(): void;
}

/** rows examined per transaction; a batch holds the write lock for a few ms, then the event loop gets a turn */
const BATCH = 2000;
const DAY_MS = 86_400_000;

/**
 * Privacy: local events older than `days` are deleted from the event log, hourly. Never an event still in the
 * outbox while a cloud is configured (the cloud has not acknowledged it, and "nothing is lost" comes first), and
 * never the newest event (its seq is where numbering resumes after a restart: deleting it would hand out a seq
 * twice). Without a cloud nobody will ever drain the outbox, so an old event goes with its outbox row: otherwise a
 * gateway without a cloud would keep every event forever, against the retention period and its disk.
 *
 * The log is read in seq order from the oldest row and the scan stops at the first event inside the retention
 * period: timestamps never go backwards (the clock never reports below its persisted floor), so no full scan of
 * a week's log is needed every hour.
 */
export function startRetention(
  gateway: Pick<OperatedGateway, 'store' | 'rootLog' | 'metrics' | 'config'>,
  opts: RetentionOptions,
): RetentionHandle {
  if (!(opts.days > 0) || opts.days > 36_500) {
    throw new PortierError(ErrorCode.ConfigInvalid, `retention days: expected a number above 0, got ${opts.days}`);
  }
  const log = gateway.rootLog.child({ component: 'retention' });
  const now = opts.now ?? Date.now;
  const registry = gateway.metrics.registry;
  const purged =
    (registry.getSingleMetric('portier_events_purged_total') as Counter | undefined) ??
    new Counter({
      name: 'portier_events_purged_total',
      help: 'Local events deleted by the retention period (never ones still in the outbox)',
      registers: [registry],
    });
  const purge = gateway.store.purge(gateway.config.cloud !== undefined);
  let running: Promise<number> | undefined;

  const run = async (): Promise<number> => {
    const cutoff = new Date(now() - opts.days * DAY_MS).toISOString();
    let total = 0;
    let after = 0;
    for (;;) {
      const res = purge.batch(after, cutoff, BATCH);
      total += res.deleted;
      if (res.next === undefined) break;
      after = res.next;
      await new Promise((r) => setImmediate(r));
    }
    if (total) {
      purged.inc(total);
      log.info({ purged: total, before: cutoff }, 'old events purged from the local log');
    }
    return total;
  };

  const runOnce = (): Promise<number> => {
    // One purge at a time: the timer and a caller must not interleave batches.
    running ??= run().finally(() => {
      running = undefined;
    });
    return running;
  };

  const interval = Math.min(86_400_000, Math.max(60_000, opts.intervalMs ?? 3_600_000));
  const tick = () => {
    runOnce().catch((err: unknown) => log.error({ err }, 'retention purge failed; retrying at the next interval'));
  };
  const timer = setInterval(tick, interval);
  timer.unref();
  const first = setTimeout(tick, 1000);
  first.unref();
  return {
    runOnce,
    close() {
      clearInterval(timer);
      clearTimeout(first);
    },
  };
}
