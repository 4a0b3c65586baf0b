import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createPtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { silentLogger } from '../../src/core/logger.js';
import { createSimBackend, SimGpioDevice } from '../../src/transports/gpio/sim.js';
import { createSerialLink } from '../../src/transports/serial.js';
import { startTestGateway } from '../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { tempDir } from '../helpers/tmp.js';
import { percentile, until } from './stats.js';
import type { BenchRow } from './types.js';

/** Scans measured (each a unique single-use pass, so every one commits a use), after WARMUP unmeasured ones. */
const SCANS = 250;
const WARMUP = 20;
const RELAY = 17;

const round = (v: number) => Math.round(v * 100) / 100;

/** A relay line watched from the device side: the time of its last rise, and its level. */
function watchRelay(dev: SimGpioDevice): { level: () => number; rose: () => number } {
  let level = 0;
  let rose = 0;
  dev.watch(RELAY, (v) => {
    level = v;
    if (v === 1) rose = performance.now();
  });
  return { level: () => level, rose: () => rose };
}

/**
 * The wires alone, measured the same way: a line written to a pty, read by a serial link, and answered by driving
 * a sim GPIO line (no pass, no decision, no commit). What the gateway adds is the difference.
 */
async function wireFloor(n: number): Promise<number[]> {
  const dir = tempDir('portier-bench-wire-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const pty = await createPtyPair(dir);
  const stub = new QrScannerStub(pty.devicePath);
  await stub.start();
  const gpio = createSimBackend({ dir: gpioDir }, silentLogger());
  const out = gpio.output(RELAY, { initial: 0 });
  const link = createSerialLink(
    { path: pty.gatewayPath, baudRate: 9600, framing: { kind: 'line', maxLength: 2048 } },
    silentLogger(),
  );
  link.onFrame(() => out.write(1));
  link.start();
  await until(() => link.state === 'up', 10_000, 'serial link up');
  const dev = new SimGpioDevice(gpioDir);
  const relay = watchRelay(dev);
  const samples: number[] = [];
  const line = 'PT1:'.padEnd(330, 'A');
  try {
    for (let i = 0; i < n + WARMUP; i++) {
      out.write(0);
      await until(() => relay.level() === 0, 5000, 'line low');
      const t0 = performance.now();
      await stub.scan(line);
      await until(() => relay.level() === 1 && relay.rose() >= t0, 5000, 'line high');
      if (i >= WARMUP) samples.push(relay.rose() - t0);
    }
  } finally {
    dev.close();
    await link.stop();
    gpio.close();
    await stub.stop();
    await pty.stop();
  }
  return samples;
}

/**
 * Scan to relay: from the moment the scanner starts writing a pass to the QR pty to the moment the strike's relay
 * line is seen high from the device side, through the serial link, the reader, the access controller, pass
 * verification, the synchronous=FULL commit of the decision and its use count (on this disk), and the lock driver.
 * Each scan is a fresh single-use pass; between scans the lock is locked again and the line seen low.
 */
export async function accessLatencyBench(): Promise<BenchRow[]> {
  const dir = tempDir('portier-bench-access-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const pty = await createPtyPair(dir);
  const qr = new QrScannerStub(pty.devicePath);
  await qr.start();
  const { gateway, events } = await startTestGateway({
    dir,
    gpioDir,
    devices: [
      { id: 'toilet', driver: 'gpio-relay-lock', settings: { relay_pin: RELAY, open_time_ms: 60_000 } },
      { id: 'toilet-qr', driver: 'serial-qr-reader', settings: { path: pty.gatewayPath, lock: 'toilet' } },
    ],
  });
  const dev = new SimGpioDevice(gpioDir);
  const samples: number[] = [];
  try {
    const issuer = makeIssuer('bench-latency');
    gateway.access.service.keys.importJwks(issuer.jwks);
    const passes: string[] = [];
    for (let i = 0; i < SCANS + WARMUP; i++) passes.push(await pt1Pass(issuer.key, { aud: 'toilet', uses: 1 }));
    await until(() => gateway.hosts.get('toilet-qr')?.isUp === true, 10_000, 'scanner up');
    const relay = watchRelay(dev);
    const lock = gateway.hosts.get('toilet')!;
    for (let i = 0; i < passes.length; i++) {
      await lock.command('lock', {});
      await until(() => relay.level() === 0, 5000, 'relay low');
      const t0 = performance.now();
      await qr.scan(passes[i]!);
      await until(() => relay.level() === 1 && relay.rose() >= t0, 5000, `relay high for scan ${i}`);
      if (i >= WARMUP) samples.push(relay.rose() - t0);
    }
    const granted = events.filter((e) => e.type === 'access.decision' && e.data.granted === true).length;
    if (granted !== passes.length) throw new Error(`bench: ${granted} of ${passes.length} scans granted`);
  } finally {
    dev.close();
    await gateway.stop();
    await qr.stop();
    await pty.stop();
  }
  const floor = (await wireFloor(SCANS)).sort((a, b) => a - b);
  const sorted = samples.sort((a, b) => a - b);
  const p99 = round(percentile(sorted, 99));
  const wire = (p: number) => ({
    name: `wires only p${p}: pty line → sim GPIO, no decision`,
    value: round(percentile(floor, p)),
    unit: 'ms',
  });
  return [
    {
      name: `scan → relay p50 (${SCANS} single-use passes, durable commit)`,
      value: round(percentile(sorted, 50)),
      unit: 'ms',
      reference: wire(50),
    },
    {
      name: `scan → relay p99 (${SCANS} single-use passes, durable commit)`,
      value: p99,
      unit: 'ms',
      reference: wire(99),
      target: 'p99 < 10 ms',
      ok: p99 < 10,
    },
    {
      name: 'scan → relay max',
      value: round(sorted.at(-1)!),
      unit: 'ms',
      reference: { ...wire(100), name: 'wires only max' },
    },
  ];
}
