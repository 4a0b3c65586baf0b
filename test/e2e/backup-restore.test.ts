import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AccessService } from '../../src/access/service.js';
import { silentLogger } from '../../src/core/logger.js';
import { PassUses } from '../../src/store/pass-uses.js';
import { openStore } from '../../src/store/store.js';
import type { LogLine, PortierProcess } from '../helpers/daemon.js';
import { type DoorRig, decided, doorRig, importKeys, startDoorDaemon } from '../helpers/door-rig.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { tempDir } from '../helpers/tmp.js';
import { portier } from '../integration/access/cli.js';

/** Everything `portier backup` must carry, read from a state directory that no daemon holds. */
function snapshot(stateDir: string, passIds: string[]) {
  const store = openStore({ stateDir, gatewayId: 'snap', log: silentLogger(), borrow: true });
  try {
    const access = new AccessService({ store });
    const uses = new PassUses(store.db);
    return {
      keys: access.keys.list(),
      revocations: access.revocations.list(),
      revocationVersion: access.revocations.version(),
      uses: passIds.map((id) => uses.used(id)),
      pin: access.pins.secret('door-1')?.toString('hex'),
      devices: store.devices.list().map((d) => ({ id: d.id, driver: d.driver, config: d.config })),
      adminToken: existsSync(join(stateDir, 'admin-token'))
        ? readFileSync(join(stateDir, 'admin-token'), 'utf8')
        : null,
    };
  } finally {
    store.close();
  }
}

describe('portier backup / restore (real CLI processes, a real daemon)', () => {
  let rig: DoorRig | undefined;
  let daemon: PortierProcess | undefined;
  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited;
    daemon = undefined;
    await rig?.stop();
    rig = undefined;
  });

  it('carries keys, revocations, use counts, PIN secrets and devices; refuses a running daemon; 0600; new epoch', async () => {
    const r = await doorRig();
    rig = r;
    const issuer = makeIssuer();
    await importKeys(r, issuer.jwks);
    expect((await portier(['revoke', 'stolen-pass-0001', '--reason', 'lost', '--state-dir', r.stateDir])).code).toBe(0);
    expect((await portier(['revoke', '--sub', 'holder-banned', '--state-dir', r.stateDir])).code).toBe(0);
    expect((await portier(['pin', 'secret', '--lock', 'door-1', '--state-dir', r.stateDir])).code).toBe(0);

    daemon = await startDoorDaemon(r);
    const scan = async (pass: string): Promise<LogLine> => {
      const t = Date.now();
      await r.qr.scan(pass);
      return daemon!.waitFor(decided(t), 15_000, 'a decision');
    };
    const multi = await pt1Pass(issuer.key, { aud: 'door-1', uses: 5 });
    expect(await scan(multi)).toMatchObject({ msg: 'access granted' });
    const second = await scan(multi);
    expect(second).toMatchObject({ msg: 'access granted' });
    // the decision's log line names the pass by its id
    const id = String(second.passId);
    expect(id).toMatch(/\S{8,}/);

    // While the daemon runs, from a shell with umask 022.
    const out = join(tempDir('portier-backup-'), 'gw.portier-backup');
    const backup = await portier(['backup', out, '--state-dir', r.stateDir, '--config-dir', r.dir], {
      env: { PORTIER_CONFIG: '' },
    });
    expect(backup.code, backup.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);

    // A use after the backup: the restored copy is older than the log it replaces.
    expect(await scan(multi)).toMatchObject({ msg: 'access granted' });

    const refused = await portier(['restore', out, '--state-dir', r.stateDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/a Portier daemon \(pid \d+\) runs on .*: stop it first/);
    expect(readdirSync(join(r.stateDir, '..')).filter((f) => f.includes('before-restore'))).toEqual([]);

    // Into a second state directory: the same keys, revocations, use counts, PIN secret, devices.
    daemon.kill('SIGTERM');
    expect((await daemon.exited).code).toBe(0);
    daemon = undefined;
    const second2 = join(tempDir('portier-restored-'), 'state');
    const restored = await portier(['restore', out, '--state-dir', second2]);
    expect(restored.code, restored.stderr).toBe(0);
    const before = snapshot(r.stateDir, [id]);
    const after = snapshot(second2, [id]);
    expect(before.uses).toEqual([3]);
    expect(after.uses).toEqual([2]);
    expect(before.keys.length).toBe(1);
    expect(before.revocations.length).toBe(2);
    expect(before.pin).toMatch(/^[0-9a-f]{32,}$/);
    expect(before.devices.length).toBeGreaterThan(0);
    expect({ ...after, uses: before.uses }).toEqual(before);

    // Back onto the first state directory: the old state is kept aside, and the daemon starts a new epoch.
    const back = await portier(['restore', out, '--state-dir', r.stateDir]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/reason log_truncated/);
    const aside = readdirSync(join(r.stateDir, '..')).filter((f) => f.includes('before-restore'));
    expect(aside).toHaveLength(1);
    expect(existsSync(join(r.stateDir, '..', aside[0]!, 'portier.db'))).toBe(true);
    expect(statSync(r.stateDir).mode & 0o777).toBe(0o700);
    daemon = await startDoorDaemon(r);
    // the log line of the `log_epoch_started` alarm the gateway records
    const epoch = await daemon.waitFor(
      (l) => l.msg === 'new log epoch: seqs continue, under a new epoch id',
      15_000,
      'a new log epoch',
    );
    expect(epoch).toMatchObject({ reason: 'log_truncated' });
    // The restored use count: 2 of 5 used, so the pass opens (a 3rd use is counted from the backup, as documented).
    expect(await scan(multi)).toMatchObject({ msg: 'access granted' });
  }, 120_000);

  it('a damaged or foreign file is refused with a specific error and changes nothing', async () => {
    const dir = tempDir('portier-bad-backup-');
    const stateDir = join(dir, 'state');
    expect((await portier(['revoke', 'p-1', '--state-dir', stateDir])).code).toBe(0);
    const good = join(dir, 'good.portier-backup');
    expect((await portier(['backup', good, '--state-dir', stateDir, '--config-dir', join(dir, 'none')])).code).toBe(1);
    expect((await portier(['backup', good, '--state-dir', stateDir, '--config-dir', dir])).code).toBe(0);
    const bytes = readFileSync(good);
    // One byte flipped in the middle of the database's bytes (the archive is mostly the database).
    const mid = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(mid) ^ 0xff, mid);
    const damaged = join(dir, 'damaged.portier-backup');
    writeFileSync(damaged, bytes);
    const foreign = join(dir, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ format: 'something-else' }));
    const listing = () => readdirSync(dir).sort();
    const before = listing();
    const d = await portier(['restore', damaged, '--state-dir', stateDir]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/is not a usable Portier backup: state file portier\.db is damaged \(SHA-256 differs\)/);
    const f = await portier(['restore', foreign, '--state-dir', stateDir]);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/is not a usable Portier backup: (not CBOR|no "format")/);
    expect(listing()).toEqual(before);
    expect(snapshot(stateDir, []).revocations.map((x) => x.value)).toEqual(['p-1']);
  }, 60_000);
});
