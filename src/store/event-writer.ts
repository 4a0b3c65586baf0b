import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { CACHE_SIZE_PRAGMA } from './cache-size.js';

/**
 * The event log's writer thread: the group-commit INSERTs (events and outbox rows) run on a second core while the
 * main thread goes on decoding. On a Pi (four cores) and on the 2-core bench machine alike, SQLite was a quarter of
 * the main thread's time in a burst of uplinks.
 *
 * The main thread assigns seq, id and body, posts each batch, and learns of its commit from a reply, in order. It
 * can also wait for every posted batch synchronously (`settle`), which `flush`, `recordNow` and shutdown do, so
 * durable writes keep their place in seq order. Both threads write to the same database file, one at a time by
 * SQLite's lock. The one hazard of two writers, the main thread holding the write lock (inside an access
 * transaction) while it waits for the thread, is broken by a flag: the thread, finding the lock taken while the
 * main thread waits, gives its batch back instead of waiting, and gives back every later one until told to resume,
 * so the main thread writes them itself, in order, and no commit ever lands out of seq order.
 */

/** The two INSERTs of a committed event, the same on either thread. */
export const INSERT_EVENT_SQL = 'INSERT INTO events (seq, id, dev, type, ts, body) VALUES (?, ?, ?, ?, ?, ?)';
export const INSERT_OUTBOX_SQL = 'INSERT INTO outbox (seq, lane) VALUES (?, ?)';
/** Acknowledged outbox rows, deleted in the commit that follows their PUBACK (outbox.ts). */
export const DELETE_OUTBOX_SQL = 'DELETE FROM outbox WHERE lane = ? AND seq BETWEEN ? AND ?';

/** Acknowledged outbox rows to delete: every row of `lane` with seq in [first, last]. */
export type WriterDelete = [lane: number, first: number, last: number];

/** One event row, with its outbox lane code or -1 for a local-only event. */
export type WriterRow = [seq: number, id: string, dev: string, type: string, ts: string, body: string, lane: number];

export interface WriterReply {
  id: number;
  ok: boolean;
  /** Why the batch was given back: the thread's error message (`busy` when the lock was held). */
  error?: string;
}

type WriterMessage =
  | { kind: 'batch'; id: number; rows: WriterRow[]; deletes: WriterDelete[] }
  | { kind: 'resume' }
  | { kind: 'close' };

/** Slots of the shared Int32Array. */
const DONE = 0;
const MAIN_WAITING = 1;
const CLOSED = 2;

/** ms `settle` and `close` wait for the thread before giving up on it */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * The thread's body. It runs as an evaluated script (no import of this module's TypeScript or dist path), so it
 * must use nothing from outside the function but what `req` loads.
 */
function writerThread(req: NodeJS.Require): void {
  const threads = req('node:worker_threads') as typeof import('node:worker_threads');
  const data = threads.workerData as {
    sqlite: string;
    path: string;
    port: MessagePort;
    shared: SharedArrayBuffer;
    sql: { event: string; outbox: string; ack: string };
    synchronous: string;
    cache: string;
  };
  const Database = req(data.sqlite) as typeof import('better-sqlite3');
  const shared = new Int32Array(data.shared);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const db = new Database(data.path);
  db.pragma(`synchronous = ${data.synchronous}`);
  db.pragma(data.cache);
  // Busy waits are ours: a lock held while the main thread waits for us is answered by giving the batch back.
  db.pragma('busy_timeout = 0');
  const insertEvent = db.prepare(data.sql.event);
  const insertOutbox = db.prepare(data.sql.outbox);
  const deleteOutbox = db.prepare(data.sql.ack);
  const write = db.transaction((rows: WriterRow[], deletes: WriterDelete[]) => {
    for (const r of rows) {
      insertEvent.run(r[0], r[1], r[2], r[3], r[4], r[5]);
      if (r[6] >= 0) insertOutbox.run(r[0], r[6]);
    }
    for (const d of deletes) deleteOutbox.run(d[0], d[1], d[2]);
  });
  let stopped = false;
  const answer = (reply: WriterReply): void => {
    data.port.postMessage(reply);
    Atomics.add(shared, 0, 1);
    Atomics.notify(shared, 0);
  };
  data.port.on('message', (m: WriterMessage) => {
    if (m.kind === 'close') {
      db.close();
      data.port.close();
      Atomics.store(shared, 2, 1);
      Atomics.notify(shared, 2);
      return;
    }
    if (m.kind === 'resume') {
      stopped = false;
      return;
    }
    if (stopped) {
      answer({ id: m.id, ok: false, error: 'after an earlier batch was given back' });
      return;
    }
    for (;;) {
      try {
        write.immediate(m.rows, m.deletes);
        answer({ id: m.id, ok: true });
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
        if (busy && Atomics.load(shared, 1) === 0) {
          Atomics.wait(nap, 0, 0, 1);
          continue;
        }
        stopped = true;
        answer({ id: m.id, ok: false, error: busy ? 'busy' : String((err as Error).message) });
        return;
      }
    }
  });
}

/**
 * Rows of group commits within one second from which the daemon starts its writer thread: a burst (a backlog of
 * uplinks after a broker outage, a bench), two full commit windows in a second; not a town's steady 100 uplinks a
 * second, whose commit (one per commit window) takes the main thread a few ms. Until then every batch is committed
 * on the main thread and the thread's isolate (about 10 MiB of RSS: docs/architecture.md, Memory) is never made.
 */
export const WRITER_START_ROWS_PER_S = 2000;

export class EventWriter {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly shared = new Int32Array(new SharedArrayBuffer(12));
  private posted = 0;
  private closed = false;
  /** Rows asked about by `takes` since `since` (performance.now()), in buckets of a second. */
  private recent = 0;
  private since = performance.now();

  /**
   * `onReply` gets every reply, in batch order, whether it arrives by itself or through `settle`. `synchronous`: the
   * thread's safety level, FULL when its commits must survive a power cut (a commit window). `startAt`: rows within
   * a second from which the thread is started (0: at the first batch); `takes` starts it, once, and from then on it
   * takes every batch until it is closed.
   */
  constructor(
    private readonly path: string,
    private readonly onReply: (reply: WriterReply) => void,
    private readonly synchronous: 'FULL' | 'NORMAL' = 'NORMAL',
    private readonly startAt = 0,
  ) {}

  /**
   * Whether the thread takes a batch of `rows` (the caller commits it itself otherwise): yes once it runs; before
   * that, when this batch brings the rows of the current second to `startAt`, which starts it.
   */
  takes(rows: number): boolean {
    if (this.worker) return true;
    if (this.closed) return false;
    const now = performance.now();
    if (now - this.since >= 1000) {
      this.since = now;
      this.recent = 0;
    }
    this.recent += rows;
    if (this.recent < this.startAt) return false;
    this.start();
    return true;
  }

  private start(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(`(${writerThread.toString()})(require)`, {
      eval: true,
      workerData: {
        sqlite,
        path: this.path,
        port: port2,
        shared: this.shared.buffer,
        sql: { event: INSERT_EVENT_SQL, outbox: INSERT_OUTBOX_SQL, ack: DELETE_OUTBOX_SQL },
        synchronous: this.synchronous,
        cache: CACHE_SIZE_PRAGMA,
      },
      transferList: [port2],
    });
    this.worker.on('error', (err) => this.lost(`writer thread failed: ${err.message}`));
    this.worker.on('exit', (code) => this.lost(`writer thread exited (${code})`));
    this.port.on('message', (reply: WriterReply) => this.onReply(reply));
    // An idle writer must not keep the process alive; the store closes it.
    this.port.unref();
    this.worker.unref();
  }

  /** Whether the thread has been started (by a burst). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Batches posted and not yet answered. */
  get outstanding(): number {
    return this.posted - Atomics.load(this.shared, DONE);
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** Post a batch the thread `takes`. */
  post(id: number, rows: WriterRow[], deletes: WriterDelete[] = []): void {
    if (!this.port) throw new Error('post before the writer thread was started (ask takes first)');
    this.posted++;
    this.port.postMessage({ kind: 'batch', id, rows, deletes } satisfies WriterMessage);
  }

  /** Let the thread take batches again after it gave one back. */
  resume(): void {
    this.port?.postMessage({ kind: 'resume' } satisfies WriterMessage);
  }

  /** Block until every posted batch is answered, delivering the replies (in order) before returning. */
  settle(): void {
    const port = this.port;
    if (!port) return;
    if (this.outstanding > 0 && !this.closed) {
      Atomics.store(this.shared, MAIN_WAITING, 1);
      try {
        const deadline = Date.now() + SETTLE_TIMEOUT_MS;
        for (;;) {
          const done = Atomics.load(this.shared, DONE);
          if (done >= this.posted) break;
          const left = deadline - Date.now();
          if (left <= 0) {
            this.closed = true;
            break;
          }
          Atomics.wait(this.shared, DONE, done, left);
        }
      } finally {
        Atomics.store(this.shared, MAIN_WAITING, 0);
      }
    }
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      this.onReply(m.message as WriterReply);
    }
    if (this.closed) this.failAll('writer thread did not answer');
  }

  /** Settle, then stop the thread and close its connection (synchronously, so the store can close after). */
  close(): void {
    this.settle();
    const { port, worker } = this;
    if (!port || !worker) {
      this.closed = true;
      return;
    }
    if (!this.closed) {
      this.closed = true;
      port.postMessage({ kind: 'close' } satisfies WriterMessage);
      Atomics.wait(this.shared, CLOSED, 0, SETTLE_TIMEOUT_MS);
    }
    port.close();
    void worker.terminate();
  }

  /** The thread died or exited unasked: every batch it had not answered comes back to be written here. */
  private lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(why);
  }

  /** Answer every outstanding batch as given back (the thread can no longer be relied on). */
  private failAll(error: string): void {
    // Answers already sent come first, in order.
    const port = this.port;
    for (let m = port && receiveMessageOnPort(port); m; m = port && receiveMessageOnPort(port)) {
      this.onReply(m.message as WriterReply);
    }
    const pending = this.posted - Atomics.load(this.shared, DONE);
    if (pending <= 0) return;
    Atomics.add(this.shared, DONE, pending);
    this.onReply({ id: -1, ok: false, error });
  }
}
