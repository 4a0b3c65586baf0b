import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { ensureIncrementalVacuum, usedBytes } from '../../../src/store/disk.js';
import { LANE_CODES } from '../../../src/store/event-log.js';
import { Outbox } from '../../../src/store/outbox.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { DiskBudget } from '../../../src/sync/shedder.js';
import { tempDir } from '../../helpers/tmp.js';

const START = Date.parse('2030-06-01T00:00:00Z');

interface Rig {
  store: Store;
  outbox: Outbox;
  dir: string;
  /** simulated wall clock, ms */
  clock: { ms: number };
  /** record events, advancing the clock by `stepMs` before each */
  record(n: number, stepMs: number, make: (i: number) => EventInput): void;
  budget(bytes: number, opts?: { downsampleS?: number; takenUpTo?: (lane: number) => number }): DiskBudget;
  lane(lane: number): Array<{ seq: number; dev: string; type: string; ts: string }>;
}

function rig(dir = tempDir('portier-shed-')): Rig {
  const clock = { ms: START };
  const store = openStore({
    stateDir: dir,
    gatewayId: 'gw-shed',
    log: silentLogger(),
    clock: { wall: () => clock.ms, isSynced: () => true },
  });
  ensureIncrementalVacuum(store.db, silentLogger());
  const outbox = new Outbox(store.db);
  store.events.onOutboxAppend((rows) => outbox.appended(rows));
  return {
    store,
    outbox,
    dir,
    clock,
    record(n, stepMs, make) {
      for (let i = 0; i < n; i++) {
        clock.ms += stepMs;
        const input = make(i);
        // Each its own commit: the log stamps an event when it commits it.
        if (input.type === 'access.decision' || input.type === 'alarm') store.events.recordNow(input);
        else {
          store.events.record(input);
          store.events.flush();
        }
      }
    },
    budget(bytes, opts = {}) {
      return new DiskBudget(store.db, outbox, {
        budgetBytes: bytes,
        downsampleMs: (opts.downsampleS ?? 60) * 1000,
        retainAckedMs: 7 * 86_400_000,
        log: silentLogger(),
        ...(opts.takenUpTo ? { takenUpTo: opts.takenUpTo } : {}),
      });
    },
    lane(lane) {
      return store.db
        .prepare(
          `SELECT o.seq AS seq, e.dev AS dev, e.type AS type, e.ts AS ts FROM outbox o JOIN events e ON e.seq = o.seq
           WHERE o.lane = ? ORDER BY o.seq`,
        )
        .all(lane) as Array<{ seq: number; dev: string; type: string; ts: string }>;
    },
  };
}

const reading = (i: number): EventInput => ({
  dev: `weather-${i % 4}`,
  type: 'weather.reading',
  data: { temperature_c: 20 + (i % 7) / 10, humidity_pct: 61, pressure_hpa: 1009.8, wind_speed_ms: 2.2 },
});
const decision = (i: number): EventInput => ({ dev: 'door-1', type: 'access.decision', data: { granted: true, i } });
const TELEMETRY = LANE_CODES.telemetry;
const STATE = LANE_CODES.state;
const CRITICAL = LANE_CODES.critical;

describe('disk budget and shedding policy', () => {
  it('does nothing under budget', async () => {
    const r = rig();
    r.record(100, 10_000, reading);
    const result = await r.budget(64 * 1024 * 1024).enforce();
    expect(result).toMatchObject({ pruned: 0, shed: {}, overBudget: false });
    expect(r.outbox.total()).toBe(100);
  });

  it('first prunes acknowledged events from the local log, which sheds nothing', async () => {
    const r = rig();
    r.record(3000, 10_000, reading);
    r.store.db.exec('DELETE FROM outbox'); // the cloud acknowledged all of them
    r.outbox.recount();
    r.record(50, 10_000, reading);
    r.record(50, 10_000, decision);
    const budget = r.budget(Math.floor(usedBytes(r.store.db) / 2));
    const result = await budget.enforce();
    expect(result.pruned).toBeGreaterThan(1000);
    expect(result.shed).toEqual({});
    expect(budget.totals()).toEqual({});
    expect(r.outbox.total()).toBe(100);
    expect(usedBytes(r.store.db)).toBeLessThanOrEqual(budget.budgetBytes);
  });

  it('downsamples telemetry to one reading per device per interval before dropping any', async () => {
    const r = rig();
    // Four stations, one reading every 10 s each: six per station per minute.
    r.record(6000, 2500, reading);
    const budget = r.budget(Math.floor(usedBytes(r.store.db) / 2), { downsampleS: 60 });
    const result = await budget.enforce();
    expect(result.shed.dropped).toBeUndefined();
    expect(result.shed.downsampled).toBeGreaterThan(4000);
    // Oldest first: the older readings are down to one per device and minute; the pass stopped once under the
    // budget, so the newest run of readings may still be whole.
    const left = r.lane(TELEMETRY);
    let cut = left.length;
    while (cut > 0 && left[cut - 1]!.seq === 6000 - (left.length - cut)) cut--;
    const older = left.slice(0, cut);
    const buckets = new Set(older.map((e) => `${e.dev} ${Math.floor(Date.parse(e.ts) / 60_000)}`));
    expect(older.length).toBeGreaterThan(500);
    expect(buckets.size).toBe(older.length);
    expect(left.length + result.shed.downsampled!).toBe(6000);
    expect(budget.totals()).toEqual({ telemetry: { downsampled: result.shed.downsampled } });
    expect(usedBytes(r.store.db)).toBeLessThanOrEqual(budget.budgetBytes);
  });

  it('then drops the oldest telemetry, keeping the newest', async () => {
    const r = rig();
    // One reading per device every four hours: no downsampling interval (1 min up to 36 min) merges any.
    r.record(4000, 3_600_000, reading);
    const budget = r.budget(Math.floor(usedBytes(r.store.db) / 3), { downsampleS: 60 });
    const result = await budget.enforce();
    expect(result.shed.downsampled).toBeUndefined();
    expect(result.shed.dropped).toBeGreaterThan(2000);
    const left = r.lane(TELEMETRY).map((e) => e.seq);
    // What is left is the newest run of readings, without a hole.
    expect(left.at(-1)).toBe(4000);
    expect(left[0]).toBe(4000 - left.length + 1);
    expect(left.length + result.shed.dropped!).toBe(4000);
    expect(usedBytes(r.store.db)).toBeLessThanOrEqual(budget.budgetBytes);
  });

  it('coalesces state to the latest event per device and type, and never drops a critical event', async () => {
    const r = rig();
    r.record(3000, 1000, (i) =>
      i % 10 === 0
        ? decision(i)
        : i % 2 === 0
          ? { dev: `bay-${i % 6}`, type: 'parking.occupancy', data: { occupied: i % 4 === 0, i } }
          : { dev: `door-${i % 3}`, type: 'door.state', data: { state: 'closed', i } },
    );
    const criticalBefore = r.lane(CRITICAL).map((e) => e.seq);
    const stateBefore = r.lane(STATE);
    const budget = r.budget(Math.floor(usedBytes(r.store.db) / 3));
    const result = await budget.enforce();
    expect(result.shed.coalesced).toBeGreaterThan(0);
    expect(r.lane(CRITICAL).map((e) => e.seq)).toEqual(criticalBefore);
    const latest = new Map<string, number>();
    for (const e of stateBefore) latest.set(`${e.dev} ${e.type}`, e.seq);
    expect(r.lane(STATE).map((e) => e.seq)).toEqual([...latest.values()].sort((a, b) => a - b));
    expect(budget.totals().state).toEqual({ coalesced: stateBefore.length - latest.size });
  });

  it('stays over budget rather than drop a critical event, and says so', async () => {
    const r = rig();
    r.record(1500, 1000, decision);
    const budget = r.budget(64 * 1024);
    const result = await budget.enforce();
    expect(result.overBudget).toBe(true);
    expect(result.shed).toEqual({});
    expect(r.lane(CRITICAL)).toHaveLength(1500);
  });

  it('never sheds rows that are in flight to the cloud', async () => {
    const r = rig();
    r.record(3000, 3_600_000, reading);
    const budget = r.budget(Math.floor(usedBytes(r.store.db) / 3), {
      takenUpTo: (lane) => (lane === TELEMETRY ? 200 : 0),
    });
    await budget.enforce();
    const left = r.lane(TELEMETRY).map((e) => e.seq);
    expect(left.slice(0, 200)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('gives the pages back to the file system, keeps counts across a restart, keeps numbering', async () => {
    const r = rig();
    r.record(5000, 3_600_000, reading);
    r.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const pagesBefore = r.store.db.pragma('page_count', { simple: true }) as number;
    const first = await r.budget(Math.floor(usedBytes(r.store.db) / 4)).enforce();
    r.store.db.pragma('wal_checkpoint(TRUNCATE)');
    const pagesAfter = r.store.db.pragma('page_count', { simple: true }) as number;
    expect(pagesAfter).toBeLessThan(pagesBefore / 2);
    // Shed everything: the newest reading's row stays (without its outbox row), so numbering continues after it.
    const second = await r.budget(1).enforce();
    expect(r.lane(TELEMETRY)).toEqual([]);
    r.store.close();
    const again = rig(r.dir);
    expect(again.store.events.recordNow(decision(0)).seq).toBe(5001);
    expect(again.budget(1 << 30).totals()).toEqual({
      telemetry: { dropped: (first.shed.dropped ?? 0) + (second.shed.dropped ?? 0) },
    });
  });
});
