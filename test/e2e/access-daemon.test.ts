import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { eventually, type LogLine, type PortierProcess } from '../helpers/daemon.js';
import { type DoorRig, decided, doorRig, importKeys, startDoorDaemon } from '../helpers/door-rig.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';

const DAY_MS = 86_400_000;

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
    daemon = await startDoorDaemon(r);
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
