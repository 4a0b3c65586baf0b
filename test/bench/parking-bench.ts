import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransportFactories } from '../../src/app/gateway.js';
import type { PortierEvent } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/logger.js';
import { packageRoot } from '../../src/core/package-root.js';
import { LocalPublisher } from '../../src/sync/local.js';
import { defaultTransports } from '../../src/transports/index.js';
import { createMqttLink } from '../../src/transports/mqtt.js';
import { startTestGateway } from '../helpers/gateway.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { deviceEntries, SENSORS, sensors } from './parking-stream.js';
import type { BenchRow } from './types.js';

/** Uplinks in the stream; PORTIER_BENCH_PARKING_UPLINKS overrides for a quick run. */
const N = Number(process.env.PORTIER_BENCH_PARKING_UPLINKS ?? 100_000);
/** Runs of each side; PORTIER_BENCH_PARKING_RUNS overrides. */
const RUNS = Number(process.env.PORTIER_BENCH_PARKING_RUNS ?? 3);
/** ms the stream may take to arrive before the run is declared failed */
const TIMEOUT_MS = 180_000;

/** Spawn the publisher process (compiled JS under dist/, TypeScript through the test hooks otherwise). */
function publisher(url: string, qos: 0 | 1 = 0): ChildProcess {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const script = self.replace(/parking-bench\.(ts|js)$/, `parking-publisher.${ts ? 'ts' : 'js'}`);
  const hooks = fileURLToPath(new URL('../integration/transports/helpers/ts-register.mjs', import.meta.url));
  const args = ts ? ['--import', hooks, script] : [script];
  return spawn(process.execPath, [...args, url, String(N), String(SENSORS), String(qos)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function finished(proc: ChildProcess, what: string): Promise<void> {
  if (proc.exitCode !== null) {
    if (proc.exitCode !== 0) throw new Error(`${what} exited with ${proc.exitCode}`);
    return;
  }
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
}

/** The reference: a plain mosquitto_sub on the same filters, counting messages as they arrive. */
async function mosquittoSubRate(broker: Broker): Promise<number> {
  // Line-buffered, as mosquitto_sub is on a terminal: fully buffered into a pipe, its "Subscribed" line and the
  // arrival times would reach us only in 4 KiB lumps.
  const sub = spawn(
    'stdbuf',
    ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(broker.port), '-d', '-F', '.', '-C', String(N)].concat([
      '-t',
      'application/+/device/+/event/up',
      '-t',
      'v3/+/devices/+/up',
    ]),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let subscribed: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  let seen = 0;
  let first = 0;
  let last = 0;
  let tail = '';
  sub.stdout!.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const text = tail + chunk.toString('latin1');
    const lines = text.split('\n');
    tail = lines.pop() ?? '';
    for (const l of lines) {
      if (l === '.') {
        if (seen === 0) first = now;
        seen++;
        last = now;
      } else if (l.startsWith('Subscribed')) subscribed();
    }
  });
  await ready;
  const pub = publisher(broker.url);
  pub.stdout!.resume();
  const timer = setTimeout(() => sub.kill('SIGTERM'), TIMEOUT_MS);
  await finished(pub, 'publisher');
  // mosquitto_sub exits by itself after N messages, possibly before the publisher has exited.
  if (sub.exitCode === null && sub.signalCode === null) await new Promise((resolve) => sub.once('exit', resolve));
  clearTimeout(timer);
  if (seen !== N) throw new Error(`mosquitto_sub received ${seen} of ${N} messages`);
  return (N - 1) / ((last - first) / 1000);
}

/** The figure: the same stream into a real gateway, timed from the first commit to the commit of the last event. */
async function gatewayRate(
  broker: Broker,
  opts: { qos: 0 | 1; ackGate: boolean } = { qos: 0, ackGate: true },
): Promise<{ rate: number; outbox: number; events: number }> {
  const list = sensors(SENSORS);
  const { gateway } = await startTestGateway({
    dir: tempDir('portier-parking-bench-'),
    brokerUrl: broker.url,
    devices: [...deviceEntries(list), { id: 'bench-zone', driver: 'parking-zone', settings: { capacity: SENSORS } }],
    ...(opts.ackGate ? {} : { transports: withoutAckGate }),
    // As the daemon runs by default (the commit window of issue 14); PORTIER_BENCH_COMMIT_WINDOW_MS overrides.
    commitWindowMs: Number(process.env.PORTIER_BENCH_COMMIT_WINDOW_MS ?? 8000),
  });
  try {
    await waitUp(gateway.mqtt().state === 'up', () => gateway.mqtt().state === 'up');
    let occupancy = 0;
    let first = 0;
    let last = 0;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    gateway.store.events.onCommitted((events: PortierEvent[]) => {
      const now = performance.now();
      for (const e of events) if (e.type === 'parking.occupancy') occupancy++;
      if (first === 0) first = now;
      last = now;
      if (occupancy >= N) done();
    });
    const pub = publisher(broker.url, opts.qos);
    pub.stdout!.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      all,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gateway committed ${occupancy} of ${N} in time`)), TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    await finished(pub, 'publisher');
    gateway.store.events.flush();
    const outbox = (gateway.store.db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const events = gateway.store.events.count();
    return { rate: (N - 1) / ((last - first) / 1000), outbox, events };
  } finally {
    await gateway.stop();
  }
}

/** The real links, except that the local one acknowledges each QoS 1 message at once (mqtt.js's default). */
const withoutAckGate: TransportFactories = {
  ...defaultTransports,
  mqtt: (o, log) => {
    const { ackGate: _gate, ...rest } = o;
    return defaultTransports.mqtt(rest, log);
  },
};

/**
 * The cost of acknowledging an uplink only once its event is committed: the same stream published at QoS 1 (as
 * ChirpStack set to `qos=1` does) through mosquitto with the shipped config, into the gateway as it runs (PUBACKs
 * held until the commit) and into one that acknowledges each message at once. Medians of RUNS, alternating.
 */
async function qos1Rows(): Promise<BenchRow[]> {
  const broker = await startMosquitto({ configFile: join(packageRoot(), 'config', 'mosquitto', 'portier.conf') });
  try {
    const gated: number[] = [];
    const ungated: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      ungated.push((await gatewayRate(broker, { qos: 1, ackGate: false })).rate);
      gated.push((await gatewayRate(broker, { qos: 1, ackGate: true })).rate);
    }
    return [
      {
        name: `parking at QoS 1: PUBACK only after the event is committed (median of ${RUNS})`,
        value: Math.round(median(gated)),
        unit: 'events/s',
        reference: {
          name: `the same gateway acknowledging each uplink at once (median of ${RUNS})`,
          value: Math.round(median(ungated)),
          unit: 'events/s',
        },
      },
    ];
  } finally {
    await broker.stop();
  }
}

/**
 * A diagnostic, not the figure: the gateway's local republishing (every committed event to
 * `portier/<dev>/event` and its merged state to `portier/<dev>/state`) on its own, fed the same number of
 * occupancy events in group-commit-sized batches, through the same kind of link to the same broker. Shows how much
 * of the per-event cost it is, and how many event messages it skips under a burst (its bounded queue overflowing
 * while the socket is congested).
 */
async function localRepublishRate(broker: Broker): Promise<{ rate: number; skipped: number }> {
  const link = createMqttLink({ url: broker.url, clientId: `parking-bench-local-${process.pid}` }, silentLogger());
  link.start();
  await waitUp(false, () => link.state === 'up');
  const pub = new LocalPublisher(() => link, 'portier', silentLogger());
  const list = sensors(SENSORS);
  const t0 = performance.now();
  const BATCH = 250;
  for (let i = 0; i < N; i += BATCH) {
    for (let k = i; k < Math.min(N, i + BATCH); k++) {
      const s = list[k % list.length]!;
      pub.publish({
        id: `01J${String(k).padStart(23, '0')}`,
        seq: k + 1,
        epoch: '01JBENCHEPOCH0000000000000',
        gw: 'bench-gw',
        dev: s.id,
        type: 'parking.occupancy',
        ts: new Date().toISOString(),
        tq: 'synced',
        data: { occupied: k % 3 === 0, kind: 'change', bay: s.id, since: '2025-06-01T08:00:00.000Z', rssi_dbm: -97 },
      });
    }
    await new Promise((r) => setImmediate(r));
  }
  await pub.drain();
  const rate = N / ((performance.now() - t0) / 1000);
  await link.stop();
  return { rate, skipped: pub.skipped };
}

/** With PORTIER_BENCH_PROFILE=<file>, a CPU profile of `fn` (open it in Chrome DevTools). */
async function profiled<T>(fn: () => Promise<T>): Promise<T> {
  const file = process.env.PORTIER_BENCH_PROFILE;
  if (!file) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

function median(values: number[]): number {
  return values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

async function waitUp(already: boolean, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!already && !check()) {
    if (Date.now() > deadline) throw new Error('gateway MQTT link did not come up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Parking decode-to-outbox throughput: a mixed stream of N uplinks (five makes of bay sensor, ChirpStack and The
 * Things Stack envelopes, 2000 sensors) published by a separate process through a real mosquitto into a real
 * in-process gateway, where each becomes a `parking.occupancy` event committed with its outbox row in SQLite. Next
 * to it, in the same run, the rate at which a plain `mosquitto_sub` on the same filters receives the same stream.
 */
export async function parkingBench(): Promise<BenchRow[]> {
  const broker = await startMosquitto();
  try {
    // Runs alternate, three of each, and each figure is the median: on two shared cores one run of either can be
    // 20 % off, and a ratio of two single runs twice that.
    const references: number[] = [];
    const gateways: Array<{ rate: number; outbox: number; events: number }> = [];
    for (let run = 0; run < RUNS; run++) {
      references.push(await mosquittoSubRate(broker));
      gateways.push(await (run === 0 ? profiled(() => gatewayRate(broker)) : gatewayRate(broker)));
    }
    const reference = median(references);
    const gw = gateways.toSorted((a, b) => a.rate - b.rate)[Math.floor(RUNS / 2)]!;
    const local = await localRepublishRate(broker);
    const ratio = gw.rate / reference;
    const qos1 = await qos1Rows();
    return [
      {
        name: `parking: ${N.toLocaleString('en-US')} uplinks decoded and committed with their outbox rows (median of ${RUNS})`,
        value: Math.round(gw.rate),
        unit: 'events/s',
        reference: {
          name: `mosquitto_sub receiving the same stream (median of ${RUNS})`,
          value: Math.round(reference),
          unit: 'msg/s',
        },
        target: '>= 20,000 events/s and >= 50 % of the reference',
        ok: gw.rate >= 20_000 && ratio >= 0.5,
      },
      {
        name: 'diagnostic: local republishing alone (portier/<dev>/event + /state per event), same count',
        value: Math.round(local.rate),
        unit: 'events/s',
        reference: {
          name: 'event messages skipped (queue full while congested)',
          value: local.skipped,
          unit: 'messages',
        },
      },
      {
        name: 'parking: events in the log / outbox rows after the run',
        value: gw.events,
        unit: 'events',
        reference: { name: 'outbox rows', value: gw.outbox, unit: 'rows' },
      },
      ...qos1,
    ];
  } finally {
    await broker.stop();
  }
}

// Run on its own: `node --import ./test/integration/transports/helpers/ts-register.mjs test/bench/parking-bench.ts`
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  parkingBench().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`parking bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
