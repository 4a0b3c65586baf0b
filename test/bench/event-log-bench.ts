import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { tempDir } from '../helpers/tmp.js';
import type { BenchRow } from './types.js';

const N = 100_000;

/**
 * Event log throughput: events recorded through the group commit (ULID, seq, JSON body, outbox row), next to
 * plain better-sqlite3 inserts of the same bodies in one transaction per 1,000 rows on the same kind of file.
 */
export async function eventLogBench(): Promise<BenchRow[]> {
  const store = openStore({
    stateDir: tempDir(),
    gatewayId: 'bench',
    log: silentLogger(),
    clock: { trustSystemClock: true },
  });
  const data = { bay: 'bay-1', occupied: true, battery_v: 3.344, temperature_c: -10 };
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    store.events.record({ dev: `bay-${i % 500}`, type: 'parking.occupancy', data });
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  store.events.flush();
  const logged = N / ((performance.now() - t) / 1000);
  store.close();

  const raw = new BetterSqlite3(join(tempDir(), 'raw.db'));
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const insert = raw.prepare('INSERT INTO t (seq, body) VALUES (?, ?)');
  const body = JSON.stringify({
    id: '01JZ00000000000000000000000',
    seq: 1,
    gw: 'bench',
    dev: 'bay-1',
    type: 'parking.occupancy',
    ts: new Date().toISOString(),
    tq: 'synced',
    data,
  });
  t = performance.now();
  const batch = raw.transaction((from: number) => {
    for (let i = from; i < from + 1000; i++) insert.run(i, body);
  });
  for (let i = 0; i < N; i += 1000) batch(i + 1);
  const plain = N / ((performance.now() - t) / 1000);
  raw.close();

  const durable = openStore({ stateDir: tempDir(), gatewayId: 'bench', log: silentLogger() });
  const M = 2000;
  t = performance.now();
  for (let i = 0; i < M; i++)
    durable.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true } });
  const fullMs = (performance.now() - t) / M;
  durable.close();

  return [
    {
      name: 'event log: group-committed events',
      value: Math.round(logged),
      unit: 'events/s',
      reference: {
        name: 'plain better-sqlite3 inserts, 1,000 per transaction',
        value: Math.round(plain),
        unit: 'rows/s',
      },
    },
    { name: 'event log: durable commit (synchronous=FULL), mean', value: Math.round(fullMs * 1000) / 1000, unit: 'ms' },
  ];
}
