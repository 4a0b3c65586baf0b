import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { type LogLine, PortierProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

const sh = promisify(execFile);
const msg = (l: LogLine) => String(l.msg ?? '');

describe('the demo’s public toilet (npm start)', () => {
  it('prints a pass whose scan command and link both open the toilet, and the demo visitor uses it', async () => {
    const dir = tempDir('portier-demo-toilet-');
    const port = await freePort();
    const demo = new PortierProcess(['demo'], { PORTIER_DEMO_DIR: dir, PORTIER_DEMO_HTTP_PORT: String(port) });
    try {
      const printed = await demo.waitFor((l) => msg(l).startsWith('demo: a pass for toilet-1'), 30_000, 'the pass');
      const lines = msg(printed).split('\n');
      const pass = readFileSync(join(dir, 'demo-pass.txt'), 'utf8').trim();
      expect(pass.startsWith('PT1:')).toBe(true);
      expect(lines).toContain(`  ${pass}`);
      const scanCommand = lines
        .find((l) => l.startsWith('  scan it:'))
        ?.replace('  scan it:', '')
        .trim();
      const link = lines
        .find((l) => l.startsWith('  or open on this machine:'))
        ?.split(': ')[1]
        ?.trim();
      expect(scanCommand).toBeDefined();
      expect(link).toBe(`http://127.0.0.1:${port}/door/toilet-1#${pass.replaceAll('%', '%25').replaceAll(' ', '%20')}`);

      // The demo's visitor scans the printed pass: granted, in, bolted (occupied), out (free).
      /** The grant line at index `from` or later. */
      const granted = (from: number) => (l: LogLine) =>
        msg(l) === 'toilet-1: access GRANTED (pass at toilet-1-qr)' && demo.lines.indexOf(l) >= from;
      const lineAfter = (text: string, index: number) => (l: LogLine) =>
        msg(l) === text && demo.lines.indexOf(l) > index;
      /** The visitor unbolts, opens the door and closes it behind them. */
      const visitorGone = async (occupiedLine: LogLine) => {
        const out = await demo.waitFor(
          lineAfter('toilet-1: door open, free', demo.lines.indexOf(occupiedLine)),
          20_000,
          'out',
        );
        await demo.waitFor(lineAfter('toilet-1: door closed, free', demo.lines.indexOf(out)), 20_000, 'door closed');
      };
      const first = await demo.waitFor(granted(0), 40_000, 'the visitor’s grant');
      const occupied = await demo.waitFor(
        (l) => msg(l) === 'toilet-1: door closed, OCCUPIED' && demo.lines.indexOf(l) > demo.lines.indexOf(first),
        20_000,
        'occupied',
      );
      await visitorGone(occupied);

      // The printed command line, run by a shell as a person would paste it.
      const mark = demo.lines.length;
      await sh('sh', ['-c', scanCommand!]);
      await demo.waitFor(granted(mark), 15_000, 'a grant from the printed scan command');
      const inside = await demo.waitFor(
        (l) => msg(l) === 'toilet-1: door closed, OCCUPIED' && demo.lines.indexOf(l) >= mark,
        20_000,
        'occupied again',
      );
      await visitorGone(inside);

      // The printed link: the page, and the pass from its fragment posted as the page's script does.
      const page = await fetch(link!.split('#')[0]!);
      expect(page.status).toBe(200);
      const res = await fetch(`http://127.0.0.1:${port}/door/toilet-1/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ pass: decodeURIComponent(link!.split('#')[1]!) }),
      });
      expect(await res.json()).toMatchObject({ granted: true, reason: 'ok' });
    } finally {
      demo.kill('SIGINT');
    }
    expect((await demo.exited).code).toBe(0);
  }, 150_000);
});
