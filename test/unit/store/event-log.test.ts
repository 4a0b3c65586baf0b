import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { DB_FILE } from '../../../src/store/database.js';
import { deviceMemoryKey } from '../../../src/store/meta.js';
import { openStore } from '../../../src/store/store.js';
import { tempDir } from '../../helpers/tmp.js';

const log = silentLogger();
const tick = () => new Promise((r) => setImmediate(r));

describe('event log', () => {
  it('numbers events with consecutive seq and ULID ids, across a reopen', async () => {
    const dir = tempDir();
    let store = openStore({ stateDir: dir, gatewayId: 'gw1', log });
    for (let i = 0; i < 5; i++)
      store.events.record({ dev: 'bay1', type: 'parking.occupancy', data: { occupied: i % 2 === 0 } });
    await tick();
    store.close();
    store = openStore({ stateDir: dir, gatewayId: 'gw1', log });
    store.events.recordNow({ dev: 'door1', type: 'access.decision', data: { granted: true } });
    const all = store.events.tail(100);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(all.map((e) => e.id)).size).toBe(6);
    for (const e of all) {
      expect(e.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(e.gw).toBe('gw1');
    }
    store.close();
  });

  it('group-commits queued events in order and notifies listeners after the commit', async () => {
    const store = openStore({ stateDir: tempDir(), gatewayId: 'gw', log });
    const seen: number[] = [];
    store.events.onCommitted((events) => {
      // The listener runs after the transaction: the rows are readable.
      expect(store.events.count()).toBeGreaterThanOrEqual(events.at(-1)!.seq);
      seen.push(...events.map((e) => e.seq));
    });
    store.events.record({ dev: 'w', type: 'weather.reading', data: { temperature_c: 1 } });
    store.events.record({ dev: 'w', type: 'weather.reading', data: { temperature_c: 2 } });
    expect(seen).toEqual([]);
    const critical = store.events.recordNow({ dev: 'd', type: 'alarm', data: { alarm: 'forced' } });
    // A durable event flushes the queue first so seq order is commit order.
    expect(critical.seq).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    store.close();
  });

  it('puts events in the outbox by lane, and keeps local-only events out', async () => {
    const store = openStore({ stateDir: tempDir(), gatewayId: 'gw', log });
    store.events.recordNow({ dev: 'd', type: 'access.decision', data: {} });
    store.events.record({ dev: 'b', type: 'parking.occupancy', data: {} });
    store.events.record({ dev: 'w', type: 'weather.reading', data: {} });
    store.events.record({ dev: 'w', type: 'weather.reading', data: {} }, { localOnly: true });
    await tick();
    const rows = store.db.prepare('SELECT seq, lane FROM outbox ORDER BY seq').all();
    expect(rows).toEqual([
      { seq: 1, lane: 0 },
      { seq: 2, lane: 1 },
      { seq: 3, lane: 2 },
    ]);
    store.close();
  });

  it('keeps the time floor across restarts and never stamps an event below it', async () => {
    const dir = tempDir();
    const future = Date.parse('2030-01-01T00:00:00Z');
    let store = openStore({ stateDir: dir, gatewayId: 'gw', log, clock: { wall: () => future, isSynced: () => true } });
    store.clock.now();
    store.close();
    const past = Date.parse('2020-01-01T00:00:00Z');
    store = openStore({
      stateDir: dir,
      gatewayId: 'gw',
      log,
      clock: { wall: () => past, isSynced: () => false, hasRtc: () => false },
    });
    const e = store.events.recordNow({ dev: 'd', type: 'alarm', data: {} });
    expect(e.ts).toBe('2030-01-01T00:00:00.000Z');
    expect(e.tq).toBe('floor');
    store.close();
  });
});

describe('database integrity', () => {
  it('quarantines a corrupt database, keeps the file, and starts fresh', () => {
    const dir = tempDir();
    writeFileSync(join(dir, DB_FILE), Buffer.alloc(8192, 0x5a));
    const store = openStore({ stateDir: dir, gatewayId: 'gw', log });
    expect(store.quarantinedTo).toBeDefined();
    expect(existsSync(store.quarantinedTo!)).toBe(true);
    expect(readdirSync(dir).some((f) => f.startsWith(`${DB_FILE}.corrupt-`))).toBe(true);
    store.events.recordNow({ dev: 'd', type: 'alarm', data: {} });
    expect(store.events.count()).toBe(1);
    store.close();
  });

  it('refuses a database written by a newer schema instead of touching it', () => {
    const dir = tempDir();
    const store = openStore({ stateDir: dir, gatewayId: 'gw', log });
    store.db.pragma('user_version = 999');
    store.close();
    expect(() => openStore({ stateDir: dir, gatewayId: 'gw', log })).toThrow(/newer than this Portier/);
  });
});

describe('device registry', () => {
  it('forgets what a removed device kept across restarts, so one added again with its id starts afresh', () => {
    const store = openStore({ stateDir: tempDir(), gatewayId: 'gw', log });
    store.devices.upsert({ id: 'market', driver: 'parking-zone', config: { capacity: 4 }, source: 'runtime' });
    store.meta.set(deviceMemoryKey('market'), '{"value":{"bays":[]},"seq":9}');
    store.meta.set(deviceMemoryKey('other'), '{"value":{},"seq":1}');
    store.devices.remove('market');
    expect(store.meta.get(deviceMemoryKey('market'))).toBeUndefined();
    expect(store.meta.get(deviceMemoryKey('other'))).toBeDefined();
    expect(() => store.devices.remove('market')).toThrow(/no device "market"/);
    store.close();
  });
});
