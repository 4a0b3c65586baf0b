import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { SimGpioDevice } from '../../src/transports/gpio/sim.js';
import { portierJson } from '../integration/access/cli.js';
import { type LogLine, PortierProcess } from './daemon.js';
import { tempDir } from './tmp.js';

export const RELAY = 17;

/** A door on simulated GPIO, a QR scanner on a real pty, and a config for `portier run` using them. */
export interface DoorRig {
  dir: string;
  stateDir: string;
  configPath: string;
  qr: QrScannerStub;
  pty: PtyPair;
  /** Every level the daemon drove the strike's relay to, in order (1 = energized = open, fail-secure). */
  relay: number[];
  gpio: SimGpioDevice;
  stop(): Promise<void>;
}

/** `trustSystemClock`: the config's gateway.trust_system_clock (default true: the clock counts as synced). */
export async function doorRig(opts: { unlockDelayMs?: number; trustSystemClock?: boolean } = {}): Promise<DoorRig> {
  const dir = tempDir('portier-e2e-access-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const stateDir = join(dir, 'state');
  const pty = await createPtyPair(dir, { gateway: 'qr', device: 'qr.device' });
  const qr = new QrScannerStub(pty.devicePath);
  await qr.start();
  const gpio = new SimGpioDevice(gpioDir);
  gpio.set(27, 0);
  const relay: number[] = [];
  gpio.watch(RELAY, (v) => relay.push(v));
  const configPath = join(dir, 'portier.yaml');
  writeFileSync(
    configPath,
    `version: 1
gateway: { id: e2e-gw, state_dir: ${stateDir}, trust_system_clock: ${opts.trustSystemClock ?? true} }
log: { level: info }
admin: { enabled: false }
gpio: { backend: sim, sim_dir: ${gpioDir} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: ${RELAY}, contact_pin: 27, open_time_ms: 800, unlock_delay_ms: ${opts.unlockDelayMs ?? 0} }
  - { id: qr-1, driver: serial-qr-reader, path: ${pty.gatewayPath}, lock: door-1 }
`,
  );
  return {
    dir,
    stateDir,
    configPath,
    qr,
    pty,
    relay,
    gpio,
    async stop() {
      gpio.close();
      await qr.stop();
      await pty.stop();
    },
  };
}

/** Import an issuer's public keys into the state dir with the CLI, as an installer would. */
export async function importKeys(rig: DoorRig, jwks: unknown): Promise<void> {
  const file = join(rig.dir, 'issuer.jwks.json');
  writeFileSync(file, JSON.stringify(jwks));
  const r = await portierJson(['keys', 'import', file, '--state-dir', rig.stateDir]);
  expect(r.code).toBe(0);
}

export const ready = (l: LogLine) => l.msg === 'gateway ready';
export const decided = (after: number) => (l: LogLine) =>
  (l.msg === 'access granted' || l.msg === 'access denied') && (l.time as number) >= after;

/** `portier run` on the rig's config, returned once the gateway is ready and its scanner is up. */
export async function startDoorDaemon(rig: DoorRig): Promise<PortierProcess> {
  const daemon = new PortierProcess(['run', '--config', rig.configPath]);
  await daemon.waitFor(ready, 30_000, 'gateway ready');
  await daemon.waitFor((l) => l.msg === 'device up' && l.device === 'qr-1', 15_000, 'scanner up');
  return daemon;
}
