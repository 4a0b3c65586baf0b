import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRetention } from '../../../src/admin/retention.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const DAY = 86_400_000;

/** A real gateway whose log holds `n` events, all new. */
async function gatewayWithEvents(dir: string, n: number, opts: { cloud?: boolean } = { cloud: true }) {
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir, { recursive: true });
  // A cloud that is never reachable (port 1): its outbox keeps everything until a test says it was acknowledged.
  const tg = await startTestGateway({
    dir,
    gpioDir,
    devices: [],
    ...(opts.cloud ? { cloudUrl: 'mqtt://127.0.0.1:1' } : {}),
  });
  for (let i = 0; i < n; i++) {
    tg.gateway.store.events.recordNow({ dev: 'test-gw', type: 'gateway.health', data: { i } });
  }
  return tg;
}

function age(db: import('better-sqlite3').Database, seqs: number[], days: number): void {
  const ts = new Date(Date.now() - days * DAY).toISOString();
  const stmt = db.prepare('UPDATE events SET ts = ? WHERE seq = ?');
  for (const s of seqs) stmt.run(ts, s);
}

const seqs = (db: import('better-sqlite3').Database) =>
  (db.prepare('SELECT seq FROM events ORDER BY seq').pluck().all() as number[]).join(',');

describe('retention of the local event log', () => {
  it('purges events older than the period that the cloud has acknowledged, never one still in the outbox', async () => {
    const tg = await gatewayWithEvents(tempDir('portier-ret-'), 10);
    const db = tg.gateway.store.db;
    age(db, [1, 2, 3, 4, 5, 6], 40);
    age(db, [7], 20);
    // acknowledged by the cloud: all but 3 and 8
    db.prepare('DELETE FROM outbox WHERE seq NOT IN (3, 8)').run();
    const retention = startRetention(tg.gateway, { days: 30 });
    expect(await retention.runOnce()).toBe(5);
    expect(seqs(db)).toBe('3,7,8,9,10');
    expect(await retention.runOnce()).toBe(0);
    // the cloud acknowledges 3 at last: it goes at the next purge
    db.prepare('DELETE FROM outbox WHERE seq = 3').run();
    expect(await retention.runOnce()).toBe(1);
    expect(seqs(db)).toBe('7,8,9,10');
    const metrics = await tg.gateway.metrics.registry.metrics();
    expect(metrics).toMatch(/^portier_events_purged_total 6$/m);
    retention.close();
    await tg.gateway.stop();
  });

  it('without a cloud, purges old events with their outbox rows: nobody would ever drain them', async () => {
    const tg = await gatewayWithEvents(tempDir('portier-ret-'), 6, { cloud: false });
    const db = tg.gateway.store.db;
    age(db, [1, 2, 3, 4], 40);
    const retention = startRetention(tg.gateway, { days: 30 });
    expect(await retention.runOnce()).toBe(4);
    expect(seqs(db)).toBe('5,6');
    expect(db.prepare('SELECT seq FROM outbox ORDER BY seq').pluck().all()).toEqual([5, 6]);
    retention.close();
    await tg.gateway.stop();
  });

  it('keeps the newest event, so seq numbering continues across a restart instead of repeating', async () => {
    const dir = tempDir('portier-ret-');
    let tg = await gatewayWithEvents(dir, 5);
    age(tg.gateway.store.db, [1, 2, 3, 4, 5], 90);
    tg.gateway.store.db.prepare('DELETE FROM outbox').run();
    const retention = startRetention(tg.gateway, { days: 7 });
    expect(await retention.runOnce()).toBe(4);
    expect(seqs(tg.gateway.store.db)).toBe('5');
    retention.close();
    await tg.gateway.stop();

    tg = await startTestGateway({ dir, gpioDir: join(dir, 'gpio'), devices: [] });
    const next = tg.gateway.store.events.recordNow({ dev: 'test-gw', type: 'gateway.health', data: {} });
    expect(next.seq).toBe(6);
    await tg.gateway.stop();
  });

  it('purges a large backlog in batches, stopping its scan at the first event inside the period', async () => {
    const tg = await gatewayWithEvents(tempDir('portier-ret-'), 0);
    const db = tg.gateway.store.db;
    db.transaction(() => {
      for (let i = 0; i < 5000; i++) tg.gateway.store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
      tg.gateway.store.events.flush();
    })();
    const old = new Date(Date.now() - 10 * DAY).toISOString();
    db.prepare('UPDATE events SET ts = ? WHERE seq <= 4500 OR seq = 4800').run(old);
    db.prepare('DELETE FROM outbox').run();
    const retention = startRetention(tg.gateway, { days: 1 });
    expect(await retention.runOnce()).toBe(4500);
    expect(db.prepare('SELECT MIN(seq) FROM events').pluck().get()).toBe(4501);
    // Timestamps never go back, so the scan ended at 4501: an old stamp behind it (impossible in a real log) stays.
    expect(db.prepare('SELECT COUNT(*) FROM events WHERE seq = 4800').pluck().get()).toBe(1);
    retention.close();
    await tg.gateway.stop();
  });

  it('refuses a period that is not a positive number of days', async () => {
    const tg = await gatewayWithEvents(tempDir('portier-ret-'), 0);
    expect(() => startRetention(tg.gateway, { days: 0 })).toThrow(/retention days/);
    expect(() => startRetention(tg.gateway, { days: Number.NaN })).toThrow(/retention days/);
    await tg.gateway.stop();
  });
});
