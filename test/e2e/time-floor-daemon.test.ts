import { afterEach, describe, expect, it } from 'vitest';
import { issuePass } from '../../src/access/issue.js';
import { silentLogger } from '../../src/core/logger.js';
import { openStore } from '../../src/store/store.js';
import { eventually, type LogLine, type PortierProcess } from '../helpers/daemon.js';
import { type DoorRig, decided, doorRig, importKeys, startDoorDaemon } from '../helpers/door-rig.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { portier, portierJson } from '../integration/access/cli.js';

const Y9999 = Date.UTC(9999, 0, 1) / 1000;

/**
 * Issue 9, point 2: an issuer whose clock said year 9999 signed a pass (for another lock). Shown to a real daemon, it
 * must not push the time floor into the future: valid passes keep opening the strike (simulated GPIO), across a
 * restart, whether the gateway's clock is synced or not, and the refused jump is an alarm in the event log.
 */
describe('a pass issued in year 9999 at the daemon', () => {
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

  /** Scan and wait for this scan's decision (a line not seen before: two decisions can share a millisecond). */
  async function scan(d: PortierProcess, pass: string): Promise<LogLine> {
    const seen = new Set(d.lines);
    await rig!.qr.scan(pass);
    return d.waitFor((l) => !seen.has(l) && decided(0)(l), 15_000, 'a decision');
  }

  /** The strike was energized `n` times in all, and is locked again. */
  async function opened(r: DoorRig, n: number): Promise<void> {
    await eventually(() => r.relay.filter((v) => v === 1).length === n, 10_000, `relay energized ${n} times`);
    await eventually(() => r.relay.at(-1) === 0, 10_000, 'relocked');
  }

  async function stop(d: PortierProcess): Promise<void> {
    d.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
    daemon = undefined;
  }

  it.each([
    ['without a synced clock', false],
    ['with a synced clock', true],
  ])('%s, valid passes still open, across a restart, and the alarm is in the event log', async (_, synced) => {
    const r = await doorRig({ trustSystemClock: synced });
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    if (!synced) {
      // A gateway that has run before: its floor is a minute ago.
      const seed = openStore({ stateDir: r.stateDir, gatewayId: 'e2e-gw', log: silentLogger() });
      seed.meta.writeFloor(Date.now() - 60_000);
      seed.close();
    }
    const first = await start(r);
    // the same wrong issuer clock, both text forms: a compact JWT and a PT1 (CWT) QR code, for another lock
    const spec = { aud: 'door-2', sub: 'h-9999', iat: Y9999, nbf: Y9999, exp: Y9999 + 86_400 };
    const jwt = (await issuePass(issuer.key, { ...spec, id: 'f10a7999' }, 'jwt')).token;
    const cwt = (await issuePass(issuer.key, { ...spec, id: 'f10a7998' }, 'pt1')).token;
    expect(await scan(first, jwt)).toMatchObject({ msg: 'access denied', reason: 'wrong_lock' });
    expect(await scan(first, cwt)).toMatchObject({ msg: 'access denied', reason: 'wrong_lock' });
    expect(await scan(first, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'ok' });
    await opened(r, 1);
    await stop(first);

    const second = await start(r);
    expect(await scan(second, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'ok' });
    await opened(r, 2);
    // shown again after the restart, it still moves nothing
    expect(await scan(second, jwt)).toMatchObject({ reason: 'wrong_lock' });
    expect(await scan(second, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'ok' });
    await opened(r, 3);
    await stop(second);

    const store = openStore({ stateDir: r.stateDir, gatewayId: 'e2e-gw', log: silentLogger() });
    try {
      expect(store.clock.timeFloor()).toBeLessThan(Date.now() + 60_000);
      const alarms = store.events.tail(200).filter((e) => e.type === 'alarm');
      const jumps = alarms.filter((e) => e.data.alarm === 'time_floor_jump_refused');
      // one per run: the CWT within 10 min of the JWT is counted in the next alarm, not alarmed on its own
      expect(jumps.map((e) => e.data)).toMatchObject([
        { source: 'pass', lock: 'door-1', pass_id: 'f10a7999', iat: '9999-01-01T00:00:00.000Z' },
        { source: 'pass', lock: 'door-1', pass_id: 'f10a7999', iat: '9999-01-01T00:00:00.000Z' },
      ]);
      expect(JSON.stringify(alarms)).not.toContain(jwt.slice(0, 40));
    } finally {
      store.close();
    }
  });

  it('portier time floor lowers a wrong floor while the daemon runs: the next pass opens, no restart, audited', async () => {
    const r = await doorRig({ trustSystemClock: true });
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    // a floor in year 9999, as an older version left it after a wrong iat; even a synced clock cannot help
    const seed = openStore({ stateDir: r.stateDir, gatewayId: 'e2e-gw', log: silentLogger() });
    seed.meta.writeFloor(Y9999 * 1000);
    seed.close();
    const d = await start(r);
    expect(await scan(d, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'expired' });
    const shown = await portierJson(['time', 'floor', '--state-dir', r.stateDir]);
    expect(shown).toMatchObject({ code: 0, json: { floor: '9999-01-01T00:00:00.000Z', tq: 'floor' } });
    const at = new Date().toISOString();
    const set = await portierJson(['time', 'floor', '--set', at, '--state-dir', r.stateDir]);
    expect(set).toMatchObject({ code: 0, json: { floor: at, previous: '9999-01-01T00:00:00.000Z' } });
    expect(await scan(d, await pt1Pass(issuer.key, { aud: 'door-1' }))).toMatchObject({ reason: 'ok' });
    await opened(r, 1);
    await stop(d);
    const help = await portier(['time', 'floor', '--help']);
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toContain('--set ISO_TIME | --reset');
    const bad = await portier(['time', 'floor', '--set', 'yesterday', '--state-dir', r.stateDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--set wants an ISO time/);
    const cleared = await portierJson(['time', 'floor', '--reset', '--state-dir', r.stateDir]);
    expect(cleared).toMatchObject({ code: 0, json: { floor: null } });
    // no daemon ran to adopt the reset: the next start records its audit
    await stop(await start(r));
    const store = openStore({ stateDir: r.stateDir, gatewayId: 'e2e-gw', log: silentLogger() });
    try {
      // cleared, then raised again by the synced clock of the last run: the present, not year 9999
      expect(store.meta.readFloor()).toBeLessThan(Date.now() + 1000);
      const audit = store.events.tail(200).filter((e) => e.type === 'provisioning.change');
      expect(audit.map((e) => e.data)).toMatchObject([
        { action: 'time_floor_set', floor: at, previous: '9999-01-01T00:00:00.000Z', actor: 'cli' },
        { action: 'time_floor_cleared', floor: null, actor: 'cli' },
      ]);
    } finally {
      store.close();
    }
  });
});
