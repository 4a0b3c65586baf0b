import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A pair of real pseudo-terminals joined by socat: the gateway opens `gatewayPath`, the firmware stub opens
 * `devicePath`. Stopping the pair makes both vanish, as an unplugged USB adapter does.
 */
export interface PtyPair {
  gatewayPath: string;
  devicePath: string;
  stop(): Promise<void>;
  /**
   * Recreate the pair at the same paths (the device plugged back in). With `deviceFirst`, the gateway's path
   * appears only after it has run (e.g. the stub opening its end), as with a real board that is powered by the
   * same USB plug and is up before the host sees its tty: nothing the gateway writes at once can be lost.
   */
  start(opts?: { deviceFirst?: () => Promise<void> }): Promise<void>;
}

export async function createPtyPair(
  dir = mkdtempSync(join(tmpdir(), 'portier-pty-')),
  names: { gateway: string; device: string } = { gateway: 'gateway', device: 'device' },
): Promise<PtyPair> {
  const gatewayPath = join(dir, names.gateway);
  const devicePath = join(dir, names.device);
  let proc: ChildProcess | undefined;
  /** The gateway's link was renamed into place, so socat will not remove it at exit: stop() does. */
  let moved = false;
  const pair: PtyPair = {
    gatewayPath,
    devicePath,
    async start(opts = {}) {
      const early = opts.deviceFirst ? `${gatewayPath}.plugging` : gatewayPath;
      const child = spawn('socat', [`pty,raw,echo=0,link=${early}`, `pty,raw,echo=0,link=${devicePath}`], {
        stdio: 'ignore',
      });
      proc = child;
      // socat is a process of its own: if ours exits without stop() (a signal handler that calls process.exit, a
      // stop that ran out of time), it must not outlive us holding the ptys. 'exit' handlers run synchronously.
      const killOnExit = () => child.kill('SIGTERM');
      process.once('exit', killOnExit);
      child.once('exit', () => process.off('exit', killOnExit));
      const failed = new Promise<never>((_, reject) => {
        proc?.once('error', (err) =>
          reject(new Error(`socat could not start (apt-get install socat): ${err.message}`)),
        );
      });
      const ready = (async () => {
        const deadline = Date.now() + 5000;
        while (!(existsSync(early) && existsSync(devicePath))) {
          if (Date.now() > deadline) throw new Error('socat did not create the pty pair within 5 s');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.race([ready, failed]);
      if (opts.deviceFirst) {
        await opts.deviceFirst();
        renameSync(early, gatewayPath);
        moved = true;
      }
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
      if (moved) rmSync(gatewayPath, { force: true });
      moved = false;
    },
  };
  await pair.start();
  return pair;
}
