import { spawn } from 'node:child_process';
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../../src/core/logger.js';
import { packageRoot } from '../../src/core/package-root.js';
import { DB_FILE } from '../../src/store/database.js';
import { LANE_CODES } from '../../src/store/event-log.js';
import { openStore } from '../../src/store/store.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import type { BenchRow } from './types.js';

/** Undelivered events in the backlog (a week offline); PORTIER_BENCH_START_EVENTS overrides for a quick run. */
const N = Number(process.env.PORTIER_BENCH_START_EVENTS ?? 1_000_000);
/** Runs of each side; the median is reported. */
const RUNS = Number(process.env.PORTIER_BENCH_START_RUNS ?? 5);
const GW = 'bench-gw';
/** The built CLI, as systemd runs it. */
const BIN = join(packageRoot(), 'dist', 'src', 'cli', 'bin.js');
/** ms, the bound: doors back within 1.5 s of a power cut, whatever the backlog. */
const TARGET_MS = 1500;

const dgram = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram', listener: (msg: Buffer) => void): { bind(path: string): void; close(): void };
};

/**
 * Start to READY: the daemon as systemd starts it (`portier run`, Type=notify), from spawn to its `READY=1` on a
 * real notify socket, with a week's backlog of undelivered events in the database next to an empty database.
 * Each run starts from a fresh copy of the database file, as a power cut leaves it; the cloud broker is up.
 */
export async function startBench(): Promise<BenchRow[]> {
  const dir = tempDir('portier-bench-start-');
  const cloud = await startMosquitto();
  try {
    const emptyDb = join(dir, 'empty.db');
    const backlogDb = join(dir, 'backlog.db');
    makeDatabase(emptyDb, 0);
    makeDatabase(backlogDb, N);
    const mib = statSync(backlogDb).size / 2 ** 20;
    const empty: number[] = [];
    const backlog: number[] = [];
    // Alternating, so a slow moment of the machine falls on both sides alike.
    for (let i = 0; i < RUNS; i++) {
      empty.push(await startToReady(emptyDb, cloud.url));
      backlog.push(await startToReady(backlogDb, cloud.url));
    }
    process.stdout.write(
      `  start to READY, ms: empty ${empty.map(Math.round).join(' ')}; backlog ${backlog.map(Math.round).join(' ')}\n`,
    );
    const e = median(empty);
    const b = median(backlog);
    return [
      {
        name: `daemon start to READY=1, ${N.toLocaleString('en-US')} undelivered events (${Math.round(mib)} MiB), median of ${RUNS}`,
        value: Math.round(b),
        unit: 'ms',
        reference: { name: `empty database, same runs`, value: Math.round(e), unit: 'ms' },
        target: `<= ${TARGET_MS} ms`,
        ok: b <= TARGET_MS,
      },
    ];
  } finally {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A gateway database with `n` undelivered weather readings (events + outbox rows), checkpointed into one file. */
export function makeDatabase(file: string, n: number): void {
  const stateDir = tempDir('portier-bench-state-');
  openStore({ stateDir, gatewayId: GW, log: silentLogger() }).close();
  const db = new BetterSqlite3(join(stateDir, DB_FILE));
  const epoch = db.prepare("SELECT value FROM meta WHERE key = 'log_epoch'").pluck().get() as string;
  const insertEvent = db.prepare('INSERT INTO events (seq, id, dev, type, ts, body) VALUES (?, ?, ?, ?, ?, ?)');
  const insertOutbox = db.prepare('INSERT INTO outbox (seq, lane) VALUES (?, ?)');
  const start = Date.parse('2026-11-20T00:00:00Z');
  const lane = LANE_CODES.telemetry;
  db.transaction(() => {
    for (let seq = 1; seq <= n; seq++) {
      const ts = new Date(start + seq * 600).toISOString();
      // 26 characters like a ULID, unique and increasing.
      const id = `01JB${seq.toString(32).toUpperCase().padStart(22, '0')}`;
      const dev = `weather-${seq % 20}`;
      const body = JSON.stringify({
        id,
        seq,
        epoch,
        gw: GW,
        dev,
        type: 'weather.reading',
        ts,
        tq: 'synced',
        data: {
          temperature_c: 12.3,
          humidity_pct: 78,
          pressure_hpa: 1015.4,
          wind_speed_ms: 1.8,
          wind_gust_ms: 3.1,
          wind_dir_deg: 355,
          rain_mm: 22.2,
          rain_rate_mm_h: 0.4,
          dew_point_c: 8.6,
          battery_ok: true,
        },
      });
      insertEvent.run(seq, id, dev, 'weather.reading', ts, body);
      insertOutbox.run(seq, lane);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  copyFileSync(join(stateDir, DB_FILE), file);
  rmSync(stateDir, { recursive: true, force: true });
}

/** ms from spawning `portier run` on a copy of `dbFile` to its READY=1; then stopped with SIGTERM. */
async function startToReady(dbFile: string, cloudUrl: string): Promise<number> {
  const run = tempDir('portier-bench-run-');
  const stateDir = join(run, 'state');
  const gpioDir = join(run, 'gpio');
  mkdirSync(stateDir);
  mkdirSync(gpioDir);
  copyFileSync(dbFile, join(stateDir, DB_FILE));
  // On disk, as a power cut leaves it: no writeback of the copy competes with the start.
  const fd = openSync(join(stateDir, DB_FILE), 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const configPath = join(run, 'portier.yaml');
  writeFileSync(
    configPath,
    `version: 1
gateway: { id: ${GW}, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: warn }
gpio: { backend: sim, sim_dir: ${gpioDir} }
cloud: { url: "${cloudUrl}", disk_budget_bytes: 17179869184 }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17, contact_pin: 27 }
`,
  );
  const socketPath = join(run, 'notify.sock');
  let ready: () => void = () => {};
  const readyP = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const server = dgram.createSocket('unix_dgram', (msg) => {
    if (msg.toString('utf8').split('\n').includes('READY=1')) ready();
  });
  server.bind(socketPath);
  const t0 = performance.now();
  const child = spawn(process.execPath, [BIN, 'run', '--config', configPath], {
    env: { ...process.env, NOTIFY_SOCKET: socketPath, PORTIER_ADMIN_LISTEN: '127.0.0.1:0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    const first = await Promise.race([readyP.then(() => 'ready' as const), exited.then(() => 'exit' as const)]);
    if (first === 'exit') throw new Error('the daemon exited before READY=1');
    return performance.now() - t0;
  } finally {
    child.kill('SIGTERM');
    await exited;
    server.close();
    rmSync(run, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
