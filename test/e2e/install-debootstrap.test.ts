import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/daemon.js';
import { doctorChecks } from '../helpers/doctor.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, stopProcess, waitForPort } from '../helpers/mosquitto.js';

/**
 * deploy/install.sh for real, in a fresh Debian 12 root made by debootstrap (test/e2e/install-root.sh, cached per
 * day and mirror under /var/cache/portier-ci): it installs the apt packages, Node 22 from the npm registry, the
 * npm-packed Portier with its native add-ons, the user, directories, mosquitto config and unit; a second run changes
 * nothing; the daemon then runs there as the portier user, /healthz answers and `portier doctor` passes (systemd and
 * clock checks say skipped: a chroot has no systemd). The chroot shares this machine's network, so the broker and
 * admin ports are moved to free ones in the installed config files first.
 */
const isRoot = process.getuid?.() === 0;
const hasDebootstrap = spawnSync('sh', ['-c', 'command -v debootstrap']).status === 0;
const reason = !isRoot ? 'not root (chroot and mounts need root)' : 'debootstrap is not installed';
if (!isRoot || !hasDebootstrap) console.warn(`install-debootstrap: skipped: ${reason}`);

const work = isRoot && hasDebootstrap ? mkdtempSync('/var/tmp/portier-install-') : '';
const root = join(work, 'root');
const mounts: string[] = [];
const procs: ChildProcess[] = [];

function sh(cmd: string, args: string[], opts: { input?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
}
/** Run in the root; stdout and stderr together, the exit code beside them. */
function inRoot(args: string[]): { code: number; out: string } {
  const res = spawnSync('chroot', [root, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
  });
  return { code: res.status ?? -1, out: `${res.stdout}${res.stderr}` };
}
function mount(args: string[], target: string): void {
  sh('mount', [...args, join(root, target)]);
  mounts.push(join(root, target));
}

describe.skipIf(!isRoot || !hasDebootstrap)('deploy/install.sh in a fresh Debian 12 root (debootstrap)', () => {
  const timings: Record<string, number> = {};
  const timed = <T>(what: string, fn: () => T): T => {
    const t0 = Date.now();
    try {
      return fn();
    } finally {
      timings[what] = Math.round((Date.now() - t0) / 1000);
    }
  };

  beforeAll(() => {
    timed('root', () => sh(join(ROOT, 'test/e2e/install-root.sh'), [root]));
    mount(['-t', 'proc', 'proc'], 'proc');
    mount(['-t', 'sysfs', 'sysfs'], 'sys');
    mount(['--bind', '/dev'], 'dev');
    mount(['-t', 'devpts', 'devpts'], 'dev/pts');
    copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
    // This site's own CAs (an HTTPS proxy on the way to the registry), as an admin would add them on a Pi.
    const siteCas = '/usr/local/share/ca-certificates';
    if (existsSync(siteCas)) {
      for (const f of readdirSync(siteCas)) copyFileSync(join(siteCas, f), join(root, siteCas.slice(1), f));
      expect(inRoot(['update-ca-certificates']).code).toBe(0);
    }
    // apt's downloads survive between runs (the root itself is cached without them).
    sh('mkdir', ['-p', '/var/cache/portier-ci/apt-archives/partial']);
    mount(['--bind', '/var/cache/portier-ci/apt-archives'], 'var/cache/apt/archives');
    timed('npm pack', () => sh('npm', ['pack', '--silent', '--pack-destination', join(root, 'root')], { input: '' }));
    copyFileSync(join(ROOT, 'deploy/install.sh'), join(root, 'root/install.sh'));
  }, 600_000);

  afterAll(async () => {
    for (const p of procs.reverse()) await stopProcess(p, 5000);
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    const still = readFileSync('/proc/mounts', 'utf8').includes(` ${root}/`);
    if (!still && work) rmSync(work, { recursive: true, force: true });
    console.log(`install-debootstrap timings (s): ${JSON.stringify(timings)}`);
  }, 60_000);

  it('installs, is idempotent, runs the daemon as portier, and doctor passes there', async () => {
    const tarball = readdirSync(join(root, 'root')).find((f) => /^portier-.*\.tgz$/.test(f))!;
    const first = timed('install', () => inRoot(['/bin/bash', '/root/install.sh', `/root/${tarball}`]));
    expect(first.code, first.out).toBe(0);
    expect(first.out).toMatch(/install: install Node\.js 22\.\S+ \(npm package node-linux-(x64|arm64)/);
    expect(first.out).toMatch(/install: create system user portier/);
    expect(first.out).toMatch(/install: done: \d+ change\(s\)/);
    expect(inRoot(['/usr/local/bin/node', '--version']).out.trim()).toMatch(/^v22\./);
    expect(inRoot(['stat', '-c', '%a %U', '/var/lib/portier']).out.trim()).toBe('700 portier');
    expect(inRoot(['stat', '-c', '%a %U', '/etc/portier/local-mqtt.password']).out.trim()).toBe('600 portier');
    const unit = readFileSync(join(root, 'etc/systemd/system/portier.service'), 'utf8');
    expect(unit).toMatch(
      /^ExecStart=\/opt\/node22\/bin\/node \/opt\/portier\/node_modules\/portier\/dist\/src\/cli\/bin\.js run/m,
    );
    expect(unit).toContain('ProtectSystem=strict');

    const second = timed('install again', () => inRoot(['/bin/bash', '/root/install.sh', `/root/${tarball}`]));
    expect(second.code, second.out).toBe(0);
    expect(second.out).toContain('install: nothing to change');
    expect(second.out).not.toMatch(/^install: (install|create|write|make|add) /m);

    // Ports of this machine's network: the installed configs are moved to free ones.
    const mqttPort = await freePort();
    const adminPort = await freePort();
    const conf = join(root, 'etc/mosquitto/conf.d/portier.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace(/^listener 1883$/m, `listener ${mqttPort} 127.0.0.1`));
    const yaml = join(root, 'etc/portier/portier.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8')
        .replace('mqtt://127.0.0.1:1883', `mqtt://127.0.0.1:${mqttPort}`)
        .replace('127.0.0.1:8080', `127.0.0.1:${adminPort}`)
        // no NTP marker in a chroot: the gateway would otherwise hold passes to the time floor
        .replace(/^ {2}state_dir:/m, '  trust_system_clock: true\n  state_dir:'),
    );
    const env = { ...process.env, JOURNAL_STREAM: undefined };
    // What the mosquitto unit's RuntimeDirectory= makes (Debian's mosquitto.conf writes its pid file there).
    expect(inRoot(['install', '-d', '-o', 'mosquitto', '-g', 'mosquitto', '/run/mosquitto']).code).toBe(0);
    const broker = spawn('chroot', [root, 'mosquitto', '-c', '/etc/mosquitto/mosquitto.conf'], {
      env,
      stdio: 'ignore',
    });
    procs.push(broker);
    await waitForPort(mqttPort, 15_000);
    // The generated broker user: its password (never printed by the install) logs in, a wrong one is refused.
    const password = readFileSync(join(root, 'etc/portier/local-mqtt.password'), 'utf8');
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(first.out + second.out).not.toContain(password);
    const pub = (pw: string) =>
      spawnSync('mosquitto_pub', ['-p', String(mqttPort), '-u', 'portier-gateway', '-P', pw, '-t', 'portier/x', '-n']);
    expect(pub(password).status, String(pub(password).stderr)).toBe(0);
    expect(pub(`${password}x`).status).not.toBe(0);
    // The unit's ExecStart line, run as the unit's user (no systemd in a chroot).
    const execStart = unit.match(/^ExecStart=(.*)$/m)![1]!.split(' ');
    const daemon = spawn(
      'chroot',
      [root, 'setpriv', '--reuid=portier', '--regid=portier', '--init-groups', '--', ...execStart],
      { env: { ...env, PORTIER_STATE_DIR: '/var/lib/portier' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    procs.push(daemon);
    const healthz = await eventually(
      () =>
        fetch(`http://127.0.0.1:${adminPort}/healthz`).then(
          (r) => (r.ok ? r.status : 0),
          () => 0,
        ),
      60_000,
      '/healthz of the daemon in the chroot',
    );
    expect(healthz).toBe(200);

    const doctor = inRoot(['/usr/local/bin/portier', 'doctor', '--config', '/etc/portier/portier.yaml', '--json']);
    const by = Object.fromEntries(Object.values(doctorChecks(doctor.out)).map((c) => [c.check, c.status]));
    expect(by, doctor.out).toEqual({
      node: 'ok',
      config: 'ok',
      clock: 'skipped',
      disk: 'ok',
      'state-dir': 'ok',
      secrets: 'ok',
      'local-broker': 'ok',
      'cloud-broker': 'skipped',
      healthz: 'ok',
      // No systemd in a chroot, so no RuntimeDirectory=: the crash journal is in the state dir, which doctor flags.
      'journal-dir': 'warn',
      unit: 'skipped',
    });
    expect(doctor.code).toBe(0);
    expect(existsSync(join(root, 'var/lib/portier/portier.db'))).toBe(true);
  }, 900_000);
});
