import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdNotifier } from '../../../src/admin/sd-notify.js';
import { eventually } from '../../helpers/eventually.js';

/**
 * The notify protocol against a real AF_UNIX datagram socket bound by the test (playing systemd's part), with the
 * notifier running in a real child process as the daemon would. Protocol: sd_notify(3), sd_watchdog_enabled(3).
 */

interface DgramSocket {
  bind(path: string): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
const dgram = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram', listener: (msg: Buffer) => void): DgramSocket;
};

const here = fileURLToPath(new URL('.', import.meta.url));
const LOADER = join(here, 'fixtures', 'ts-loader.mjs');
const CHILD = join(here, 'fixtures', 'notify-child.ts');

/** One received datagram as its assignments, in arrival order. */
type Message = Record<string, string>;
function parse(buf: Buffer): Message {
  const out: Message = {};
  for (const line of buf.toString('utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

let dir: string;
let socketPath: string;
let server: DgramSocket;
let received: Message[];
let raw: string[];
let child: ChildProcess | undefined;
let childOut: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-sdn-'));
  socketPath = join(dir, 'notify.sock');
  received = [];
  raw = [];
  server = dgram.createSocket('unix_dgram', (msg) => {
    raw.push(msg.toString('utf8'));
    received.push(parse(msg));
  });
  server.on('error', (err) => {
    throw err;
  });
  server.bind(socketPath);
  childOut = '';
});

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function startChild(env: NodeJS.ProcessEnv): ChildProcess {
  const c = spawn(process.execPath, ['--import', LOADER, CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  c.stdout?.on('data', (d: Buffer) => {
    childOut += d.toString();
  });
  c.stderr?.on('data', (d: Buffer) => {
    childOut += d.toString();
  });
  return c;
}

function ticks(): Array<{ index: number; n: number; healthy: boolean; pinged: boolean }> {
  const out: Array<{ index: number; n: number; healthy: boolean; pinged: boolean }> = [];
  received.forEach((m, index) => {
    const t = m.X_PORTIER_TICK;
    if (t === undefined) return;
    const [n, healthy, pinged] = t.split(':');
    out.push({ index, n: Number(n), healthy: healthy === '1', pinged: pinged === '1' });
  });
  return out;
}

describe('sd_notify over a real unix datagram socket', () => {
  it('a child with NOTIFY_SOCKET sends READY=1, pings WATCHDOG=1 only while healthy, and STOPPING=1 at the end', async () => {
    const healthFile = join(dir, 'health');
    writeFileSync(healthFile, 'healthy');
    child = startChild({
      ...process.env,
      NOTIFY_SOCKET: socketPath,
      // 100 ms: the child checks every 50 ms (half, as sd_watchdog_enabled(3) recommends).
      WATCHDOG_USEC: '100000',
      PORTIER_TEST_HEALTH_FILE: healthFile,
    });

    await eventually(() => received.some((m) => m.READY === '1'), 20_000, 'READY=1');
    expect(received[0]).toEqual({ READY: '1', STATUS: 'started' });
    await eventually(() => ticks().filter((t) => t.healthy).length >= 3, 20_000, 'three healthy ticks');
    const healthyPings = received.filter((m) => m.WATCHDOG === '1').length;
    expect(healthyPings).toBeGreaterThanOrEqual(3);

    // Turn unhealthy: the pings must stop, and systemctl status must say why.
    writeFileSync(healthFile, 'store stuck');
    await eventually(() => ticks().filter((t) => !t.healthy).length >= 5, 20_000, 'five unhealthy ticks');
    expect(received.some((m) => m.STATUS === 'unhealthy: store stuck')).toBe(true);
    const all = ticks();
    for (const [i, t] of all.entries()) {
      // Datagrams on one socket arrive in the order they were sent: what lies between the previous tick marker
      // and this one was sent during this check.
      const from = i === 0 ? 0 : all[i - 1]!.index + 1;
      const pingedHere = received.slice(from, t.index).some((m) => m.WATCHDOG === '1');
      expect({ n: t.n, healthy: t.healthy, pinged: pingedHere }).toEqual({
        n: t.n,
        healthy: t.healthy,
        pinged: t.healthy,
      });
    }

    // Healthy again: pings resume.
    const before = received.filter((m) => m.WATCHDOG === '1').length;
    writeFileSync(healthFile, 'healthy');
    await eventually(() => received.filter((m) => m.WATCHDOG === '1').length >= before + 2, 20_000, 'pings to resume');
    expect(received.some((m) => m.STATUS === 'running')).toBe(true);

    const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await eventually(() => received.some((m) => m.STOPPING === '1'), 20_000, 'STOPPING=1');
    expect(await exited).toBe(0);
  });

  it('is a no-op without NOTIFY_SOCKET: nothing is sent and the child exits on its own', async () => {
    const env = { ...process.env };
    delete env.NOTIFY_SOCKET;
    child = startChild({ ...env, WATCHDOG_USEC: '100000' });
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(JSON.parse(childOut.trim())).toEqual({ enabled: false, problem: null, readyOk: false });
    expect(received).toEqual([]);
  });

  it('turns a newline in STATUS into a space, so a status text cannot forge READY=1', async () => {
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: socketPath } });
    expect(n.status('door 3 jammed\nREADY=1')).toBe(true);
    n.close();
    await eventually(() => raw.length === 1, 20_000, 'one datagram');
    expect(raw).toEqual(['STATUS=door 3 jammed READY=1']);
  });

  it('counts a failed send to a socket nobody listens on, and keeps going', () => {
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: join(dir, 'nobody.sock') } });
    expect(n.enabled).toBe(true);
    expect(n.ready()).toBe(false);
    expect(n.watchdog()).toBe(false);
    expect({ sent: n.sent, failed: n.failed }).toEqual({ sent: 0, failed: 2 });
    n.close();
  });
});
