import { Counter, Gauge, type Registry } from 'prom-client';
import type { DiskGuard, DiskState } from './disk-guard.js';

/** The counter of shed events, shared with the sync service's disk budget (one name, one series per lane/policy). */
export const SHED_METRIC = 'portier_sync_shed_total';

/** The shed counter on `registry`, registered by whichever of the disk guard and the sync service comes first. */
export function shedCounter(registry: Registry): Counter<'lane' | 'policy'> {
  return (
    (registry.getSingleMetric(SHED_METRIC) as Counter<'lane' | 'policy'> | undefined) ??
    new Counter({
      name: SHED_METRIC,
      help: 'Events shed by the written policy (disk budget, or kept off a full disk), by lane and policy',
      labelNames: ['lane', 'policy'] as const,
      registers: [registry],
    })
  );
}

const STATES: readonly DiskState[] = ['ok', 'low', 'full'];

/**
 * The disk guard's metrics: free space and state read at scrape time, events kept off a full disk counted on the
 * shed counter (policy `disk_full` or `coalesced`), reserve releases counted.
 */
export function watchDisk(guard: DiskGuard, registry: Registry): void {
  const shed = shedCounter(registry);
  guard.onShed((lane, policy, n) => shed.inc({ lane, policy }, n));
  new Gauge({
    name: 'portier_store_disk_free_bytes',
    help: 'Bytes free on the state directory file system (statfs), less what the reserve should hold and does not',
    registers: [registry],
    collect() {
      this.set(guard.status().free_bytes);
    },
  });
  new Gauge({
    name: 'portier_store_disk_state',
    help: '1 for the disk state in force (ok, low: shedding by policy, full: only critical events written)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      for (const s of STATES) this.set({ state: s }, guard.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'portier_store_disk_reserve_bytes',
    help: 'Bytes of the reserve file kept for access decisions and alarms on a full disk',
    registers: [registry],
    collect() {
      this.set(guard.status().reserve_bytes);
    },
  });
  new Gauge({
    name: 'portier_store_disk_reserve_released',
    help: 'Times the reserve file was given back so that a critical commit could succeed on a full disk',
    registers: [registry],
    collect() {
      this.set(guard.releases);
    },
  });
}
