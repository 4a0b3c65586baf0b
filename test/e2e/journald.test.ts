import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, eventually } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Under systemd, stdout is a stream to journald and systemd sets JOURNAL_STREAM to its `device:inode`
 * (systemd.exec(5)). journald reads a leading `<N>` on each line as its syslog priority (sd-daemon(3);
 * SyslogLevelPrefix= defaults to yes), which is what `journalctl -p warning` filters on. No journald runs in the
 * test container, so the daemon's stdout is a file named by JOURNAL_STREAM, and the test reads what journald would.
 */
function config(dir: string): string {
  const file = join(dir, 'portier.yaml');
  writeFileSync(
    file,
    `version: 1
gateway: { id: journal-gw, state_dir: ${join(dir, 'state')}, trust_system_clock: true }
log: { level: debug }
admin: { listen: "127.0.0.1:0" }
gpio: { backend: sim, sim_dir: ${dir} }
devices:
  - { id: door-1, driver: gpio-relay-lock, relay_pin: 17 }
  - { id: qr-1, driver: serial-qr-reader, path: ${join(dir, 'no-such-tty')}, lock: door-1 }
`,
  );
  return file;
}

/** The daemon with stdout on `out`; JOURNAL_STREAM names `journal` (the same file, or another one). */
async function runUntilDeviceDown(dir: string, sameFile: boolean): Promise<string[]> {
  const out = join(dir, 'stdout');
  const fd = openSync(out, 'w');
  const other = join(dir, 'other');
  writeFileSync(other, '');
  const st = sameFile ? fstatSync(fd, { bigint: true }) : statSync(other, { bigint: true });
  const env = { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` };
  const child = spawn(process.execPath, [BIN, 'run', '--config', config(dir)], { env, stdio: ['ignore', fd, 'pipe'] });
  const exited = new Promise((resolve) => child.once('close', resolve));
  try {
    // A reader on a missing tty goes down: a warning.
    await eventually(() => readFileSync(out, 'utf8').includes('"msg":"device down"'), 20_000, 'device down');
  } finally {
    child.kill('SIGTERM');
    await exited;
    closeSync(fd);
  }
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

describe('portier run with stdout on the journal', () => {
  it('prefixes each line with the sd-daemon priority of its level (warn <4>, info <6>, debug <7>)', async () => {
    const lines = await runUntilDeviceDown(tempDir('portier-journal-'), true);
    const expected: Record<number, string> = { 10: '<7>', 20: '<7>', 30: '<6>', 40: '<4>', 50: '<3>', 60: '<2>' };
    const seen = new Set<number>();
    for (const text of lines) {
      const m = /^(<\d>)(\{.*\})$/.exec(text);
      expect(m, `line without a priority prefix: ${text}`).not.toBeNull();
      const level = (JSON.parse(m![2]!) as { level: number }).level;
      expect(m![1]).toBe(expected[level]);
      seen.add(level);
    }
    expect([...seen]).toEqual(expect.arrayContaining([20, 30, 40]));
    expect(lines.find((t) => t.includes('"msg":"device down"'))).toMatch(/^<4>/);
  });

  it('writes plain JSON when JOURNAL_STREAM names another stream (a shell started from a service)', async () => {
    const lines = await runUntilDeviceDown(tempDir('portier-journal-'), false);
    expect(lines.length).toBeGreaterThan(3);
    for (const text of lines) expect(() => JSON.parse(text), text).not.toThrow();
  });
});
