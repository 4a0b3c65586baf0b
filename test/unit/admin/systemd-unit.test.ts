import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { watchdogIntervalMs } from '../../../src/admin/sd-notify.js';

/**
 * systemd/portier.service, checked with systemd's own tools offline (no running systemd needed):
 * systemd-analyze(1) `security --offline=yes` and `verify` (systemd 252 here, Debian Bookworm's version).
 */

const UNIT = fileURLToPath(new URL('../../../systemd/portier.service', import.meta.url));
const ANALYZE = '/usr/bin/systemd-analyze';
const MAX_EXPOSURE = 2.5;
const tmp = mkdtempSync(join(tmpdir(), 'portier-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      ANALYZE,
      args,
      { env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The number after "Overall exposure level for <unit>:" (0.0 best, 10.0 worst). */
function exposureOf(output: string): number {
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(output);
  if (!m) throw new Error(`no exposure level in systemd-analyze output:\n${output}`);
  return Number(m[1]);
}

/** Every value of a directive in the unit, in order (repeated keys accumulate, as systemd reads them). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const text = readFileSync(UNIT, 'utf8');
const unit = directives(text);
const one = (key: string): string | undefined => unit.get(key)?.at(-1);

describe('systemd/portier.service', () => {
  it(`has an exposure of ${MAX_EXPOSURE} or lower in systemd-analyze security --offline=yes`, async () => {
    const { code, stdout } = await run(['security', '--offline=yes', UNIT]);
    expect(code).toBe(0);
    const exposure = exposureOf(stdout);
    expect(exposure).toBeGreaterThanOrEqual(0);
    expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  it('would score worse than the limit without its hardening section (the check can fail)', async () => {
    const marker = text.indexOf('# ---- Hardening');
    expect(marker).toBeGreaterThan(0);
    const bare = text.slice(0, marker);
    const path = join(tmp, 'portier.service');
    writeFileSync(path, `${bare}\n[Install]\nWantedBy=multi-user.target\n`);
    const { stdout } = await run(['security', '--offline=yes', path]);
    expect(exposureOf(stdout)).toBeGreaterThan(MAX_EXPOSURE);
  });

  it('passes systemd-analyze verify with no warnings', async () => {
    const { code, stdout, stderr } = await run(['verify', UNIT]);
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('would be reported by systemd-analyze verify if a directive were misspelt (the check can fail)', async () => {
    const path = join(tmp, 'portier.service');
    writeFileSync(path, text.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'));
    const { stderr } = await run(['verify', path]);
    expect(stderr).toMatch(/Unknown key 'NoNewPrivilege'/);
  });

  it('is a notify service with a watchdog the gateway pings every 15 s', () => {
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('main');
    expect(one('WatchdogSec')).toBe('30');
    expect(one('Restart')).toBe('on-failure');
    // What systemd passes as WATCHDOG_USEC for WatchdogSec=30, and the ping period the daemon derives from it.
    expect(watchdogIntervalMs({ WATCHDOG_USEC: String(Number(one('WatchdogSec')) * 1_000_000) })).toBe(15_000);
  });

  it('runs node on the built CLI as the portier user with GPIO and serial groups and its state directory', () => {
    expect(one('ExecStart')).toBe(
      '/usr/bin/node --optimize-for-size --no-opt /opt/portier/dist/src/cli/bin.js run --config /etc/portier/portier.yaml',
    );
    expect(one('User')).toBe('portier');
    expect(one('SupplementaryGroups')?.split(/\s+/).sort()).toEqual(['dialout', 'gpio']);
    expect(one('StateDirectory')).toBe('portier');
    // The gateway narrows its state directory to 0700 itself; systemd must not widen it again at every start.
    expect(one('StateDirectoryMode')).toBe('0700');
    expect(one('UMask')).toBe('0077');
    expect(one('Environment')?.split(/\s+/)).toContain('PORTIER_STATE_DIR=/var/lib/portier');
    // Memory (docs/architecture.md): what `npm run bench` measures the daemon with.
    expect(one('Environment')?.split(/\s+/)).toContain('MALLOC_ARENA_MAX=2');
  });

  it('allows serial adapters and GPIO chips and nothing else beyond the pseudo devices', () => {
    expect(one('DevicePolicy')).toBe('closed');
    expect(unit.get('DeviceAllow')).toEqual([
      'char-ttyUSB rw',
      'char-ttyACM rw',
      'char-ttyAMA rw',
      'char-ttyS rw',
      'char-gpiochip rw',
    ]);
    expect(one('PrivateDevices')).toBeUndefined();
    expect(one('ReadWritePaths')?.split(/\s+/)).toContain('-/sys/class/gpio');
  });

  it('keeps MemoryDenyWriteExecute off for the V8 JIT and says why', () => {
    expect(one('MemoryDenyWriteExecute')).toBe('no');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith('MemoryDenyWriteExecute='));
    expect(lines.slice(Math.max(0, at - 3), at).join('\n')).toMatch(/JIT/);
  });

  it('filters system calls and refuses them with EPERM rather than killing node', () => {
    expect(unit.get('SystemCallFilter')).toEqual(['@system-service', '~@privileged @resources']);
    expect(one('SystemCallArchitectures')).toBe('native');
    expect(one('SystemCallErrorNumber')).toBe('EPERM');
    expect(one('CapabilityBoundingSet')).toBe('');
    expect(one('NoNewPrivileges')).toBe('yes');
  });
});
