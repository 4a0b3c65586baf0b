import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { DavisConsoleStub } from '../../firmware-stubs/davis-console.js';
import { GpioDoorStub } from '../../firmware-stubs/gpio-door.js';
import { LoopDetectorStub } from '../../firmware-stubs/loop-detector.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { Rtl433PublisherStub } from '../../firmware-stubs/rtl433-publisher.js';
import { ShellyHtStub } from '../../firmware-stubs/shelly-ht.js';
import { ToiletCabinStub } from '../../firmware-stubs/toilet-cabin.js';

export interface DemoStubOptions {
  brokerUrl: string;
  davisPath: string;
  qrPath: string;
  gpioDir: string;
  /** DevEUIs of the demo's bay sensors, in config order. */
  bays: string[];
  /** ms between bay changes */
  bayEveryMs?: number;
}

export interface DemoStubs {
  davis: DavisConsoleStub;
  qr: QrScannerStub;
  bays: ChirpstackSensorStub[];
  door: GpioDoorStub;
  /** The station square toilet (config/demo.yaml toilet-1): its cabin, and its QR scanner on a pty of its own. */
  toilet: ToiletCabinStub;
  toiletQr: QrScannerStub;
  stop(): Promise<void>;
}

/**
 * The demo's simulated town: a Davis console on a pty, a QR scanner on a pty, Nwave bay sensors behind ChirpStack,
 * and a door with a person who walks through when the strike opens. The first bay change comes within 3 s.
 */
export async function startDemoStubs(o: DemoStubOptions): Promise<DemoStubs> {
  const davis = new DavisConsoleStub({ path: o.davisPath, intervalMs: 2000 });
  const qr = new QrScannerStub(o.qrPath);
  // QoS 1, as docs/operations.md tells ChirpStack to publish: the broker then keeps them for a gateway away.
  const bays = o.bays.map((devEui) => new ChirpstackSensorStub({ brokerUrl: o.brokerUrl, devEui, qos: 1 }));
  const door = new GpioDoorStub({ dir: o.gpioDir, relayLine: 17, contactLine: 27 });
  await Promise.all([davis.start(), qr.start(), door.start(), ...bays.map((b) => b.start())]);
  const occupied = bays.map(() => false);
  let turn = 0;
  const flip = (): void => {
    const i = turn++ % bays.length;
    occupied[i] = !occupied[i];
    void bays[i]?.uplink(1, nps405Status(occupied[i] === true, 3)).catch(() => undefined);
  };
  const first = setTimeout(flip, 2500);
  const timer = setInterval(flip, o.bayEveryMs ?? 6000);
  const toiletDemo = await startToiletDemo(o);
  const parkingWeather = await startParkingWeatherDemo(o);
  return {
    davis,
    qr,
    bays,
    door,
    toilet: toiletDemo.cabin,
    toiletQr: toiletDemo.qr,
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await toiletDemo.stop();
      await parkingWeather.stop();
      await Promise.allSettled([davis.stop(), qr.stop(), door.stop(), ...bays.map((b) => b.stop())]);
    },
  };
}

/** Where the demo's pass office leaves the pass it printed (src/demo/narrator.ts), for the visitor to scan. */
export const DEMO_PASS_FILE = 'demo-pass.txt';

/**
 * The station square toilet: its cabin on simulated GPIO (a visitor walks in when the strike opens, bolts the door
 * for 6 s and leaves), its QR scanner on a pty of its own next to the demo's others, a visitor who scans the pass
 * the demo printed about 8 s after start, and someone with a Euro-key about 40 s after start.
 */
async function startToiletDemo(
  o: DemoStubOptions,
): Promise<{ cabin: ToiletCabinStub; qr: QrScannerStub; stop(): Promise<void> }> {
  const dir = dirname(o.qrPath);
  const passFile = join(dir, DEMO_PASS_FILE);
  // A pass left by an earlier run was signed by that run's key: the visitor must wait for this run's.
  rmSync(passFile, { force: true });
  const pty: PtyPair = await createPtyPair(dir, { gateway: 'toilet-qr', device: 'toilet-qr.device' });
  const qr = new QrScannerStub(pty.devicePath);
  const cabin = new ToiletCabinStub({
    dir: o.gpioDir,
    relayLine: 5,
    contactLine: 6,
    boltLine: 13,
    eurokeyLine: 19,
    visitMs: 6000,
  });
  await Promise.all([qr.start(), cabin.start()]);
  const timers: NodeJS.Timeout[] = [];
  let tries = 0;
  const scanPrinted = (): void => {
    if (existsSync(passFile)) {
      void qr.scan(readFileSync(passFile, 'utf8').trim()).catch(() => undefined);
      return;
    }
    if (++tries < 15) timers.push(setTimeout(scanPrinted, 2000));
  };
  timers.push(setTimeout(scanPrinted, 8000));
  timers.push(setTimeout(() => void cabin.turnEurokey().catch(() => undefined), 40_000));
  return {
    cabin,
    qr,
    async stop() {
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([qr.stop(), cabin.stop()]);
      await pty.stop();
    },
  };
}

/**
 * The market square's loop bay and the two extra weather sources of config/demo.yaml: a car that comes and goes
 * over the loop (bay-4, line 23) every 20 s, rtl_433 hearing the WH24 every 16 s, and the bus shelter's Shelly H&T
 * waking every 30 s (CoIoT to 127.0.0.1, port PORTIER_DEMO_COIOT_PORT or 56830). Each speaks first within 5 s.
 */
async function startParkingWeatherDemo(o: DemoStubOptions): Promise<{ stop(): Promise<void> }> {
  const loop = new LoopDetectorStub({ dir: o.gpioDir, line: 23 });
  const rtl = new Rtl433PublisherStub({ brokerUrl: o.brokerUrl, host: 'school-pi' });
  const shelly = new ShellyHtStub({
    mac: 'C45BBE6A12F0',
    host: '127.0.0.1',
    port: Number(process.env.PORTIER_DEMO_COIOT_PORT ?? 56830),
  });
  await Promise.all([loop.start(), rtl.start(), shelly.start()]);
  let present = false;
  let rainMm = 22.2;
  let temperatureC = 14.2;
  const every = (ms: number, first: number, fn: () => Promise<void>): NodeJS.Timeout[] => {
    const run = () => void fn().catch(() => undefined);
    return [setTimeout(run, first), setInterval(run, ms)];
  };
  const timers = [
    ...every(20_000, 3000, async () => {
      present = !present;
      await loop.chatter(present, 2, 40);
    }),
    ...every(16_000, 2000, async () => {
      rainMm = Math.round((rainMm + (Math.random() < 0.3 ? 0.3 : 0)) * 10) / 10;
      temperatureC = Math.round((temperatureC + (Math.random() - 0.5) * 0.4) * 10) / 10;
      await rtl.reading({ temperatureC, rainMm, repeats: 2 });
    }),
    ...every(30_000, 4000, async () => {
      shelly.temperatureC = Math.round((temperatureC + 3 + (Math.random() - 0.5)) * 10) / 10;
      await shelly.send();
    }),
  ];
  return {
    async stop() {
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([loop.stop(), rtl.stop(), shelly.stop()]);
    },
  };
}
