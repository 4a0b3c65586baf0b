import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChirpstackSensorStub } from '../../firmware-stubs/chirpstack-sensor.js';
import { DavisConsoleStub } from '../../firmware-stubs/davis-console.js';
import { GpioDoorStub } from '../../firmware-stubs/gpio-door.js';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { type Broker, startMosquitto } from './mosquitto.js';
import { tempDir } from './tmp.js';

export const BAY_EUIS = ['70b3d5e75e000001', '70b3d5e75e000002'];

/**
 * A small town on one machine: a real mosquitto, the Davis console and QR scanner on real ptys, two Nwave bay
 * sensors behind (simulated) ChirpStack, a door on simulated GPIO, and a config file for the daemon using them all.
 */
export interface Rig {
  dir: string;
  configPath: string;
  stateDir: string;
  broker: Broker;
  davisPty: PtyPair;
  qrPty: PtyPair;
  davis: DavisConsoleStub;
  qr: QrScannerStub;
  bays: ChirpstackSensorStub[];
  door: GpioDoorStub;
  stop(): Promise<void>;
}

export async function startRig(opts: { davisIntervalMs?: number } = {}): Promise<Rig> {
  const dir = tempDir('portier-rig-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const broker = await startMosquitto();
  const davisPty = await createPtyPair(dir, { gateway: 'davis', device: 'davis.device' });
  const qrPty = await createPtyPair(dir, { gateway: 'qr', device: 'qr.device' });
  const davis = new DavisConsoleStub({ path: davisPty.devicePath, intervalMs: opts.davisIntervalMs ?? 300 });
  const qr = new QrScannerStub(qrPty.devicePath);
  const bays = BAY_EUIS.map((devEui) => new ChirpstackSensorStub({ brokerUrl: broker.url, devEui }));
  const door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
  await Promise.all([davis.start(), qr.start(), door.start(), ...bays.map((b) => b.start())]);
  const stateDir = join(dir, 'state');
  const configPath = join(dir, 'portier.yaml');
  writeFileSync(
    configPath,
    `version: 1
gateway: { id: rig-gw, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: info }
local_mqtt: { url: "${broker.url}" }
gpio: { backend: sim, sim_dir: ${gpioDir} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17, contact_pin: 27 }
  - { id: qr-1, driver: serial-qr-reader, path: ${qrPty.gatewayPath}, lock: door-1 }
  - { id: bay-1, driver: chirpstack-parking, dev_eui: ${BAY_EUIS[0]}, codec: nwave-nps405 }
  - { id: bay-2, driver: chirpstack-parking, dev_eui: ${BAY_EUIS[1]}, codec: nwave-nps405 }
  - { id: davis-1, driver: davis-vantage, path: ${davisPty.gatewayPath}, packet_timeout_ms: 3000 }
`,
  );
  return {
    dir,
    configPath,
    stateDir,
    broker,
    davisPty,
    qrPty,
    davis,
    qr,
    bays,
    door,
    async stop() {
      await Promise.allSettled([davis.stop(), qr.stop(), door.stop(), ...bays.map((b) => b.stop())]);
      await Promise.allSettled([davisPty.stop(), qrPty.stop()]);
      await broker.stop();
    },
  };
}
