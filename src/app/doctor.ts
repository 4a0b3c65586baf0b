import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import type { GatewayConfig } from '../config/schema.js';
import { reasonOf } from '../core/errors.js';
import { buildClientOptions } from '../sync/connection-options.js';
import { cloudTopics } from '../sync/topics.js';

/**
 * `portier doctor`: checks of a live install, each one line with ok / warn / fail / skipped and, unless ok, what
 * to do. Checks that need what a chroot or container does not have (systemd, its time sync) say `skipped` there.
 */
export type Status = 'ok' | 'warn' | 'fail' | 'skipped';
export interface CheckResult {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

const MQTT_TIMEOUT_MS = 4000;
const HTTP_TIMEOUT_MS = 4000;

const underSystemd = (): boolean => existsSync('/run/systemd/system');
const r = (check: string, status: Status, detail: string, fix?: string): CheckResult =>
  fix === undefined ? { check, status, detail } : { check, status, detail, fix };

export function checkNode(version = process.versions.node): CheckResult {
  const major = Number(version.split('.')[0]);
  return major >= 22
    ? r('node', 'ok', `Node.js v${version}`)
    : r('node', 'fail', `Node.js v${version} is older than 22`, 'install Node.js 22: sudo deploy/install.sh');
}

export function checkClock(trustSystemClock: boolean): CheckResult {
  if (!underSystemd()) return r('clock', 'skipped', 'not under systemd: no time sync status to read here');
  if (existsSync('/run/systemd/timesync/synchronized')) return r('clock', 'ok', 'synchronized (systemd-timesyncd)');
  const run = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };
  if (run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']).trim() === 'yes') {
    return r('clock', 'ok', 'synchronized (timedatectl)');
  }
  if (/Leap status\s*:\s*Normal/.test(run('chronyc', ['tracking']))) return r('clock', 'ok', 'synchronized (chrony)');
  return r(
    'clock',
    trustSystemClock ? 'warn' : 'fail',
    'the clock is not synchronized (passes are then checked against the time floor only)',
    'sudo timedatectl set-ntp true (systemd-timesyncd), or install chrony; check the Pi reaches an NTP server',
  );
}

export function checkDisk(stateDir: string, minFree: number): CheckResult {
  let free: number;
  try {
    const s = statfsSync(stateDir);
    free = s.bavail * s.bsize;
  } catch (err) {
    return r(
      'disk',
      'fail',
      `cannot read the file system of ${stateDir}: ${reasonOf(err)}`,
      'create it: sudo deploy/install.sh',
    );
  }
  const mib = (n: number) => `${Math.round(n / 1_048_576)} MiB`;
  const text = `${mib(free)} free on ${stateDir} (gateway.disk_min_free_bytes ${mib(minFree)})`;
  if (free < minFree) return r('disk', 'fail', text, `free space: sudo du -xsh /var/* | sort -h; remove old backups`);
  if (free < 2 * minFree) return r('disk', 'warn', text, 'less than twice the minimum: free space soon');
  return r('disk', 'ok', text);
}

/** statfs f_type of a tmpfs and of a ramfs (linux/magic.h). */
const IN_MEMORY_FS = new Set([0x01021994, 0x858458f6]);

/**
 * The commit window's crash journal on a tmpfs (docs/operations.md, Crash journal): elsewhere it is correct, but
 * the kernel writes each waiting event to the disk too, the writes the window saves. Its directory is the configured
 * one, else the unit's RuntimeDirectory (/run/portier), else the state directory.
 */
export function checkJournalDir(configured: string | undefined, stateDir: string): CheckResult {
  const dir = configured ?? unitRuntimeDir() ?? stateDir;
  let type: number;
  try {
    type = statfsSync(nearestExisting(dir)).type;
  } catch (err) {
    return r('journal-dir', 'warn', `cannot read the file system of ${dir}: ${reasonOf(err)}`);
  }
  if (IN_MEMORY_FS.has(type)) return r('journal-dir', 'ok', `crash journal in ${dir} (tmpfs)`);
  return r(
    'journal-dir',
    'warn',
    `crash journal in ${dir}, not on a tmpfs: events waiting for their commit are also written to the disk`,
    'run it as systemd/portier.service (RuntimeDirectory=portier), or set gateway.crash_journal_dir to a tmpfs directory (e.g. /dev/shm/portier)',
  );
}

function unitRuntimeDir(): string | undefined {
  if (!underSystemd()) return undefined;
  try {
    const args = ['show', 'portier', '-p', 'RuntimeDirectory', '--value'];
    const name = execFileSync('systemctl', args, { encoding: 'utf8', timeout: 5000 }).trim().split(/\s+/)[0];
    return name ? join('/run', name) : undefined;
  } catch {
    return undefined;
  }
}

/** `dir`, or its nearest parent that exists (/run/portier before the daemon's first start is /run's tmpfs). */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** The state directory 0700 and every file in it 0600, all of the directory's owner. */
export function checkStateDir(stateDir: string): CheckResult {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(stateDir);
  } catch {
    return r('state-dir', 'fail', `${stateDir} does not exist`, 'sudo deploy/install.sh (or start the gateway once)');
  }
  const problems: string[] = [];
  const octal = (m: number) => `0${(m & 0o777).toString(8)}`;
  if ((st.mode & 0o077) !== 0) problems.push(`${stateDir} is ${octal(st.mode)}`);
  for (const name of readdirSync(stateDir)) {
    const f = statSync(join(stateDir, name));
    if (!f.isFile()) continue;
    if ((f.mode & 0o077) !== 0) problems.push(`${name} is ${octal(f.mode)}`);
    if (f.uid !== st.uid) problems.push(`${name} is owned by uid ${f.uid}, not the directory's ${st.uid}`);
  }
  if (problems.length === 0) return r('state-dir', 'ok', `${stateDir} 0700, files 0600, owner uid ${st.uid}`);
  return r(
    'state-dir',
    'fail',
    problems.join('; '),
    `sudo chown -R portier:portier ${stateDir} && sudo chmod 0700 ${stateDir} && sudo chmod 0600 ${stateDir}/*`,
  );
}

/** Files of the config that hold secrets: never readable by others. */
export function checkSecretFiles(config: GatewayConfig): CheckResult {
  const files = [config.local_mqtt?.password_file, config.cloud?.password_file, config.cloud?.key_file].filter(
    (f): f is string => f !== undefined,
  );
  if (files.length === 0) return r('secrets', 'ok', 'no secret files in the config');
  const problems: string[] = [];
  for (const f of files) {
    try {
      const m = statSync(f).mode;
      if ((m & 0o007) !== 0) problems.push(`${f} is readable by others (0${(m & 0o777).toString(8)})`);
    } catch {
      problems.push(`${f} is missing`);
    }
  }
  return problems.length === 0
    ? r('secrets', 'ok', `${files.join(', ')}: not readable by others`)
    : r('secrets', 'fail', problems.join('; '), 'sudo chown portier:portier FILE && sudo chmod 0600 FILE');
}

/** Connect once with the given options and disconnect; resolves with an error text, or undefined. */
function mqttConnect(url: string, opts: IClientOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, { ...opts, reconnectPeriod: 0, connectTimeout: MQTT_TIMEOUT_MS });
    const done = (err?: string) => {
      client.end(true);
      resolve(err);
    };
    client.once('connect', () => done());
    client.once('error', (err) => done(reasonOf(err)));
    client.once('close', () => done('connection closed (refused or unreachable)'));
  });
}

const probeId = (what: string) => `portier-doctor-${what}-${process.pid}`;
const safeUrl = (u: string) => u.replace(/\/\/[^@/]*@/, '//');

export async function checkLocalBroker(config: GatewayConfig): Promise<CheckResult> {
  const m = config.local_mqtt;
  if (!m) return r('local-broker', 'skipped', 'no local_mqtt in the config');
  const opts: IClientOptions = { clientId: probeId('local'), clean: true };
  try {
    if (m.username !== undefined) opts.username = m.username;
    if (m.password_file) opts.password = readFileSync(m.password_file, 'utf8').trimEnd();
  } catch (err) {
    return r('local-broker', 'fail', `cannot read ${m.password_file}: ${reasonOf(err)}`, 'sudo deploy/install.sh');
  }
  const err = await mqttConnect(m.url, opts);
  return err === undefined
    ? r('local-broker', 'ok', `${safeUrl(m.url)} accepts ${m.username ?? 'anonymous'}`)
    : r(
        'local-broker',
        'fail',
        `${safeUrl(m.url)}: ${err}`,
        'sudo systemctl status mosquitto; check the user and password file (docs/operations.md, The local broker)',
      );
}

export async function checkCloudBroker(config: GatewayConfig): Promise<CheckResult> {
  const cloud = config.cloud;
  if (!cloud) return r('cloud-broker', 'skipped', 'no cloud in the config');
  const url = cloud.urls[0]!;
  let opts: IClientOptions;
  try {
    opts = buildClientOptions(cloud, url, config.gateway.id, cloudTopics(cloud.prefix, config.gateway.id), 4);
  } catch (err) {
    return r('cloud-broker', 'fail', reasonOf(err), 'fix the cloud section (portier config check)');
  }
  // Never the gateway's own client id or session: that would take its connection away.
  const { will: _will, properties: _props, ...rest } = opts;
  const err = await mqttConnect(url, { ...rest, clientId: probeId('cloud'), clean: true });
  return err === undefined
    ? r('cloud-broker', 'ok', `${safeUrl(url)} accepts the gateway's credentials`)
    : r('cloud-broker', 'fail', `${safeUrl(url)}: ${err}`, 'check the network, the certificates and their dates');
}

export async function checkHealthz(config: GatewayConfig): Promise<CheckResult> {
  if (!config.admin.enabled) return r('healthz', 'skipped', 'the admin API is disabled in the config');
  const scheme = config.admin.tls_cert_file ? 'https' : 'http';
  const url = `${scheme}://${config.admin.listen}/healthz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    if (res.ok) return r('healthz', 'ok', `${url} answers ${res.status}`);
    return r(
      'healthz',
      'fail',
      `${url} answers ${res.status}: ${(await res.text()).slice(0, 200)}`,
      'journalctl -u portier -n 50',
    );
  } catch (err) {
    return r('healthz', 'fail', `${url}: ${reasonOf(err)}`, 'is the gateway running? sudo systemctl status portier');
  }
}

/** What the unit must keep (systemd/portier.service); `systemctl show` reports these. */
const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  RestrictSUIDSGID: 'yes',
  LockPersonality: 'yes',
  UMask: '0077',
  User: 'portier',
  StateDirectoryMode: '0700',
};

export function checkUnit(): CheckResult {
  if (!underSystemd()) return r('unit', 'skipped', 'not under systemd: no unit to check here');
  let text: string;
  try {
    const props = [...Object.keys(HARDENING), 'ActiveState', 'CapabilityBoundingSet'];
    text = execFileSync('systemctl', ['show', 'portier', ...props.flatMap((p) => ['-p', p])], {
      encoding: 'utf8',
      timeout: 5000,
    });
  } catch (err) {
    return r('unit', 'fail', `systemctl show portier: ${reasonOf(err)}`, 'sudo deploy/install.sh');
  }
  const got = Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const wrong = Object.entries(HARDENING)
    .filter(([k, v]) => got[k] !== v)
    .map(([k, v]) => `${k}=${got[k] ?? ''} (want ${v})`);
  if (got.CapabilityBoundingSet) wrong.push(`CapabilityBoundingSet=${got.CapabilityBoundingSet} (want empty)`);
  if (wrong.length) {
    return r(
      'unit',
      'fail',
      wrong.join('; '),
      'remove drop-ins that weaken it (systemctl cat portier); sudo deploy/install.sh',
    );
  }
  if (got.ActiveState !== 'active') {
    return r(
      'unit',
      'fail',
      `hardened, but ${got.ActiveState}`,
      'sudo systemctl start portier; journalctl -u portier -n 50',
    );
  }
  return r('unit', 'ok', 'portier.service active with its hardening');
}
