import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { eventually, PortierProcess } from '../../helpers/daemon.js';
import { freePort } from '../../helpers/mosquitto.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

/** `portier` as a child process (dist/, built by pretest), talking to the admin API over HTTP. */
async function portier(args: string[], env: NodeJS.ProcessEnv = {}) {
  const p = new PortierProcess(args, { PORTIER_ADMIN_LISTEN: '', PORTIER_STATE_DIR: '', PORTIER_CONFIG: '', ...env });
  // 'close' comes after the output streams ended ('exit' may come before the last lines are read).
  const closed = once(p.proc, 'close');
  const { code } = await p.exited;
  await closed;
  return {
    code,
    lines: p.lines,
    stdout: p.lines.map((l) => (l.raw ? l.msg : JSON.stringify(l))).join('\n'),
    stderr: p.stderr.join('\n'),
  };
}

describe('portier device and events against the running admin API', () => {
  let h: AdminHarness;
  let door: GpioDoorStub;
  let target: string[];

  beforeAll(async () => {
    h = await startAdminHarness();
    door = new GpioDoorStub({ dir: h.gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
    target = ['--admin', h.admin.url.replace('http://', ''), '--state-dir', h.stateDir];
  });
  afterAll(async () => {
    await door?.stop();
    await h?.stop();
  });

  it('device add refuses bad settings with every problem by field, then adds; list, show and test see it', async () => {
    const bad = await portier([
      'device',
      'add',
      'door-1',
      '--driver',
      'gpio-relay-lock',
      '--set',
      'relay_pin=40',
      '--set',
      'colour=red',
      ...target,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^portier device add: /);
    expect(bad.stderr).toMatch(/^ {2}settings\.relay_pin: expected a BCM line 0-27$/m);
    expect(bad.stderr).toMatch(/^ {2}settings\.colour: unknown key$/m);
    const badJson = await portier(['device', 'add', 'door-1', '--driver', 'gpio-relay-lock', '--json', ...target]);
    expect(badJson.code).toBe(1);
    expect(badJson.lines[0]).toMatchObject({
      error: { code: 'validation_failed', problems: [{ field: 'settings.relay_pin', message: expect.any(String) }] },
    });

    const ok = await portier([
      'device',
      'add',
      'door-1',
      '--driver',
      'gpio-relay-lock',
      '--name',
      'Service room',
      '--set',
      'relay_pin=17',
      '--set',
      'contact_pin=27',
      '--set',
      'groups=staff,night',
      ...target,
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('added door-1 (gpio-relay-lock)');
    expect(h.gateway.store.devices.get('door-1')?.config).toMatchObject({ groups: ['staff', 'night'], relay_pin: 17 });
    await eventually(() => h.gateway.hosts.get('door-1')?.isUp === true, 5000, 'door-1 up');

    const list = await portier(['device', 'list', '--json', ...target]);
    expect(list.code).toBe(0);
    expect(list.lines[0]?.devices).toEqual([expect.objectContaining({ id: 'door-1', up: true, name: 'Service room' })]);
    const human = await portier(['device', 'list', ...target]);
    expect(human.stdout).toMatch(/^door-1\s+gpio-relay-lock\s+up\s+.*state=closed/);

    const show = await portier(['device', 'show', 'door-1', ...target]);
    expect(show.stdout).toMatch(/^door-1 \(Service room\): gpio-relay-lock, lock, up, from runtime/);

    const test = await portier(['device', 'test', 'door-1', '--duration-ms', '700', ...target]);
    expect(test.code).toBe(0);
    expect(test.stdout).toMatch(/^door-1: strike pulsed/);
    await eventually(() => door.relay() === 1 || undefined, 5000, 'relay pulsed');
  });

  it('types --set values by the driver schema: a DevEUI of digits stays text', async () => {
    const res = await portier([
      'device',
      'add',
      'bay-7',
      '--driver',
      'chirpstack-parking',
      '--set',
      'dev_eui=0011223344556677',
      '--set',
      'codec=nwave-nps405',
      '--disabled',
      '--json',
      ...target,
    ]);
    expect(res.stderr).toBe('');
    expect(res.lines[0]).toMatchObject({ action: 'added', device: { id: 'bay-7', enabled: false } });
    expect(h.gateway.store.devices.get('bay-7')?.config.dev_eui).toBe('0011223344556677');
    const removed = await portier(['device', 'remove', 'bay-7', ...target]);
    expect(removed.stdout).toBe('removed bay-7');
    const gone = await portier(['device', 'show', 'bay-7', ...target]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('portier device show: no device "bay-7"');
  });

  it('events tail prints the latest events, and --follow each new one until stopped', async () => {
    for (let i = 0; i < 4; i++)
      h.gateway.store.events.recordNow({ dev: 'test-gw', type: 'gateway.health', data: { i } });
    const tail = await portier(['events', 'tail', '--limit', '3', '--json', ...target]);
    expect(tail.code).toBe(0);
    expect(tail.lines).toHaveLength(3);
    expect(tail.lines.map((l) => l.seq)).toEqual(h.events.slice(-3).map((e) => e.seq));

    const follow = new PortierProcess([
      'events',
      'tail',
      '--follow',
      '--dev',
      'door-1',
      '--type',
      'alarm',
      '--json',
      ...target,
    ]);
    // No need to wait for the stream: an alarm before the tail request is in the tail, one after it is replayed
    // from Last-Event-ID when the stream opens.
    door.open();
    const alarm = await follow.waitFor((l) => l.type === 'alarm', 15_000, 'alarm line');
    expect(alarm).toMatchObject({ dev: 'door-1', data: { alarm: 'door_forced' } });
    door.close();
    follow.kill('SIGTERM');
    expect((await follow.exited).code).toBe(0);
    expect(follow.lines.every((l) => l.type === 'alarm' && l.dev === 'door-1')).toBe(true);
  });

  it('finds the daemon from PORTIER_ADMIN_LISTEN and PORTIER_STATE_DIR, and says clearly when it cannot', async () => {
    const env = { PORTIER_ADMIN_LISTEN: h.admin.url.replace('http://', ''), PORTIER_STATE_DIR: h.stateDir };
    expect((await portier(['device', 'list'], env)).code).toBe(0);

    const port = await freePort();
    const down = await portier(['device', 'list', '--admin', `127.0.0.1:${port}`, '--state-dir', h.stateDir]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/did not answer \(ECONNREFUSED\): is the daemon running/);
    const noToken = await portier(['device', 'list', '--admin', h.admin.url, '--state-dir', '/nonexistent/portier']);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/cannot read the admin token \/nonexistent\/portier\/admin-token: not found/);
    const usage = await portier(['device', 'add', ...target]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give one device id/);
  });
});
