import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from './mosquitto.js';

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

export async function createPtyPair(dir = mkdtempSync(join(tmpdir(), 'portier-pty-'))): Promise<PtyPair> {
  const gatewayPath = join(dir, 'gateway');
  const devicePath = join(dir, 'device');
  let proc: ChildProcess | undefined;
  const pair: PtyPair = {
    gatewayPath,
    devicePath,
    async start() {
      proc = spawn('socat', [`pty,raw,echo=0,link=${gatewayPath}`, `pty,raw,echo=0,link=${devicePath}`], {
        stdio: 'ignore',
      });
      const deadline = Date.now() + 5000;
      while (!(existsSync(gatewayPath) && existsSync(devicePath))) {
        if (Date.now() > deadline) throw new Error('socat did not create the pty pair');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await stopProcess(proc);
      proc = undefined;
    },
  };
  await pair.start();
  return pair;
}
