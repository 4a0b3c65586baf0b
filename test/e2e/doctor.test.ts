import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PortierProcess } from '../helpers/daemon.js';
import { type DoctorCheck, doctorChecks } from '../helpers/doctor.js';
import { type Broker, freePort, startMosquitto } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';
import { portier } from '../integration/access/cli.js';

async function doctor(configPath: string): Promise<{ code: number | null; checks: Record<string, DoctorCheck> }> {
  const r = await portier(['doctor', '--config', configPath, '--json'], { env: { PORTIER_STATE_DIR: '' } });
  return { code: r.code, checks: doctorChecks(r.stdout) };
}

describe('portier doctor against a real daemon and a real mosquitto', () => {
  let broker: Broker | undefined;
  let daemon: PortierProcess | undefined;
  afterEach(async () => {
    daemon?.kill('SIGKILL');
    await daemon?.exited;
    daemon = undefined;
    await broker?.stop();
    broker = undefined;
  });

  it('says ok for a healthy gateway, then fail with a fix for an open state dir and a broker that is down', async () => {
    const dir = tempDir('portier-doctor-');
    const stateDir = join(dir, 'state');
    broker = await startMosquitto();
    const adminPort = await freePort();
    const configPath = join(dir, 'portier.yaml');
    writeFileSync(
      configPath,
      `version: 1
gateway: { id: doctor-gw, state_dir: ${stateDir}, trust_system_clock: true, disk_min_free_bytes: 1048576 }
local_mqtt: { url: "${broker.url}" }
admin: { listen: "127.0.0.1:${adminPort}" }
gpio: { backend: sim, sim_dir: ${join(dir, 'gpio')} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17 }
`,
    );
    daemon = new PortierProcess(['run', '--config', configPath]);
    await daemon.waitFor((l) => l.msg === 'admin API and dashboard listening', 30_000, 'admin API up');

    const good = await doctor(configPath);
    const nodeOk = Number(process.versions.node.split('.')[0]) >= 22 ? 'ok' : 'fail';
    const statuses = Object.fromEntries(Object.values(good.checks).map((c) => [c.check, c.status]));
    const underSystemd = statuses.unit !== 'skipped';
    expect(statuses).toMatchObject({
      node: nodeOk,
      config: 'ok',
      disk: 'ok',
      'state-dir': 'ok',
      secrets: 'ok',
      'local-broker': 'ok',
      'cloud-broker': 'skipped',
      healthz: 'ok',
    });
    // Outside systemd (CI's container) the unit and clock checks say so instead of failing.
    if (!underSystemd) expect(good.checks.unit!.detail).toBe('not under systemd: no unit to check here');
    expect(good.code).toBe(nodeOk === 'ok' && statuses.clock !== 'fail' && statuses.unit !== 'fail' ? 0 : 1);

    // What an old version or a careless copy leaves: the state dir open to all; and the broker down.
    chmodSync(stateDir, 0o755);
    await broker.stop();
    broker = undefined;
    const bad = await doctor(configPath);
    expect(bad.code).toBe(1);
    expect(bad.checks['state-dir']).toMatchObject({ status: 'fail', detail: `${stateDir} is 0755` });
    expect(bad.checks['state-dir']!.fix).toContain(`chmod 0700 ${stateDir}`);
    expect(bad.checks['local-broker']!.status).toBe('fail');
    expect(bad.checks['local-broker']!.fix).toMatch(/systemctl status mosquitto/);
    expect(bad.checks.healthz!.status).toBe('ok');

    // The human form: one line per check, the fix under a fail.
    const text = await portier(['doctor', '--config', configPath], { env: { PORTIER_STATE_DIR: '' } });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^fail {4}state-dir {5}.* is 0755\n {22}fix: sudo chown/m);
    expect(text.stdout).toMatch(/check\(s\) failed$/m);
  }, 90_000);
});
