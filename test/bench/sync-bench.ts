import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { cloudSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { CloudSync } from '../../src/sync/service.js';
import { eventually } from '../helpers/eventually.js';
import { type Broker, freePort, startMosquitto, stopProcess } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import type { BenchRow } from './types.js';

/** Events in the backlog (a week offline in a busy town); PORTIER_BENCH_SYNC_EVENTS overrides for a quick run. */
const N = Number(process.env.PORTIER_BENCH_SYNC_EVENTS ?? 1_000_000);
const GW = 'bench-gw';

/** A weather reading as the drivers record them (the commonest event in a backlog). */
const READING = {
  temperature_c: 12.3,
  humidity_pct: 78,
  pressure_hpa: 1015.4,
  wind_speed_ms: 1.8,
  wind_dir_deg: 355,
  rain_mm: 22.2,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Cloud sync drain: a backlog of N events in the SQLite outbox drained to a real mosquitto ("the cloud", B) by
 * the uplink, next to a mosquitto bridge forwarding N messages of the same size from a second mosquitto (A, "the
 * edge") to the same B after the same kind of outage: the bridge's queue filled while B was down, then B back.
 * Both rates are measured the same way, at a mosquitto_sub on B: N / (last arrival - first arrival). Also the
 * backlog's disk use (database pages) against its payload bytes.
 */
export async function syncBench(): Promise<BenchRow[]> {
  const portB = await freePort();
  const persistDir = join(tempDir('portier-bench-b-'), 'p');
  mkdirSync(persistDir);
  // mosquitto drops root privileges to its own user; it must be able to write its persistence file.
  chmodSync(persistDir, 0o777);
  const brokerB = await startMosquitto({
    port: portB,
    extraConfig: [
      `listener ${portB} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${persistDir}/`,
      'autosave_interval 0',
    ],
  });
  let brokerA: Broker | undefined;
  try {
    const uplink = await uplinkDrain(brokerB);
    brokerA = await startBridgeBroker(portB);
    const bridge = await bridgeDrain(brokerA, brokerB);
    return [
      {
        name: `cloud uplink: ${N.toLocaleString('en-US')}-event backlog drained to mosquitto (QoS 1, PUBACK-deleted)`,
        value: Math.round(uplink.rate),
        unit: 'events/s',
        reference: { name: 'mosquitto bridge A→B, same count, same brokers', value: Math.round(bridge), unit: 'msg/s' },
        target: '>= the bridge',
        ok: uplink.rate >= bridge,
      },
      {
        name: 'cloud uplink: backlog disk use / payload bytes',
        value: Math.round(uplink.diskRatio * 100) / 100,
        unit: '×',
        reference: { name: 'payload bytes (sum of event JSON)', value: uplink.payloadBytes, unit: 'B' },
        target: '<= 2',
        ok: uplink.diskRatio <= 2,
      },
      {
        name: 'cloud uplink: backlog written through the event log',
        value: Math.round(uplink.insertRate),
        unit: 'events/s',
      },
    ];
  } finally {
    await brokerA?.stop();
    await brokerB.stop();
  }
}

interface UplinkResult {
  rate: number;
  insertRate: number;
  diskRatio: number;
  payloadBytes: number;
}

async function uplinkDrain(brokerB: Broker): Promise<UplinkResult> {
  const store = openStore({
    stateDir: tempDir(),
    gatewayId: GW,
    log: silentLogger(),
    clock: { trustSystemClock: true },
  });
  const config = cloudSchema.parse({ url: brokerB.url, disk_budget_bytes: 16 * 1024 ** 3, reconnect_min_ms: 50 });
  const sync = new CloudSync({ config, gatewayId: GW, store, log: silentLogger() });
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    store.events.record({ dev: `weather-${i % 20}`, type: 'weather.reading', data: READING });
    if (i % 2000 === 1999) await new Promise((r) => setImmediate(r));
  }
  store.events.flush();
  const insertRate = N / ((performance.now() - t) / 1000);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = store.db.pragma('page_size', { simple: true }) as number;
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  const payloadBytes = (
    store.db.prepare('SELECT SUM(octet_length(e.body)) AS b FROM outbox o JOIN events e ON e.seq = o.seq').get() as {
      b: number;
    }
  ).b;
  const diskRatio = (pages * pageSize) / payloadBytes;

  const sub = await subscriber(brokerB, `portier/${GW}/up/events`, 'bench-uplink-sub');
  t = performance.now();
  sync.start();
  const deadline = Date.now() + 15 * 60_000;
  while (!(sync.uplink.idle() && sub.times.length >= sync.uplink.counters.batchesAcked)) {
    if (Date.now() > deadline) throw new Error(`uplink drain stalled at ${sync.uplink.counters.eventsAcked}`);
    await sleep(50);
  }
  await sync.stop();
  store.close();
  await sub.stop();
  const acked = sync.uplink.counters.eventsAcked;
  if (acked !== N) throw new Error(`uplink acknowledged ${acked} of ${N}`);
  return { rate: N / sub.span(), insertRate, diskRatio, payloadBytes };
}

/** Edge broker A with a QoS 1 bridge of `bench/#` to B. */
async function startBridgeBroker(portB: number): Promise<Broker> {
  const portA = await freePort();
  return startMosquitto({
    port: portA,
    extraConfig: [
      `listener ${portA} 127.0.0.1`,
      'allow_anonymous true',
      'connection bench-bridge',
      `address 127.0.0.1:${portB}`,
      'topic bench/# out 1',
      'cleansession false',
      'restart_timeout 1',
    ],
  });
}

async function bridgeDrain(brokerA: Broker, brokerB: Broker): Promise<number> {
  // The subscriber's persistent session on B, so nothing forwarded before it reconnects is lost.
  const first = await subscriber(brokerB, 'bench/x', 'bench-bridge-sub');
  await first.stop();
  // The bridge must have been up once: mosquitto queues for a bridge only after it has connected.
  await eventually(async () => (await probeBridge(brokerA, brokerB)) === true, 20_000);
  await brokerB.stop();
  const body = JSON.stringify({
    id: '01JZZZZZZZZZZZZZZZZZZZZZZZ',
    seq: 1_000_000,
    gw: GW,
    dev: 'weather-1',
    type: 'weather.reading',
    ts: new Date().toISOString(),
    tq: 'synced',
    data: READING,
  });
  await publishMany(brokerA.url, 'bench/x', body, N);
  await brokerB.restart();
  const sub = await subscriber(brokerB, 'bench/x', 'bench-bridge-sub', false);
  const deadline = Date.now() + 15 * 60_000;
  while (sub.times.length < N) {
    if (Date.now() > deadline) throw new Error(`bridge forwarded only ${sub.times.length} of ${N}`);
    await sleep(50);
  }
  await sub.stop();
  return N / sub.span();
}

/** True once a message published on A arrives at B through the bridge. */
async function probeBridge(brokerA: Broker, brokerB: Broker): Promise<boolean> {
  const b = connect(brokerB.url, { reconnectPeriod: 0 });
  const a = connect(brokerA.url, { reconnectPeriod: 0 });
  try {
    await Promise.all([once(b, 'connect'), once(a, 'connect')]);
    await b.subscribeAsync('bench/probe', { qos: 1 });
    const got = new Promise<boolean>((resolve) => {
      b.on('message', () => resolve(true));
      setTimeout(() => resolve(false), 1500);
    });
    await a.publishAsync('bench/probe', 'probe', { qos: 1 });
    return await got;
  } finally {
    a.end(true);
    b.end(true);
  }
}

async function publishMany(url: string, topic: string, body: string, count: number): Promise<void> {
  const client = connect(url, { reconnectPeriod: 0 });
  await once(client, 'connect');
  let inflight = 0;
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (inflight < 500 && sent < count) {
        inflight++;
        sent++;
        client.publish(topic, body, { qos: 1 }, (err) => {
          if (err) return reject(err);
          inflight--;
          acked++;
          if (acked === count) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await client.endAsync();
}

interface Subscriber {
  /** Arrival time of each message, unix s (mosquitto_sub's own clock, with ns). */
  times: number[];
  /** s from the first arrival to the last */
  span(): number;
  stop(): Promise<void>;
}

/** A mosquitto_sub (C, persistent session, QoS 1) that prints only the arrival time of each message. */
async function subscriber(broker: Broker, topic: string, id: string, probeFirst = true): Promise<Subscriber> {
  const proc: ChildProcess = spawn(
    'mosquitto_sub',
    ['-h', '127.0.0.1', '-p', String(broker.port), '-t', topic, '-q', '1', '-i', id, '-c', '-F', '%U'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const times: number[] = [];
  let rest = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l) times.push(Number(l));
  });
  if (!probeFirst) return handle(times, proc);
  // Subscribed once a probe published to its topic arrives; the probe's arrival is then forgotten.
  const probe = connect(broker.url, { reconnectPeriod: 0 });
  await once(probe, 'connect');
  const deadline = Date.now() + 20_000;
  while (times.length === 0) {
    if (Date.now() > deadline) throw new Error(`mosquitto_sub on ${topic} never received its probe`);
    await probe.publishAsync(topic, 'probe', { qos: 1 });
    await sleep(200);
  }
  await sleep(200);
  times.length = 0;
  probe.end(true);
  return handle(times, proc);
}

function handle(times: number[], proc: ChildProcess): Subscriber {
  return {
    times,
    span: () => Math.max(1e-6, (times.at(-1) ?? 0) - (times[0] ?? 0)),
    stop: () => stopProcess(proc),
  };
}

function once(client: MqttClient, event: 'connect'): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once(event, () => resolve());
    client.once('error', reject);
  });
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('sync-bench.js') || invoked.endsWith('sync-bench.ts')) {
  syncBench().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`sync bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
