import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
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
  /** Recreate the pair at the same paths (the device plugged back in). */
  start(): Promise<void>;
}

export async function createPtyPair(
  dir = mkdtempSync(join(tmpdir(), 'portier-pty-')),
  names: { gateway: string; device: string } = { gateway: 'gateway', device: 'device' },
): Promise<PtyPair> {
  const gatewayPath = join(dir, names.gateway);
  const devicePath = join(dir, names.device);
  let proc: ChildProcess | undefined;
  const pair: PtyPair = {
    gatewayPath,
    devicePath,
    async start() {
      proc = spawn('socat', [`pty,raw,echo=0,link=${gatewayPath}`, `pty,raw,echo=0,link=${devicePath}`], {
        stdio: 'ignore',
      });
      const failed = new Promise<never>((_, reject) => {
        proc?.once('error', (err) =>
          reject(new Error(`socat could not start (apt-get install socat): ${err.message}`)),
        );
      });
      const ready = (async () => {
        const deadline = Date.now() + 5000;
        while (!(existsSync(gatewayPath) && existsSync(devicePath))) {
          if (Date.now() > deadline) throw new Error('socat did not create the pty pair within 5 s');
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.race([ready, failed]);
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
  };
  await pair.start();
  return pair;
}
