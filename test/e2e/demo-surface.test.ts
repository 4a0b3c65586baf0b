import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { freePort } from '../helpers/mosquitto.js';
import { tempDir } from '../helpers/tmp.js';

/** Processes (pid and command line) whose command line mentions `text`, from /proc. */
function processesMentioning(text: string): Array<{ pid: number; cmdline: string }> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let cmdline: string;
    let state: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0] ?? '';
    } catch {
      continue; // gone meanwhile
    }
    if (state !== 'Z' && cmdline.includes(text)) out.push({ pid: Number(name), cmdline });
  }
  return out;
}

/** The command name of a live process, or undefined when there is none (or only a zombie) with that pid. */
function commOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  } catch {
    return undefined;
  }
}

/** Children of `pid` (parent pid in /proc/<child>/stat). */
function childrenOf(pid: number): Array<{ pid: number; comm: string }> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(name), comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('the demo as an attacker on the same machine sees it', () => {
  it('admits only its broker users, keeps its files private, and leaves no socat behind after SIGTERM', async () => {
    const dir = tempDir('portier-demo-');
    const port = await freePort();
    const old = process.umask(0o022);
    let demo: PortierProcess;
    try {
      demo = new PortierProcess(['demo'], {
        PORTIER_DEMO_DIR: dir,
        PORTIER_DEMO_MQTT_PORT: String(port),
        PORTIER_DEMO_HTTP_PORT: String(await freePort()),
        PORTIER_DEMO_COIOT_PORT: String(await freePort()),
        PORTIER_ADMIN_LISTEN: `127.0.0.1:${await freePort()}`,
      });
    } finally {
      process.umask(old);
    }
    let socats: Array<{ pid: number; comm: string }> = [];
    try {
      await demo.waitFor((l) => l.msg === 'gateway ready', 30_000, 'gateway ready');
      const url = `mqtt://127.0.0.1:${port}`;

      // An anonymous client is refused at CONNECT.
      await expect(mqtt.connectAsync(url, { reconnectPeriod: 0 })).rejects.toMatchObject({ code: 4 });

      // The operator, with the password the demo generated, asks the gateway (which connected with its own).
      const password = readFileSync(join(dir, 'mqtt', 'operator.password'), 'utf8').trim();
      const operator = await mqtt.connectAsync(url, { username: 'operator', password, reconnectPeriod: 0 });
      try {
        const answer = new Promise<string>((resolve) => operator.on('message', (_t, p) => resolve(p.toString('utf8'))));
        await operator.subscribeAsync('portier/bridge/response/health', { qos: 1 });
        await operator.publishAsync('portier/bridge/request/health', '{"transaction":1}', { qos: 1 });
        expect(JSON.parse(await answer)).toMatchObject({ status: 'ok', transaction: 1, data: { gateway: 'demo-gw' } });
      } finally {
        await operator.endAsync();
      }

      // Passwords, state and database are the user's alone, although the demo was started under umask 022.
      const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;
      for (const d of ['.', 'mqtt', 'state']) expect([d, mode(d)]).toEqual([d, 0o700]);
      for (const f of ['mqtt/gateway.password', 'mqtt/operator.password', 'mqtt/devices.password']) {
        expect([f, mode(f)]).toEqual([f, 0o600]);
      }
      for (const f of readdirSync(join(dir, 'state'))) expect([f, mode(`state/${f}`)]).toEqual([f, 0o600]);

      socats = childrenOf(demo.proc.pid!).filter((c) => c.comm === 'socat');
      expect(socats).toHaveLength(3); // the Davis console, the door's and the toilet's QR scanners
    } finally {
      demo.kill('SIGTERM');
    }
    expect((await demo.exited).code).toBe(0);
    // Every pty pair's socat is gone with the demo: none is left holding the demo's ptys.
    await eventually(() => processesMentioning(dir).length === 0, 10_000, 'no process left on the demo folder');
    for (const s of socats) expect(commOf(s.pid)).not.toBe('socat');
  }, 90_000);
});
