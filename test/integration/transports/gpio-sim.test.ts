import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Bit, GpioBackend } from '../../../src/core/links.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createGpioBackend } from '../../../src/transports/gpio/index.js';
import { eventually } from '../../helpers/eventually.js';
import { stopProcess } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const REGISTER = fileURLToPath(new URL('./helpers/ts-register.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('./helpers/gpio-device-child.ts', import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** SimGpioDevice in a real second process, driven over stdin (see helpers/gpio-device-child.ts). */
class DeviceProcess {
  readonly lines: string[] = [];
  private readonly proc: ChildProcess;
  private buffer = '';

  constructor(dir: string) {
    this.proc = spawn(process.execPath, ['--import', REGISTER, CHILD, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout?.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    cleanups.push(() => stopProcess(this.proc));
  }

  async ready(): Promise<void> {
    await eventually(() => this.lines.includes('ready'), 30_000, 'device process ready');
  }

  async send(cmd: string): Promise<void> {
    this.proc.stdin?.write(`${cmd}\n`);
    await eventually(() => this.lines.includes(`done ${cmd}`), 15_000, `device did "${cmd}"`);
  }

  edges(line: number): Bit[] {
    const prefix = `edge ${line} `;
    return this.lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length)) as Bit);
  }
}

async function setup() {
  const dir = tempDir('portier-gpio-sim-');
  const backend: GpioBackend = createGpioBackend({ backend: 'sim', simDir: dir }, silentLogger());
  cleanups.push(() => backend.close());
  const device = new DeviceProcess(dir);
  await device.ready();
  return { backend, device };
}

describe('sim GPIO across processes', () => {
  it('sees inputs the device process drives, every edge in order, even a burst faster than any poll', async () => {
    const { backend, device } = await setup();
    const button = backend.input(17, { edge: 'both' });
    const seen: Bit[] = [];
    button.watch((v) => seen.push(v));
    await device.send('set 17 1');
    await eventually(() => seen.length >= 1, 15_000, 'rising edge');
    expect(button.read()).toBe(1);
    await device.send('burst 17 6');
    await eventually(() => seen.length >= 7, 15_000, 'burst edges');
    expect(seen).toEqual([1, 0, 1, 0, 1, 0, 1]);
    await device.send('set 17 0');
    await device.send('pulse 17 1');
    await eventually(() => seen.length >= 10, 15_000, 'pulse edges');
    expect(seen.slice(7)).toEqual([0, 1, 0]);
  });

  it('filters by edge kind, inverts active-low lines, and debounces a bouncing contact to where it settles', async () => {
    const { backend, device } = await setup();
    const rising = backend.input(5, { edge: 'rising' });
    const r: Bit[] = [];
    rising.watch((v) => r.push(v));
    const contact = backend.input(6, { edge: 'both', activeLow: true, debounceMs: 100 });
    const c: Bit[] = [];
    contact.watch((v) => c.push(v));
    expect(contact.read()).toBe(1);
    await device.send('burst 5 4');
    await device.send('burst 6 5');
    await eventually(() => r.length >= 2 && c.length >= 1, 15_000, 'rising edges and settled contact');
    expect(r).toEqual([1, 1]);
    // Five bounces end raw high, which is logical low on an active-low line: one report.
    expect(c).toEqual([0]);
    expect(contact.read()).toBe(0);
    // A sentinel on the rising line after the contact settled; no late bounce may follow.
    await device.send('burst 5 2');
    await eventually(() => r.length >= 3, 15_000, 'sentinel edge');
    expect(c).toEqual([0]);
  });

  it('shows the device process every output edge the backend writes, in order', async () => {
    const { backend, device } = await setup();
    const relay = backend.output(22, { initial: 0 });
    await device.send('watch 22');
    for (const v of [1, 0, 1, 1, 0, 1] as Bit[]) relay.write(v);
    await eventually(() => device.edges(22).length >= 4, 15_000, 'relay edges');
    expect(device.edges(22)).toEqual([1, 0, 1, 0, 1].slice(0, device.edges(22).length));
    await eventually(() => device.edges(22).length >= 5, 15_000, 'all relay edges');
    expect(device.edges(22)).toEqual([1, 0, 1, 0, 1]);
    expect(relay.read()).toBe(1);
    await device.send('read 22');
    expect(device.lines).toContain('value 22 1');
  });
});
