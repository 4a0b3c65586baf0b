import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { WiegandReaderStub } from '../../firmware-stubs/wiegand-reader.js';
import { SimGpioDevice } from '../../src/transports/gpio/sim.js';
import { portier } from '../integration/access/cli.js';
import { PortierProcess } from './daemon.js';
import { type Broker, startMosquitto } from './mosquitto.js';
import { tempDir } from './tmp.js';

export const RELAY = 17;

/**
 * A town in one box: a real mosquitto as the cloud broker, a real `portier run` gateway with a door on simulated
 * GPIO (relay 17, contact 27), a QR scanner on a pty and a Wiegand keypad, and a real `portier issuer` process
 * with the door's PIN secret and an issuer key the gateway trusts.
 */
export interface IssuerRig {
  dir: string;
  broker: Broker;
  gateway: PortierProcess;
  issuer: PortierProcess;
  /** http://127.0.0.1:<port> of the issuer */
  url: string;
  issuerStateDir: string;
  /** Every level the gateway drove the strike's relay to, in order. */
  relay: number[];
  qr: QrScannerStub;
  keypad: WiegandReaderStub;
  stop(): Promise<void>;
}

export async function startIssuerRig(opts: { issuerExtra?: string } = {}): Promise<IssuerRig> {
  const dir = tempDir('portier-issuer-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const stateDir = join(dir, 'state');
  const broker = await startMosquitto();
  const pty: PtyPair = await createPtyPair(dir, { gateway: 'qr', device: 'qr.device' });
  const qr = new QrScannerStub(pty.devicePath);
  await qr.start();
  // Pulses 30 ms apart: the keypad stub and the daemon are separate processes sharing the sim GPIO files.
  const keypad = new WiegandReaderStub({ dir: gpioDir, d0Line: 5, d1Line: 6, bitIntervalMs: 30, framePauseMs: 400 });
  await keypad.start();
  const gpio = new SimGpioDevice(gpioDir);
  gpio.set(27, 0);
  const relay: number[] = [];
  gpio.watch(RELAY, (v) => relay.push(v));

  // The issuer's key as `portier keys generate` writes it: a private JWK with kid and alg; the gateway imports the
  // public half.
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = 'town-issuer-2026';
  const keyFile = join(dir, 'issuer-key.jwk.json');
  writeFileSync(keyFile, JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' }), {
    mode: 0o600,
  });
  const jwksFile = join(dir, 'issuer.jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' }] }));
  expect((await portier(['keys', 'import', jwksFile, '--state-dir', stateDir, '--json'])).code).toBe(0);
  const pinFile = join(dir, 'door-1.pin');
  const made = await portier(['pin', 'secret', '--lock', 'door-1', '--state-dir', stateDir, '--out', pinFile]);
  expect(made.code, made.stderr).toBe(0);

  const gwConfig = join(dir, 'portier.yaml');
  writeFileSync(
    gwConfig,
    `version: 1
gateway: { id: e2e-gw, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: info }
admin: { enabled: false }
gpio: { backend: sim, sim_dir: ${gpioDir} }
cloud: { url: '${broker.url}', reconnect_min_ms: 100, reconnect_quick_max_ms: 500, batch_max_age_ms: 20 }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: ${RELAY}, contact_pin: 27, open_time_ms: 600 }
  - { id: qr-1, driver: serial-qr-reader, path: ${pty.gatewayPath}, lock: door-1 }
  - { id: keypad-1, driver: wiegand-reader, d0_pin: 5, d1_pin: 6, lock: door-1, frame_gap_ms: 200 }
`,
  );
  const gateway = new PortierProcess(['run', '--config', gwConfig]);
  await gateway.waitFor((l) => l.msg === 'gateway ready', 30_000, 'gateway ready');
  await gateway.waitFor((l) => l.msg === 'device up' && l.device === 'qr-1', 15_000, 'scanner up');

  const issuerStateDir = join(dir, 'issuer-state');
  const issuerConfig = join(dir, 'issuer.yaml');
  writeFileSync(
    issuerConfig,
    `# yaml-language-server: $schema=../config/issuer.schema.json
version: 1
listen: { host: 127.0.0.1, port: 0, public_url: 'https://wc.example-town.de' }
state_dir: ${issuerStateDir}
key: { file: ${keyFile}, iss: 'https://wc.example-town.de/issuer' }
broker: { url: '${broker.url}', client_id: issuer-e2e }
sms: { number: '+49 170 1234567', reply: text }
doors:
  - id: door-1
    gateway: e2e-gw
    name: { de: 'Toilette am Marktplatz', en: 'Toilet, market square' }
    features: { scanner: true, keypad: true }
    pin_secret_file: ${pinFile}
    pass_page_url: http://192.168.1.20:8088/door/door-1
    sms_keyword: WC1
    policy: { per_client_per_hour: 1000 }
  - id: door-absent
    gateway: e2e-gw
    name: { de: 'Toilette Bahnhof', en: 'Toilet, station' }
    policy: { per_client_per_hour: 2 }
${opts.issuerExtra ?? ''}`,
  );
  const issuer = new PortierProcess(['issuer', '--config', issuerConfig]);
  const ready = await issuer.waitFor((l) => l.msg === 'issuer ready', 20_000, 'issuer ready');
  await issuer.waitFor((l) => l.msg === 'issuer: cloud broker connected', 10_000, 'issuer on the broker');
  return {
    dir,
    broker,
    gateway,
    issuer,
    url: String(ready.url),
    issuerStateDir,
    relay,
    qr,
    keypad,
    async stop() {
      issuer.kill();
      gateway.kill();
      await Promise.all([issuer.exited, gateway.exited]);
      gpio.close();
      await keypad.stop();
      await qr.stop();
      await pty.stop();
      await broker.stop();
    },
  };
}

/** The bytes of the issuer's database files (the main file and its WAL), for scanning. */
export function issuerDbBytes(stateDir: string): Buffer {
  const parts: Buffer[] = [];
  for (const f of ['issuer.db', 'issuer.db-wal']) {
    try {
      parts.push(readFileSync(join(stateDir, f)));
    } catch {
      // no WAL after a checkpoint
    }
  }
  return Buffer.concat(parts);
}
