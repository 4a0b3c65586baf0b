import { expect } from 'vitest';
import { laneOf, type PortierEvent } from '../../../src/core/events.js';
import type { Store } from '../../../src/store/store.js';
import { missing } from './harness.js';

/** Records a steady mix of lanes: per tick 8 weather readings, 2 bay states, and an access decision every 10th. */
export function startLoad(store: Store, periodMs = 10): { stop(): void; ticks(): number } {
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (let i = 0; i < 8; i++) {
      store.events.record({ dev: `weather-${i % 3}`, type: 'weather.reading', data: { temperature_c: tick / 10 } });
    }
    for (let i = 0; i < 2; i++) {
      store.events.record({ dev: `bay-${i}`, type: 'parking.occupancy', data: { occupied: tick % 2 === 0 } });
    }
    if (tick % 10 === 0) {
      store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true, reason: 'ok' } });
    }
  }, periodMs);
  return { stop: () => clearInterval(timer), ticks: () => tick };
}

/**
 * The cloud's view is correct when every produced id arrived, every id always with the same seq (duplicates
 * only under the same id), and within each lane the first arrival of each event came in seq order. (Across lanes
 * the drain order is by priority, critical first; `seq` lets the cloud interleave them.)
 */
export function expectDelivered(received: PortierEvent[], produced: string[]): { duplicates: number } {
  const seqOf = new Map<string, number>();
  for (const e of received) {
    const prior = seqOf.get(e.id);
    if (prior !== undefined) expect(e.seq, `id ${e.id} arrived with two seqs`).toBe(prior);
    seqOf.set(e.id, e.seq);
  }
  expect(new Set(seqOf.values()).size, 'a seq arrived under two ids').toBe(seqOf.size);
  expect(missing(produced, new Set(seqOf.keys()))).toEqual({ count: 0, sample: [] });
  expect(seqOf.size, 'the cloud received ids the gateway never produced').toBe(new Set(produced).size);
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  for (const e of received) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    const lane = laneOf(e.type);
    expect(e.seq, `lane ${lane} out of order`).toBeGreaterThan(lastSeq.get(lane) ?? 0);
    lastSeq.set(lane, e.seq);
  }
  return { duplicates: received.length - seqOf.size };
}
