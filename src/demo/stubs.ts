import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { DavisConsoleStub } from '../../firmware-stubs/davis-console.js';
import { GpioDoorStub } from '../../firmware-stubs/gpio-door.js';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';

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
  stop(): Promise<void>;
}

/**
 * The demo's simulated town: a Davis console on a pty, a QR scanner on a pty, Nwave bay sensors behind ChirpStack,
 * and a door with a person who walks through when the strike opens. The first bay change comes within 3 s.
 */
export async function startDemoStubs(o: DemoStubOptions): Promise<DemoStubs> {
  const davis = new DavisConsoleStub({ path: o.davisPath, intervalMs: 2000 });
  const qr = new QrScannerStub(o.qrPath);
  const bays = o.bays.map((devEui) => new ChirpstackSensorStub({ brokerUrl: o.brokerUrl, devEui }));
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
  return {
    davis,
    qr,
    bays,
    door,
    async stop() {
      clearTimeout(first);
      clearInterval(timer);
      await Promise.allSettled([davis.stop(), qr.stop(), door.stop(), ...bays.map((b) => b.stop())]);
    },
  };
}
