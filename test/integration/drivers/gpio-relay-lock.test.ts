import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

async function doorRig(settings: Record<string, unknown>) {
  const dir = tempDir('portier-lock-');
  const gpioDir = join(dir, 'gpio');
  mkdirSync(gpioDir);
  const door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
  await door.start();
  const tg = await startTestGateway({
    dir,
    gpioDir,
    devices: [
      {
        id: 'door',
        driver: 'gpio-relay-lock',
        settings: { relay_pin: 17, contact_pin: 27, contact_debounce_ms: 0, ...settings },
      },
    ],
  });
  return { door, ...tg };
}

const states = (tg: TestGateway, type: string) =>
  tg.events.filter((e) => e.dev === 'door' && e.type === type).map((e) => e.data);

describe('GPIO relay lock with door contact', () => {
  let rig: Awaited<ReturnType<typeof doorRig>> | undefined;
  afterEach(async () => {
    await rig?.gateway.stop();
    await rig?.door.stop();
    rig = undefined;
  });

  it('fail-secure: energizes the relay to open, relocks after the open time, and reports the door walking through', async () => {
    rig = await doorRig({ mode: 'fail-secure', open_time_ms: 600 });
    const r = rig;
    expect(r.door.relay()).toBe(0);
    await r.gateway.hosts.get('door')!.command('unlock', {});
    await eventually(() => r.door.relay() === 1, 5000, 'relay energized');
    r.door.open();
    await eventually(() => states(r, 'door.state').some((d) => d.state === 'open'), 5000, 'door open');
    r.door.close();
    await eventually(() => r.door.relay() === 0, 5000, 'relay released after the open time');
    await eventually(() => states(r, 'lock.state').at(-1)?.locked === true, 5000, 'locked again');
    expect(states(r, 'lock.state').map((d) => d.locked)).toEqual([true, false, true]);
    expect(r.events.some((e) => e.type === 'alarm')).toBe(false);
  });

  it('fail-safe: holds the relay energized while locked (the strike opens when power fails)', async () => {
    rig = await doorRig({ mode: 'fail-safe' });
    const r = rig;
    await eventually(() => r.door.relay() === 1, 5000, 'relay energized while locked');
    await r.gateway.hosts.get('door')!.command('unlock', { duration_ms: 500 });
    await eventually(() => r.door.relay() === 0, 5000, 'relay released to open');
  });

  it('raises forced when the door opens while locked, and held_open when it stands open too long', async () => {
    rig = await doorRig({ held_open_ms: 1000 });
    const r = rig;
    r.door.open();
    await eventually(() => states(r, 'door.state').some((d) => d.state === 'forced'), 5000, 'forced');
    await eventually(() => states(r, 'door.state').some((d) => d.state === 'held_open'), 5000, 'held open');
    const alarms = r.events.filter((e) => e.type === 'alarm').map((e) => e.data.alarm);
    expect(alarms).toEqual(['door_forced', 'door_held_open']);
    // Alarms are critical: committed durably, in the outbox's critical lane.
    const lanes = r.gateway.store.db
      .prepare("SELECT o.lane FROM outbox o JOIN events e USING (seq) WHERE e.type = 'alarm'")
      .all();
    expect(lanes).toEqual([{ lane: 0 }, { lane: 0 }]);
  });

  it('refuses a command with bad arguments by name', async () => {
    rig = await doorRig({});
    await expect(rig.gateway.hosts.get('door')!.command('unlock', { duration_ms: 'long' })).rejects.toThrow(/unlock/);
    await expect(rig.gateway.hosts.get('door')!.command('explode', {})).rejects.toThrow(/no command "explode"/);
  });
});
