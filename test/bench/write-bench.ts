import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import mqtt from 'mqtt';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { packageRoot } from '../../src/core/package-root.js';
import { DB_FILE } from '../../src/store/database.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import type { BenchRow } from './types.js';

/** Seconds measured at each rate (after a warm-up); PORTIER_BENCH_WRITES_SECONDS overrides for a quick run. */
const SECONDS = Number(process.env.PORTIER_BENCH_WRITES_SECONDS ?? 120);
/**
 * Seconds of the same stream before the measurement starts (start-up writes, first checkpoint, cloud connect), and
 * at least until every bay has sent its first uplink plus 5 s: a bay's first uplink is its `device.health` up, which
 * closes the commit window at once (a start-up event a steady town does not have; at 1/s the 20 bays take 20 s).
 */
const WARMUP_S = Number(process.env.PORTIER_BENCH_WRITES_WARMUP ?? 15);
const BAYS = 20;
/** The built CLI, as systemd runs it. */
const BIN = join(packageRoot(), 'dist', 'src', 'cli', 'bin.js');
/**
 * The reference's CLI: PORTIER_BENCH_WRITES_BASELINE_BIN names the built CLI of a checkout from before issue 14
 * (docs/benchmarks.md, pinned baseline); without it, this build with `commit_window_ms: 0` on a 4 KiB-page database.
 */
const BASELINE_BIN = process.env.PORTIER_BENCH_WRITES_BASELINE_BIN;
const GW = 'write-bench-gw';
/** Issue 14's bytes per event: at most 3 KB at 1 event/s and 1.5 KB at 10 events/s. */
const TARGETS: Record<number, number> = { 1: 3000, 10: 1500 };

/**
 * Bytes the daemon makes the disk write per event: `portier run` with 20 ChirpStack bays (real mosquitto as local
 * broker, a second one as the town's cloud, every event acknowledged there), fed a steady stream of uplinks at 1 and
 * 10 per second. `write_bytes` of /proc/<pid>/io counts every byte the process (its event writer thread included)
 * dirtied in the page cache of a real file system, i.e. what reaches the SD card sooner or later: WAL frames,
 * checkpoints, the outbox's deletes. Divided by the events committed meanwhile (the log's seq).
 *
 * The reference is the same daemon with `gateway.commit_window_ms: 0` (every turn of the event loop commits, acks
 * deleted as they come: the mechanism before issue 14), in the same run.
 */
export async function writeBench(): Promise<BenchRow[]> {
  const local = await startMosquitto();
  const cloud = await startMosquitto();
  try {
    const rows: BenchRow[] = [];
    // PORTIER_BENCH_WRITES_RATES (e.g. "1") measures only some of the rates.
    const rates = (process.env.PORTIER_BENCH_WRITES_RATES ?? '1,10').split(',').map(Number);
    for (const rate of rates) {
      const before = BASELINE_BIN
        ? await measure(local, cloud, rate, {}, BASELINE_BIN)
        : await measure(local, cloud, rate, { commit_window_ms: 0 });
      const now = await measure(local, cloud, rate, {});
      process.stdout.write(
        `  ${rate}/s: ${Math.round(now.perEvent)} B/event (${now.events} events), before ${Math.round(before.perEvent)} B/event (${before.events} events)\n`,
      );
      rows.push({
        name: `bytes written per event at ${rate} event${rate > 1 ? 's' : ''}/s, 20 ChirpStack bays, cloud up (${SECONDS} s)`,
        value: Math.round(now.perEvent),
        unit: 'B',
        reference: {
          name: BASELINE_BIN
            ? `the build before issue 14 (${BASELINE_BIN}), same run`
            : 'commit_window_ms: 0 (a commit per turn; deletes still batched, 1 KiB pages), same run',
          value: Math.round(before.perEvent),
          unit: 'B',
        },
        target: `<= ${TARGETS[rate]} B`,
        ok: now.perEvent <= TARGETS[rate]!,
      });
    }
    return rows;
  } finally {
    await cloud.stop();
    await local.stop();
  }
}

/** One daemon on a fresh state dir, fed `rate` uplinks/s: write_bytes per committed event after the warm-up. */
async function measure(
  local: Broker,
  cloud: Broker,
  rate: number,
  gateway: Record<string, number>,
  bin = BIN,
): Promise<{ perEvent: number; events: number }> {
  const dir = tempDir('portier-bench-writes-');
  const stateDir = join(dir, 'state');
  const euis = Array.from({ length: BAYS }, (_, i) => `70b3d5e75e03${i.toString(16).padStart(4, '0')}`);
  const extra = Object.entries(gateway)
    .map(([k, v]) => `, ${k}: ${v}`)
    .join('');
  const configPath = join(dir, 'portier.yaml');
  writeFileSync(
    configPath,
    `version: 1
gateway: { id: ${GW}, state_dir: ${stateDir}, trust_system_clock: true${extra} }
log: { level: info }
local_mqtt: { url: "${local.url}" }
cloud: { url: "${cloud.url}" }
devices:
${euis.map((eui, i) => `  - { id: bay-${i}, driver: chirpstack-parking, dev_eui: ${eui}, codec: nwave-nps405 }`).join('\n')}
`,
  );
  // The cloud side: a subscriber that takes every batch (QoS 1), so the outbox drains as in a town.
  const sink = await mqtt.connectAsync(cloud.url, { clientId: `write-bench-cloud-${process.pid}-${rate}` });
  await sink.subscribeAsync(`portier/${GW}/up/#`, { qos: 1 });
  // As systemd gives it on a Pi (RuntimeDirectory=portier, /run is a tmpfs): the crash journal off the disk measured.
  const runtimeDir = mkdtempSync('/dev/shm/portier-bench-run-');
  const daemon = spawn(process.execPath, [bin, 'run', '--config', configPath], {
    env: { ...process.env, PORTIER_ADMIN_LISTEN: '127.0.0.1:0', RUNTIME_DIRECTORY: runtimeDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => daemon.once('close', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    let text = '';
    daemon.stdout!.on('data', (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-100_000);
      if (text.includes('"msg":"gateway ready"')) resolve();
    });
    void exited.then(() => reject(new Error('the daemon exited before it was ready')));
  });
  const pub = await mqtt.connectAsync(local.url, { clientId: `write-bench-chirpstack-${process.pid}-${rate}` });
  let timer: NodeJS.Timeout | undefined;
  try {
    await ready;
    const stubs = euis.map((devEui) => new ChirpstackSensorStub({ brokerUrl: local.url, devEui }));
    let n = 0;
    // A steady stream: one uplink every 1000/rate ms, round-robin over the bays, each flipping the bay's state.
    timer = setInterval(() => {
      const stub = stubs[n % BAYS]!;
      const body = stub.uplinkEvent(1, nps405Status(Math.floor(n / BAYS) % 2 === 0, 12));
      n++;
      pub.publish(stub.topic, JSON.stringify(body), { qos: 1 });
    }, 1000 / rate);
    await new Promise((r) => setTimeout(r, Math.max(WARMUP_S, BAYS / rate + 5) * 1000));
    const db = join(stateDir, DB_FILE);
    const seq0 = lastSeq(db);
    const bytes0 = writeBytes(daemon.pid!);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const bytes1 = writeBytes(daemon.pid!);
    const seq1 = lastSeq(db);
    const events = seq1 - seq0;
    if (events < rate * SECONDS * 0.9) throw new Error(`only ${events} events committed at ${rate}/s`);
    return { perEvent: (bytes1 - bytes0) / events, events };
  } finally {
    clearInterval(timer);
    await pub.endAsync();
    daemon.kill('SIGTERM');
    await exited;
    await sink.endAsync();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}

/** `write_bytes` of /proc/<pid>/io: bytes the process caused to be written to storage (all its threads). */
function writeBytes(pid: number): number {
  const m = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no write_bytes in /proc/${pid}/io`);
  return Number(m[1]);
}

/** The highest committed seq, read by another connection (committed = visible to a reader in WAL mode). */
function lastSeq(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0;
  } finally {
    db.close();
  }
}
