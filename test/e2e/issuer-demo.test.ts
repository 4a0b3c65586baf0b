import { describe, expect, it } from 'vitest';
import { eventually, type LogLine, PortierProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

const msg = (l: LogLine) => String(l.msg ?? '');

describe('the demo runs the issuer beside the gateway (npm start)', () => {
  it('prints the door page; pressing Open there opens the simulated toilet through the embedded broker', async () => {
    const issuerPort = await freePort();
    const demo = new PortierProcess(['demo'], {
      PORTIER_DEMO_DIR: tempDir('portier-demo-issuer-'),
      PORTIER_DEMO_HTTP_PORT: String(await freePort()),
      PORTIER_DEMO_ISSUER_PORT: String(issuerPort),
      PORTIER_DEMO_COIOT_PORT: String(await freePort()),
    });
    try {
      const printed = await demo.waitFor((l) => msg(l).startsWith('demo: the door page of toilet-1'), 30_000, 'url');
      const url = /(http:\/\/\S+\/d\/toilet-1)/.exec(msg(printed))?.[1];
      expect(url).toBe(`http://127.0.0.1:${issuerPort}/d/toilet-1`);
      // The demo's own visitor uses the toilet first: wait until they have left and the door is free again.
      const occupied = await demo.waitFor((l) => msg(l) === 'toilet-1: door closed, OCCUPIED', 40_000, 'occupied');
      const lineAfter = (i: number, text: string) => (l: LogLine) => msg(l) === text && demo.lines.indexOf(l) > i;
      await demo.waitFor(lineAfter(demo.lines.indexOf(occupied), 'toilet-1: door closed, free'), 30_000, 'free again');
      // The issuer learns the state from the gateway's events on the broker (a batch within half a second).
      const page = await eventually(
        async () => {
          const html = await (await fetch(`${url}?lang=en`)).text();
          return html.includes('State: <strong>free</strong>') ? html : undefined;
        },
        10_000,
        'the page says free',
      );
      expect(page).toContain('<h1>Public toilet, station square</h1>');
      const mark = demo.lines.length;
      const res = await fetch(`${url}/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'lang=en',
      });
      expect(await res.text()).toContain('Open: push the door now.');
      await demo.waitFor(lineAfter(mark - 1, 'toilet-1: access GRANTED (pass at cloud)'), 10_000, 'granted in the log');
      await demo.waitFor(lineAfter(mark - 1, 'toilet-1: UNLOCKED'), 10_000, 'unlocked');
    } finally {
      demo.kill('SIGTERM');
    }
    expect((await demo.exited).code).toBe(0);
  });
});
