import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair, type PtyPair } from '../../firmware-stubs/pty-pair.js';
import { QrScannerStub } from '../../firmware-stubs/qr-scanner.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { SimGpioDevice } from '../../src/transports/gpio/sim.js';
import { eventually, type LogLine, PortierProcess } from '../helpers/daemon.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { tempDir } from '../helpers/tmp.js';
import { portierJson } from '../integration/access/cli.js';

const RELAY = 17;
const DAY_MS = 86_400_000;

/** A door on simulated GPIO, a QR scanner on a real pty, and a config for `portier run` using them. */
interface DoorRig {
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

async function doorRig(opts: { unlockDelayMs?: number } = {}): Promise<DoorRig> {
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
gateway: { id: e2e-gw, state_dir: ${stateDir}, trust_system_clock: true }
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
async function importKeys(rig: DoorRig, jwks: unknown): Promise<void> {
  const file = join(rig.dir, 'issuer.jwks.json');
  writeFileSync(file, JSON.stringify(jwks));
  const r = await portierJson(['keys', 'import', file, '--state-dir', rig.stateDir]);
  expect(r.code).toBe(0);
}

const ready = (l: LogLine) => l.msg === 'gateway ready';
const decided = (after: number) => (l: LogLine) =>
  (l.msg === 'access granted' || l.msg === 'access denied') && (l.time as number) >= after;

describe('access through the daemon as a process', () => {
  let rig: DoorRig | undefined;
  let daemon: PortierProcess | undefined;

  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited;
    daemon = undefined;
    await rig?.stop();
    rig = undefined;
  });

  async function start(r: DoorRig): Promise<PortierProcess> {
    daemon = new PortierProcess(['run', '--config', r.configPath]);
    await daemon.waitFor(ready, 30_000, 'gateway ready');
    await daemon.waitFor((l) => l.msg === 'device up' && l.device === 'qr-1', 15_000, 'scanner up');
    return daemon;
  }

  async function scan(d: PortierProcess, pass: string): Promise<LogLine> {
    const t = Date.now();
    await rig!.qr.scan(pass);
    return d.waitFor(decided(t), 15_000, 'a decision');
  }

  it('scan to relay: a pass typed by the QR scanner on its pty opens the strike', async () => {
    const r = await doorRig();
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    const d = await start(r);
    const line = await scan(d, await pt1Pass(issuer.key, { aud: 'door-1' }));
    expect(line).toMatchObject({ msg: 'access granted', lock: 'door-1', reason: 'ok', credential: 'pass' });
    await eventually(() => r.relay.includes(1), 10_000, 'relay energized');
    await eventually(() => r.relay.at(-1) === 0, 10_000, 'relocked');
    expect(JSON.stringify(d.lines)).not.toContain('PT1:');
  });

  it('kill -9 between the committed decision and the relay: after the restart the single-use pass cannot open', async () => {
    // The strike waits 4 s after a grant before it moves: the window in which the daemon dies.
    const r = await doorRig({ unlockDelayMs: 4000 });
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    const single = await pt1Pass(issuer.key, { aud: 'door-1', uses: 1 });
    const first = await start(r);
    expect(await scan(first, single)).toMatchObject({ msg: 'access granted', reason: 'ok' });
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(r.relay).not.toContain(1);

    const second = await start(r);
    expect(await scan(second, single)).toMatchObject({ msg: 'access denied', reason: 'uses_exhausted' });
    // The rig still opens for a fresh pass (after the same delay), so the relay was able to move all along.
    expect(await scan(second, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'ok' });
    await eventually(() => r.relay.includes(1), 15_000, 'relay energized for the fresh pass');
    expect(r.relay.filter((v) => v === 1)).toHaveLength(1);
  });

  it('with the system clock behind the time floor, a pass that has expired by the floor does not open', async () => {
    const r = await doorRig();
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    // The floor lives in the meta table; a gateway that once saw a time 30 days ahead never trusts less again.
    const floorMs = Date.now() + 30 * DAY_MS;
    const store = openStore({ stateDir: r.stateDir, gatewayId: 'e2e-gw', log: silentLogger() });
    store.meta.writeFloor(floorMs);
    store.close();
    const d = await start(r);
    const now = Math.floor(Date.now() / 1000);
    // Valid by the system clock, expired by the floor.
    const stale = await pt1Pass(issuer.key, { aud: 'door-1', nbf: now - 60, iat: now - 60, exp: now + 3600 });
    expect(await scan(d, stale)).toMatchObject({ msg: 'access denied', reason: 'expired' });
    const floor = Math.floor(floorMs / 1000);
    const current = await pt1Pass(issuer.key, { aud: 'door-1', nbf: floor - 3600, iat: floor - 60, exp: floor + 3600 });
    expect(await scan(d, current)).toMatchObject({ msg: 'access granted', reason: 'ok' });
    await eventually(() => r.relay.includes(1), 10_000, 'relay energized for the pass valid at the floor');
    expect(r.relay.filter((v) => v === 1)).toHaveLength(1);
  });
});
