import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { CACHE_SIZE_PRAGMA } from './cache-size.js';

/**
 * Run one read-only query on a thread of its own, with its own connection to the database file: for the reads that
 * scale with the database (an integrity check, counting a week's backlog), which must not hold up the start or the
 * doors' decisions. In WAL mode the reader sees one consistent snapshot while the gateway keeps writing.
 */
export function backgroundQuery<T>(path: string, sql: string, params: readonly unknown[] = []): Promise<T[]> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise<T[]>((resolve, reject) => {
    const worker = new Worker(`(${queryThread.toString()})(require)`, {
      eval: true,
      workerData: { sqlite, path, sql, params, cache: CACHE_SIZE_PRAGMA },
    });
    let settled = false;
    worker.once('message', (m: { rows?: T[]; error?: string }) => {
      settled = true;
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.rows ?? []);
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`background query thread exited (${code})`));
    });
    // A query still running at shutdown must not keep the process alive.
    worker.unref();
  });
}

/** The thread's body: evaluated as a script, so it uses nothing but what `req` loads. */
function queryThread(req: NodeJS.Require): void {
  const threads = req('node:worker_threads') as typeof import('node:worker_threads');
  const data = threads.workerData as { sqlite: string; path: string; sql: string; params: unknown[]; cache: string };
  const Database = req(data.sqlite) as typeof import('better-sqlite3');
  try {
    const db = new Database(data.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma(data.cache);
      const rows = db.prepare(data.sql).all(...data.params);
      threads.parentPort?.postMessage({ rows });
    } finally {
      db.close();
    }
  } catch (err) {
    threads.parentPort?.postMessage({ error: String((err as Error).message ?? err) });
  }
}
