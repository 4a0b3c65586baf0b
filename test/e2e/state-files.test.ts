import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortierProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

const mode = (path: string) => statSync(path).mode & 0o777;

/**
 * Start `portier run` as a user's shell would under umask 022, wait until its admin API answers, run `check` while
 * it runs (the WAL and SHM files exist only then), and stop it.
 */
async function runOnce(configPath: string, adminPort: number, check: () => void): Promise<void> {
  const old = process.umask(0o022);
  let daemon: PortierProcess;
  try {
    daemon = new PortierProcess(['run', '--config', configPath]);
  } finally {
    process.umask(old);
  }
  try {
    await daemon.waitFor((l) => l.msg === 'admin API and dashboard listening', 20_000, 'admin API up');
    // An answer also means the start has finished and the signal handlers are in place.
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200);
    check();
  } finally {
    daemon.kill('SIGTERM');
  }
  expect((await daemon.exited).code).toBe(0);
}

describe('the state directory outside systemd (started by hand, umask 022)', () => {
  it('is created 0700 with its database, WAL, SHM and admin token 0600; an older, open one is narrowed', async () => {
    const dir = tempDir('portier-state-');
    const stateDir = join(dir, 'var', 'portier');
    const configPath = join(dir, 'portier.yaml');
    const port = await freePort();
    writeFileSync(
      configPath,
      `version: 1
gateway: { id: umask-gw, state_dir: ${stateDir}, trust_system_clock: true }
log: { level: info }
admin: { listen: "127.0.0.1:${port}" }
gpio: { backend: sim, sim_dir: ${join(dir, 'gpio')} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17 }
`,
    );
    const allPrivate = () => {
      expect(mode(stateDir)).toBe(0o700);
      const files = readdirSync(stateDir);
      expect(files).toEqual(expect.arrayContaining(['portier.db', 'portier.db-wal', 'portier.db-shm', 'admin-token']));
      for (const f of files) expect([f, mode(join(stateDir, f))]).toEqual([f, 0o600]);
    };
    await runOnce(configPath, port, allPrivate);

    // What an earlier version left behind under umask 022: every file readable by all.
    chmodSync(stateDir, 0o755);
    for (const f of readdirSync(stateDir)) chmodSync(join(stateDir, f), 0o644);
    await runOnce(configPath, port, allPrivate);
  }, 60_000);
});
