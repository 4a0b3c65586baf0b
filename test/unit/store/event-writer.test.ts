import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { PortierEvent } from '../../../src/core/events.js';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore, type Store } from '../../../src/store/store.js';
import { eventually } from '../../helpers/eventually.js';
import { tempDir } from '../../helpers/tmp.js';

const log = silentLogger();
const require = createRequire(import.meta.url);

function threaded(dir = tempDir()): Store {
  return openStore({ stateDir: dir, gatewayId: 'gw', log, writerThread: true });
}

function seqs(store: Store): number[] {
  return (store.db.prepare('SELECT seq FROM events ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
}

describe('event log with its writer thread', () => {
  it('commits group batches on the thread and announces them in seq order, after the rows are readable', async () => {
    const store = threaded();
    const heard: number[] = [];
    store.events.onCommitted((events) => {
      const last = events.at(-1)!.seq;
      // Another connection's commit is visible to this one once the thread has answered.
      expect((store.db.prepare('SELECT MAX(seq) AS m FROM events').get() as { m: number }).m).toBeGreaterThanOrEqual(
        last,
      );
      heard.push(...events.map((e) => e.seq));
    });
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 50; i++) store.events.record({ dev: `bay-${i}`, type: 'parking.occupancy', data: { i } });
      await new Promise((r) => setImmediate(r));
    }
    await eventually(() => heard.length === 1000, 5000, 'condition');
    expect(heard).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(store.events.givenBack).toBe(0);
    expect(seqs(store)).toHaveLength(1000);
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(1000);
    store.close();
  });

  it('puts a durable event after every batch already on the thread, and flush() returns with all committed', async () => {
    const store = threaded();
    const heard: PortierEvent[] = [];
    store.events.onCommitted((events) => heard.push(...events));
    for (let i = 0; i < 300; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    await new Promise((r) => setImmediate(r)); // the batch is now on the thread
    const alarm = store.events.recordNow({ dev: 'd', type: 'alarm', data: { alarm: 'forced' } });
    expect(alarm.seq).toBe(301);
    expect(heard.map((e) => e.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
    store.events.record({ dev: 'w', type: 'weather.reading', data: { i: 'last' } });
    store.events.flush();
    expect(seqs(store).at(-1)).toBe(302);
    store.close();
  });

  it('is handed back a batch the thread cannot write while the gateway waits, and writes it itself', async () => {
    const dir = tempDir();
    const store = threaded(dir);
    // Another process (an operator's CLI, say) holds the write lock for a moment.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require(${JSON.stringify(require.resolve('better-sqlite3'))});
         const db = new D(process.argv[1]); db.exec('BEGIN IMMEDIATE');
         process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 300);`,
        `${dir}/portier.db`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((r) => holder.once('exit', r));
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    for (let i = 0; i < 50; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    await new Promise((r) => setImmediate(r)); // the batch is on the thread, which finds the lock taken
    const t0 = Date.now();
    store.events.flush(); // waits: the thread gives the batch back, this thread writes it once the lock is free
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(store.events.givenBack).toBe(1);
    expect(seqs(store)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // The thread takes batches again afterwards.
    store.events.record({ dev: 'w', type: 'weather.reading', data: { i: 50 } });
    await new Promise((r) => setImmediate(r));
    store.events.flush();
    expect(store.events.givenBack).toBe(1);
    expect(seqs(store)).toHaveLength(51);
    await exited;
    store.close();
  });

  it('writes here what a writer thread that died had not answered, and announces what it had committed', async () => {
    const store = threaded();
    const heard: number[] = [];
    store.events.onCommitted((events) => heard.push(...events.map((e) => e.seq)));
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 200; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { turn, i } });
      await new Promise((r) => setImmediate(r)); // one batch per turn, on the thread
    }
    // The thread dies with batches in flight, some perhaps committed, none of them answered yet.
    const writer = (store.events as unknown as { writer: { worker: { terminate(): Promise<number> } } }).writer;
    await writer.worker.terminate();
    await new Promise((r) => setTimeout(r, 20));
    store.events.record({ dev: 'w', type: 'weather.reading', data: { after: true } });
    store.events.flush();
    expect(seqs(store)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
    expect(heard).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
    store.close();
  });

  it('only announces, never writes twice, batches a thread committed before it went silent', async () => {
    const store = threaded();
    const heard: number[] = [];
    store.events.onCommitted((events) => heard.push(...events.map((e) => e.seq)));
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 200; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { turn, i } });
      await new Promise((r) => setImmediate(r));
    }
    // Without yielding (so no answer is read): wait until the thread has committed all five batches ...
    const count = store.db.prepare('SELECT COUNT(*) FROM events').pluck();
    const deadline = Date.now() + 5000;
    while ((count.get() as number) < 1000 && Date.now() < deadline)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    // ... then take them back as a dead thread's would be.
    (store.events as unknown as { onReply(r: { id: number; ok: boolean }): void }).onReply({ id: -1, ok: false });
    store.events.flush(); // the thread's own late answers are ignored
    expect(seqs(store)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(heard).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(store.events.givenBack).toBe(0);
    store.close();
  });

  it('commits a trickle on the main thread and starts the thread only at a burst, losing no order', async () => {
    // The daemon's setting (gateway.ts): the thread starts when a second's group commits reach this many rows.
    const store = openStore({ stateDir: tempDir(), gatewayId: 'gw', log, writerThread: 500 });
    const heard: number[] = [];
    store.events.onCommitted((events) => heard.push(...events.map((e) => e.seq)));
    for (let turn = 0; turn < 10; turn++) {
      for (let i = 0; i < 20; i++) store.events.record({ dev: `bay-${i}`, type: 'parking.occupancy', data: { i } });
      await new Promise((r) => setImmediate(r));
    }
    // 200 rows, each batch committed here and announced at once: no thread was needed.
    expect(heard).toHaveLength(200);
    expect(store.events.writerStarted).toBe(false);
    for (let i = 0; i < 600; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    await new Promise((r) => setImmediate(r));
    expect(store.events.writerStarted).toBe(true);
    await eventually(() => heard.length === 800, 5000, 'every event announced');
    expect(heard).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    expect(store.events.givenBack).toBe(0);
    expect(seqs(store)).toHaveLength(800);
    store.close();
  });

  it('keeps every event across a close and reopen in the same directory', async () => {
    const dir = tempDir();
    let store = threaded(dir);
    for (let i = 0; i < 500; i++) store.events.record({ dev: 'w', type: 'weather.reading', data: { i } });
    await new Promise((r) => setImmediate(r));
    store.close();
    store = threaded(dir);
    store.events.record({ dev: 'w', type: 'weather.reading', data: { i: 500 } });
    store.events.flush();
    expect(seqs(store)).toEqual(Array.from({ length: 501 }, (_, i) => i + 1));
    store.close();
  });
});
