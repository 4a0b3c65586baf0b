import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

export interface Broker {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Extra config lines given at start, kept for restarts. */
  stop(): Promise<void>;
  /** Start again on the same port (after stop()). */
  restart(): Promise<void>;
}

/**
 * A real mosquitto on a free loopback port, for integration tests. `extraConfig` adds lines to its config file
 * (listeners with TLS, persistence, bridges).
 */
export async function startMosquitto(
  opts: { port?: number; extraConfig?: string[]; configFile?: string } = {},
): Promise<Broker> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'portier-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  if (opts.configFile) {
    // Run as root, mosquitto drops to its own user, which must be able to write its persistence file here.
    chmodSync(dir, 0o777);
    writeFileSync(
      conf,
      `${shippedConfig(opts.configFile, port, dir)
        .concat(opts.extraConfig ?? [])
        .join('\n')}\n`,
    );
  } else {
    const lines = opts.extraConfig?.some((l) => l.startsWith('listener'))
      ? opts.extraConfig
      : [`listener ${port} 127.0.0.1`, 'allow_anonymous true', ...(opts.extraConfig ?? [])];
    writeFileSync(conf, `${lines!.join('\n')}\nmax_queued_messages 0\n`);
  }
  const broker: Broker = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    proc: undefined as unknown as ChildProcess,
    async stop() {
      await stopProcess(broker.proc);
    },
    async restart() {
      broker.proc = launch(conf);
      await waitForPort(port);
    },
  };
  broker.proc = launch(conf);
  await waitForPort(port);
  return broker;
}

/**
 * A config file as shipped (config/mosquitto/), with its listener moved to `port` on loopback, its persistence
 * into the test's directory, and anonymous clients admitted (its password and ACL lines are tested with files of
 * their own by mosquitto-acl.test.ts): every other line is tested as an operator installs it.
 */
function shippedConfig(file: string, port: number, dir: string): string[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => !/^\s*(listener|persistence_location|allow_anonymous|password_file|acl_file)\s/.test(l));
  return [`listener ${port} 127.0.0.1`, 'allow_anonymous true', `persistence_location ${dir}/`, ...lines];
}

function launch(conf: string): ChildProcess {
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr?.resume();
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopProcess(proc: ChildProcess | undefined, graceMs = 3000): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}
