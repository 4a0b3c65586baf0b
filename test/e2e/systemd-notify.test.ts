import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { type Rig, startRig } from '../helpers/rig.js';

interface DgramSocket {
  bind(path: string): void;
  close(): void;
}
const dgram = createRequire(import.meta.url)('unix-dgram') as {
  createSocket(type: 'unix_dgram', listener: (msg: Buffer) => void): DgramSocket;
};

/** The daemon under a real notify socket, playing systemd's part (sd_notify(3), sd_watchdog_enabled(3)). */
describe('portier run under systemd (Type=notify, WatchdogSec)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(async () => {
    await rig?.stop();
  });

  it('sends READY=1 once started, WATCHDOG=1 while healthy, and STOPPING=1 then exits 0 within 5 s of SIGTERM', async () => {
    const messages: string[] = [];
    const socketPath = join(rig.dir, 'notify.sock');
    const server = dgram.createSocket('unix_dgram', (msg) => messages.push(msg.toString('utf8')));
    server.bind(socketPath);
    try {
      const daemon = new PortierProcess(['run', '--config', rig.configPath], {
        NOTIFY_SOCKET: socketPath,
        WATCHDOG_USEC: '400000',
      });
      await eventually(() => messages.some((m) => m.split('\n').includes('READY=1')), 20_000, 'READY=1');
      expect(daemon.lines.some((l) => l.msg === 'gateway ready')).toBe(true);
      await eventually(
        () => messages.filter((m) => m.split('\n').includes('WATCHDOG=1')).length >= 2,
        10_000,
        'watchdog pings',
      );
      const stopAt = Date.now();
      daemon.kill('SIGTERM');
      await eventually(() => messages.some((m) => m.split('\n').includes('STOPPING=1')), 5_000, 'STOPPING=1');
      const exit = await daemon.exited;
      expect(exit.code).toBe(0);
      expect(Date.now() - stopAt).toBeLessThan(5_000);
    } finally {
      server.close();
    }
  });
});
