import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortierProcess } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Under systemd, stdout goes to the journal and systemd sets JOURNAL_STREAM. journald reads a leading `<N>` on each
 * line as its syslog priority (sd-daemon(3); SyslogLevelPrefix= defaults to yes in systemd.exec(5)), which is what
 * `journalctl -p warning` filters on. No journald runs in the test container, so the test reads the lines the
 * daemon writes to it: what journald would parse.
 */
describe('portier run with stdout on the journal', () => {
  it('prefixes each line with the sd-daemon priority of its level (warn <4>, info <6>, debug <7>)', async () => {
    const dir = tempDir('portier-journal-');
    const config = join(dir, 'portier.yaml');
    writeFileSync(
      config,
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
    const daemon = new PortierProcess(['run', '--config', config], { JOURNAL_STREAM: '8:123456' });
    try {
      // A reader on a missing tty goes down: a warning.
      await daemon.waitFor((l) => typeof l.msg === 'string' && /"msg":"device down"/.test(l.msg), 20_000);
      await daemon.waitFor((l) => typeof l.msg === 'string' && /"msg":"gateway ready"/.test(l.msg), 20_000);
    } finally {
      daemon.kill('SIGTERM');
    }
    await daemon.exited;
    const raw = daemon.lines.map((l) => String(l.msg));
    const expected: Record<number, string> = { 20: '<7>', 30: '<6>', 40: '<4>', 50: '<3>', 60: '<2>' };
    const seen = new Set<number>();
    for (const text of raw) {
      const m = /^(<\d>)(\{.*\})$/.exec(text);
      expect(m, `line without a priority prefix: ${text}`).not.toBeNull();
      const level = (JSON.parse(m![2]!) as { level: number }).level;
      expect(m![1]).toBe(expected[level]);
      seen.add(level);
    }
    expect([...seen]).toEqual(expect.arrayContaining([20, 30, 40]));
    expect(raw.find((t) => t.includes('"msg":"device down"'))).toMatch(/^<4>/);
  });
});
