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
/** Record N events in turns of 1,000 and flush: events/s, and the main thread's own time. */
async function recordRate(writerThread: boolean): Promise<{ rate: number; mainMs: number }> {
  const store = openStore({
    stateDir: tempDir(),
    gatewayId: 'bench',
    log: silentLogger(),
    clock: { trustSystemClock: true },
    writerThread,
  });
  const data = { bay: 'bay-1', occupied: true, battery_v: 3.344, temperature_c: -10 };
  const t = performance.now();
  for (let i = 0; i < N; i += 1000) {
    for (let k = i; k < i + 1000; k++) store.events.record({ dev: `bay-${k % 500}`, type: 'parking.occupancy', data });
    // The turn ends: the batch is committed here (inline) or stamped and posted to the writer thread.
    await new Promise((r) => setImmediate(r));
  }
  // Until here the main thread never waited; the flush below waits for the writer thread's last batches.
  const busy = performance.now() - t;
  store.events.flush();
  const rate = N / ((performance.now() - t) / 1000);
  store.close();
  return { rate, mainMs: busy };
}

/**
 * Event log throughput: events recorded through the group commit (ULID, seq, JSON body, outbox row), next to
 * plain better-sqlite3 inserts of the same bodies in one transaction per 1,000 rows on the same kind of file; and
 * the same with the daemon's writer thread.
 */
export async function eventLogBench(): Promise<BenchRow[]> {
  const inline = await recordRate(false);
  const threaded = await recordRate(true);
  const logged = inline.rate;
  const data = { bay: 'bay-1', occupied: true, battery_v: 3.344, temperature_c: -10 };
  let t: number;
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
    {
      name: 'event log with the writer thread (the daemon): group-committed events',
      value: Math.round(threaded.rate),
      unit: 'events/s',
      reference: { name: 'the same written inline, as above', value: Math.round(inline.rate), unit: 'events/s' },
    },
    {
      name: 'event log with the writer thread: main thread busy per event (stamp, JSON, post)',
      value: Math.round((threaded.mainMs / N) * 1000 * 100) / 100,
      unit: 'µs',
      reference: {
        name: 'main thread busy per event, inline (stamp, JSON, INSERTs)',
        value: Math.round((inline.mainMs / N) * 1000 * 100) / 100,
        unit: 'µs',
      },
    },
    { name: 'event log: durable commit (synchronous=FULL), mean', value: Math.round(fullMs * 1000) / 1000, unit: 'ms' },
  ];
}
