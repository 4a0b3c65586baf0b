import { describe, expect, it } from 'vitest';
import type { PortierEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { Outbox } from '../../../src/store/outbox.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { batchHead, takeBatch } from '../../../src/sync/batch.js';
import { tempDir } from '../../helpers/tmp.js';

const GW = 'gw-batch';
const head = batchHead(GW);

function store(): { store: Store; outbox: Outbox } {
  const s = openStore({ stateDir: tempDir(), gatewayId: GW, log: silentLogger(), clock: { trustSystemClock: true } });
  const outbox = new Outbox(s.db);
  s.events.onOutboxAppend((rows) => outbox.appended(rows));
  return { store: s, outbox };
}

/** Telemetry first, then state, then critical: the drain order must turn this around. */
function recordMixed(s: Store): void {
  for (let i = 0; i < 4; i++) s.events.record({ dev: 'w-1', type: 'weather.reading', data: { i } });
  for (let i = 0; i < 3; i++) s.events.record({ dev: 'bay-1', type: 'parking.occupancy', data: { i } });
  for (let i = 0; i < 2; i++) s.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { i } });
}

const parse = (payload: string) => JSON.parse(payload) as { v: number; gw: string; events: PortierEvent[] };

describe('batches', () => {
  it('drain critical first, then state, then telemetry, oldest first within each lane', () => {
    const { store: s, outbox } = store();
    recordMixed(s);
    const cursors = [0, 0, 0];
    const batch = takeBatch(outbox, cursors, { maxEvents: 100, maxBytes: 65_536 }, head)!;
    const doc = parse(batch.payload);
    expect(doc.v).toBe(1);
    expect(doc.gw).toBe(GW);
    expect(doc.events.map((e) => e.seq)).toEqual([8, 9, 5, 6, 7, 1, 2, 3, 4]);
    // The stored JSON goes out as is: every event equals what the log holds.
    const stored = new Map(s.events.tail(100).map((e) => [e.seq, e]));
    for (const e of doc.events) expect(e).toEqual(stored.get(e.seq));
    expect(batch.critical).toBe(true);
    expect(batch.full).toBe(false);
    expect(batch.bytes).toBe(Buffer.byteLength(batch.payload));
    expect(takeBatch(outbox, cursors, { maxEvents: 100, maxBytes: 65_536 }, head)).toBeUndefined();
  });

  it('respect the event and byte bounds and continue after the cursor', () => {
    const { store: s, outbox } = store();
    for (let i = 0; i < 50; i++)
      s.events.record({ dev: 'w-1', type: 'weather.reading', data: { i, pad: 'x'.repeat(100) } });
    s.events.flush();
    const cursors = [0, 0, 0];
    const a = takeBatch(outbox, cursors, { maxEvents: 10, maxBytes: 65_536 }, head)!;
    expect(a.count).toBe(10);
    expect(a.full).toBe(true);
    const b = takeBatch(outbox, cursors, { maxEvents: 1000, maxBytes: 2048 }, head)!;
    expect(b.bytes).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(b.payload)).toBe(b.bytes);
    expect(b.full).toBe(true);
    expect(parse(b.payload).events[0]!.seq).toBe(11);
    expect(b.count).toBeGreaterThan(3);
  });

  it('send an event larger than the byte bound alone rather than wedge its lane', () => {
    const { store: s, outbox } = store();
    s.events.record({ dev: 'w-1', type: 'weather.reading', data: { big: 'y'.repeat(5000) } });
    s.events.record({ dev: 'w-1', type: 'weather.reading', data: { small: 1 } });
    s.events.flush();
    const cursors = [0, 0, 0];
    const a = takeBatch(outbox, cursors, { maxEvents: 100, maxBytes: 1024 }, head)!;
    expect(a.count).toBe(1);
    expect(parse(a.payload).events[0]!.seq).toBe(1);
    const b = takeBatch(outbox, cursors, { maxEvents: 100, maxBytes: 1024 }, head)!;
    expect(parse(b.payload).events.map((e) => e.seq)).toEqual([2]);
  });

  it('on acknowledgement delete exactly their rows, even with other lanes interleaved', () => {
    const { store: s, outbox } = store();
    recordMixed(s);
    const cursors = [0, 0, 0];
    const a = takeBatch(outbox, cursors, { maxEvents: 4, maxBytes: 65_536 }, head)!;
    // Critical 8, 9 and state 5, 6 are in flight; more arrives meanwhile in every lane.
    recordMixed(s);
    s.events.flush();
    outbox.acknowledge(a.ranges, a.perLane);
    const left = (s.db.prepare('SELECT seq FROM outbox ORDER BY seq').all() as Array<{ seq: number }>).map(
      (r) => r.seq,
    );
    expect(left).toEqual([1, 2, 3, 4, 7, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const counted = [0, 1, 2].map((l) => outbox.lane(l));
    outbox.recount();
    expect([0, 1, 2].map((l) => outbox.lane(l))).toEqual(counted);
  });
});
