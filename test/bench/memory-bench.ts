import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { packageRoot } from '../../src/core/package-root.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { sensors } from './parking-stream.js';
import type { BenchRow } from './types.js';

/** Minutes of the 1,000-bay run (the 10); PORTIER_BENCH_MEMORY_MINUTES overrides for a quick run. */
const MINUTES = Number(process.env.PORTIER_BENCH_MEMORY_MINUTES ?? 10);
const BAYS = 1000;
const RATE = 100;
const SMALL = 20;
/** The 20-device gateway runs for two minutes at one uplink a second (shorter when the whole run is). */
const SMALL_SECONDS = Math.min(120, MINUTES * 60);
const TARGET_BIG_MIB = 110;
const TARGET_SMALL_MIB = 80;
const BIN = join(packageRoot(), 'dist', 'src', 'cli', 'bin.js');
const MIB = 1024;

/** How the shipped systemd unit runs node (what a Pi runs): the options before the script, and the environment. */
export function unitNode(): { flags: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(packageRoot(), 'systemd', 'portier.service'), 'utf8');
  const words = (/^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '').split(/\s+/);
  const script = words.findIndex((w) => w.endsWith('.js'));
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=(.*)$/gm)) {
    for (const pair of m[1]!.split(/\s+/)) {
      const [k, v] = pair.split('=');
      // The state directory is the bench's own.
      if (k && v !== undefined && k !== 'PORTIER_STATE_DIR') env[k] = v;
    }
  }
  return { flags: words.slice(1, script).filter((w) => w.startsWith('--')), env };
}

/** VmRSS of a process, in KiB. */
function rssKib(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

interface Daemon {
  proc: ChildProcess;
  dir: string;
  samples: number[];
  lines: string[];
  exited: Promise<number | null>;
}

function startDaemon(
  broker: Broker,
  name: string,
  bays: number,
  node: { flags: string[]; env: Record<string, string> },
): Daemon {
  const dir = tempDir(`portier-bench-memory-${name}-`);
  const devices = sensors(bays).map((s) =>
    [`  - id: ${s.id}`, '    driver: chirpstack-parking', `    dev_eui: "${s.devEui}"`, `    codec: ${s.codec}`].join(
      '\n',
    ),
  );
  // A town's gateway: local broker, admin API on loopback (its default), no cloud (the outbox grows as it would
  // while the cloud is away, which is the harder case).
  const config = [
    'version: 1',
    'gateway:',
    `  id: ${name}`,
    `  state_dir: ${join(dir, 'state')}`,
    'log:',
    '  level: info',
    'local_mqtt:',
    `  url: ${broker.url}`,
    'admin:',
    '  listen: 127.0.0.1:0',
    'devices:',
    ...devices,
  ];
  writeFileSync(join(dir, 'portier.yaml'), `${config.join('\n')}\n`);
  const proc = spawn(process.execPath, [...node.flags, BIN, 'run', '--config', join(dir, 'portier.yaml')], {
    env: { ...process.env, JOURNAL_STREAM: undefined, ...node.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | null>((resolve) => proc.once('close', resolve));
  return { proc, dir, samples: [], lines, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ready = (d: Daemon) => d.lines.some((l) => l.includes('"gateway ready"'));
const linkUp = (d: Daemon) => d.lines.some((l) => l.includes('"local-mqtt"') && l.includes('"link up"'));

function publisher(url: string, bays: number, rate: number, seconds: number): ChildProcess {
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const script = self.replace(/memory-bench\.(ts|js)$/, `memory-publisher.${ts ? 'ts' : 'js'}`);
  const hooks = fileURLToPath(new URL('../integration/transports/helpers/ts-register.mjs', import.meta.url));
  const args = ts ? ['--import', hooks, script] : [script];
  return spawn(process.execPath, [...args, url, String(bays), String(rate), String(seconds)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

interface Run {
  start: number;
  peak: number;
  end: number;
  /** MiB per 10 minutes over the second half of the run (least squares). */
  slope: number;
  events: number;
}

function summarize(d: Daemon, sampleMs: number): Run {
  const s = d.samples.map((k) => k / MIB);
  const half = s.slice(Math.floor(s.length / 2));
  const n = half.length;
  const mx = (n - 1) / 2;
  const my = half.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  half.forEach((y, i) => {
    num += (i - mx) * (y - my);
    den += (i - mx) ** 2;
  });
  const perSample = den > 0 ? num / den : 0;
  const db = new BetterSqlite3(join(d.dir, 'state', 'portier.db'), { readonly: true });
  const events = db.prepare("SELECT COUNT(*) FROM events WHERE type = 'parking.occupancy'").pluck().get() as number;
  db.close();
  const last = s.slice(-10);
  return {
    start: s[0]!,
    peak: Math.max(...s),
    end: last.reduce((a, b) => a + b, 0) / last.length,
    slope: perSample * (600_000 / sampleMs),
    events,
  };
}

/**
 * The same stream into two daemons at once, both real `portier run` processes on one broker: the figure (node
 * started with the unit's options and environment) and the reference (plain `node`, as before the unit set any). VmRSS sampled each
 * second from READY to the end of the stream.
 */
async function runPair(broker: Broker, bays: number, rate: number, seconds: number): Promise<[Run, Run]> {
  const sampleMs = 1000;
  const daemons = [
    startDaemon(broker, `mem-unit-${bays}`, bays, unitNode()),
    startDaemon(broker, `mem-plain-${bays}`, bays, { flags: [], env: {} }),
  ];
  try {
    for (const d of daemons) await until('gateway ready and its link up', () => ready(d) && linkUp(d));
    const sample = () => {
      for (const d of daemons) d.samples.push(rssKib(d.proc.pid!));
    };
    sample();
    const timer = setInterval(sample, sampleMs);
    const pub = publisher(broker.url, bays, rate, seconds);
    const code = await new Promise<number | null>((resolve) => pub.once('exit', resolve));
    clearInterval(timer);
    if (code !== 0) throw new Error(`publisher exited with ${code}`);
    // Let the last uplinks be committed before the daemons stop.
    await new Promise((r) => setTimeout(r, 2000));
  } finally {
    for (const d of daemons) d.proc.kill('SIGTERM');
    for (const d of daemons) await d.exited;
  }
  const runs = daemons.map((d) => summarize(d, sampleMs)) as [Run, Run];
  for (const d of daemons) rmSync(d.dir, { recursive: true, force: true });
  const sent = Math.round(rate * seconds);
  process.stdout.write(
    `  ${bays} devices, ${sent} uplinks: committed ${runs[0].events} (unit flags) and ${runs[1].events} (plain node)\n`,
  );
  return runs;
}

/** RSS of a node process after it has imported `modules` (none: bare node), sampled from outside. */
async function nodeRss(modules: string[]): Promise<number> {
  const code = `Promise.all(${JSON.stringify(modules)}.map((m) => import(m))).then(() => { console.log('ok'); setTimeout(() => {}, 60000); });`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 1000));
    return rssKib(proc.pid!) / MIB;
  } finally {
    proc.kill('SIGKILL');
  }
}

const mib = (v: number) => Math.round(v * 10) / 10;

/**
 * RSS of real daemons: 1,000 ChirpStack bays at 100 uplinks/s for MINUTES (the 10), and 20 devices; each
 * next to the same daemon on plain node (no flags from the unit), started at the same time on the same stream, and
 * to bare node and node with every runtime dependency imported, measured in the same run.
 */
export async function memoryBench(): Promise<BenchRow[]> {
  const deps = Object.keys(
    (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { dependencies: object }).dependencies,
  );
  const bare = await nodeRss([]);
  const libraries = await nodeRss(deps);
  const broker = await startMosquitto();
  try {
    const [small, smallRef] = await runPair(broker, SMALL, 1, SMALL_SECONDS);
    const [big, bigRef] = await runPair(broker, BAYS, RATE, MINUTES * 60);
    const unit = unitNode();
    const flags = [...Object.entries(unit.env).map(([k, v]) => `${k}=${v}`), 'node', ...unit.flags].join(' ');
    const plain = 'same daemon, same stream, plain node';
    const bigName = `${BAYS.toLocaleString('en-US')} ChirpStack bays, ${RATE} uplinks/s for ${MINUTES} min`;
    const smallName = `${SMALL} ChirpStack bays, 1 uplink/s for ${SMALL_SECONDS} s`;
    return [
      {
        name: `node with every runtime dependency imported (${deps.length} packages)`,
        value: mib(libraries),
        unit: 'MiB',
        reference: { name: 'bare node -e', value: mib(bare), unit: 'MiB' },
      },
      {
        name: `${bigName}: peak RSS (${flags}, as the unit runs it)`,
        value: mib(big.peak),
        unit: 'MiB',
        reference: { name: plain, value: mib(bigRef.peak), unit: 'MiB' },
        target: `<= ${TARGET_BIG_MIB} MiB`,
        ok: big.peak <= TARGET_BIG_MIB,
      },
      {
        name: `${bigName}: RSS at READY`,
        value: mib(big.start),
        unit: 'MiB',
        reference: { name: plain, value: mib(bigRef.start), unit: 'MiB' },
      },
      {
        name: `${bigName}: RSS at the end (mean of the last 10 s)`,
        value: mib(big.end),
        unit: 'MiB',
        reference: { name: plain, value: mib(bigRef.end), unit: 'MiB' },
        target: `<= ${TARGET_BIG_MIB} MiB`,
        ok: big.end <= TARGET_BIG_MIB,
      },
      {
        name: `${bigName}: RSS slope over the second half`,
        value: mib(big.slope),
        unit: 'MiB per 10 min',
        reference: { name: plain, value: mib(bigRef.slope), unit: 'MiB per 10 min' },
      },
      {
        name: `${smallName}: peak RSS (${flags})`,
        value: mib(small.peak),
        unit: 'MiB',
        reference: { name: plain, value: mib(smallRef.peak), unit: 'MiB' },
        target: `<= ${TARGET_SMALL_MIB} MiB`,
        ok: small.peak <= TARGET_SMALL_MIB,
      },
      {
        // The peak comes right after READY, while the start's integrity check runs on a thread of its own.
        name: `${smallName}: RSS at the end (mean of the last 10 s)`,
        value: mib(small.end),
        unit: 'MiB',
        reference: { name: plain, value: mib(smallRef.end), unit: 'MiB' },
        target: `<= ${TARGET_SMALL_MIB} MiB`,
        ok: small.end <= TARGET_SMALL_MIB,
      },
    ];
  } finally {
    await broker.stop();
  }
}
