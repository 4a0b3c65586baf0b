import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToiletCabinStub } from '../../../firmware-stubs/toilet-cabin.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../../helpers/issuer.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

describe('public toilet: occupancy, signs, cleaning, emergency release, Euro-key', () => {
  let tg: TestGateway;
  let broker: Broker;
  let cabin: ToiletCabinStub;
  let watcher: MqttClient;
  const signs: string[] = [];
  const states: Array<Record<string, unknown>> = [];
  const issuer = makeIssuer();
  const of = (type: string) => tg.events.filter((e) => e.dev === 'toilet-1' && e.type === type);
  const lastDoor = () => of('door.state').at(-1)?.data;
  const toilet = () => tg.gateway.hosts.get('toilet-1')!;

  beforeAll(async () => {
    const dir = tempDir('portier-toilet-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    broker = await startMosquitto();
    watcher = await mqtt.connectAsync(broker.url, { clientId: `sign-${process.pid}` });
    watcher.on('message', (topic, payload) => {
      if (topic === 'signs/toilet-1') signs.push(payload.toString());
      else states.push(JSON.parse(payload.toString()) as Record<string, unknown>);
    });
    await watcher.subscribeAsync(['signs/toilet-1', 'portier/toilet-1/state']);
    cabin = new ToiletCabinStub({ dir: gpioDir, relayLine: 17, contactLine: 27, boltLine: 22, eurokeyLine: 23 });
    await cabin.start();
    tg = await startTestGateway({
      dir,
      gpioDir,
      brokerUrl: broker.url,
      devices: [
        {
          id: 'toilet-1',
          driver: 'public-toilet',
          settings: {
            relay_pin: 17,
            contact_pin: 27,
            bolt_pin: 22,
            eurokey_pin: 23,
            contact_debounce_ms: 0,
            bolt_debounce_ms: 0,
            eurokey_debounce_ms: 0,
            open_time_ms: 600,
            held_open_ms: 1000,
            max_occupancy_ms: 1500,
            cleaning_max_ms: 4000,
            sign_topic: 'signs/toilet-1',
            groups: ['toilets'],
          },
        },
      ],
    });
    tg.gateway.access.service.keys.importJwks(issuer.jwks);
  });

  afterAll(async () => {
    await tg?.gateway.stop();
    await cabin?.stop();
    await watcher?.endAsync();
    await broker?.stop();
  });

  async function present(pass: string) {
    const before = of('access.decision').length;
    tg.gateway.bus.emit('credential', {
      reader: 'toilet-qr',
      lock: 'toilet-1',
      kind: 'pass',
      value: pass,
      at: Date.now(),
    });
    return (await eventually(() => of('access.decision')[before], 10_000, 'a decision')).data;
  }

  it('starts free and locked, and says so on the sign', async () => {
    expect((await eventually(() => of('door.state')[0], 5000, 'door.state')).data).toEqual({
      state: 'closed',
      locked: true,
      occupied: false,
    });
    expect(of('lock.state')[0]?.data).toEqual({ locked: true, cause: 'start', mode: 'normal' });
    await eventually(() => signs.at(-1) === 'free', 10_000, 'sign "free"');
  });

  it('opens for a pass; occupied once the visitor bolts the door; a pass is refused while occupied, unused', async () => {
    const single = await pt1Pass(issuer.key, { aud: 'group:toilets', uses: 1 });
    expect(await present(await pt1Pass(issuer.key, { aud: 'toilet-1' }))).toMatchObject({ granted: true });
    await eventually(() => cabin.relay() === 1, 5000, 'strike released');
    cabin.openDoor();
    await eventually(() => lastDoor()?.state === 'open', 5000, 'door open');
    cabin.closeDoor();
    cabin.bolt();
    await eventually(() => lastDoor()?.occupied === true, 5000, 'occupied');
    await eventually(() => signs.at(-1) === 'occupied', 5000, 'sign "occupied"');
    // The device's retained state on the local broker carries it too (for dashboards and the cloud's mirror).
    await eventually(() => states.at(-1)?.occupied === true, 5000, 'retained state "occupied"');
    expect(await present(single)).toMatchObject({ granted: false, reason: 'occupied' });
    cabin.unbolt();
    await eventually(() => lastDoor()?.occupied === false, 5000, 'free again');
    await eventually(() => signs.at(-1) === 'free', 5000, 'sign "free"');
    // The visitor leaves through the locked door.
    cabin.openDoor();
    await eventually(() => lastDoor()?.state === 'open', 5000, 'out');
    cabin.closeDoor();
    await eventually(() => lastDoor()?.state === 'closed', 5000, 'closed');
    // The refusal did not use the single-use pass up.
    expect(await present(single)).toMatchObject({ granted: true });
    await eventually(() => cabin.relay() === 0, 5000, 'relocked');
  });

  it('a visitor leaving through the locked door is no forced door; opening it with nobody inside is', async () => {
    expect(await present(await pt1Pass(issuer.key, { aud: 'toilet-1' }))).toMatchObject({ granted: true });
    await eventually(() => cabin.relay() === 1, 5000, 'strike released');
    cabin.openDoor();
    await eventually(() => lastDoor()?.state === 'open', 5000, 'in');
    cabin.closeDoor();
    await eventually(() => lastDoor()?.state === 'closed', 5000, 'closed behind them');
    await eventually(() => cabin.relay() === 0, 5000, 'relocked while inside');
    // Without the bolt, out through the locked door (the inside handle opens it).
    cabin.openDoor();
    await eventually(() => lastDoor()?.state === 'open', 5000, 'out');
    cabin.closeDoor();
    await eventually(() => lastDoor()?.state === 'closed', 5000, 'closed');
    expect(of('alarm')).toEqual([]);
    cabin.openDoor();
    await eventually(() => of('alarm').some((e) => e.data.alarm === 'door_forced'), 5000, 'forced');
    cabin.closeDoor();
    await eventually(() => lastDoor()?.state === 'closed', 5000, 'closed');
  });

  it('raises an alarm when the toilet stays occupied past the maximum time', async () => {
    cabin.bolt();
    await eventually(() => lastDoor()?.occupied === true, 5000, 'occupied');
    const alarm = await eventually(() => of('alarm').find((e) => e.data.alarm === 'max_occupancy'), 10_000, 'alarm');
    expect(alarm.data.occupied_ms).toBeGreaterThanOrEqual(1000);
    cabin.unbolt();
    await eventually(() => lastDoor()?.occupied === false, 5000, 'free');
  });

  it('cleaning mode holds the strike open, refuses passes without using them, and ends by itself', async () => {
    const single = await pt1Pass(issuer.key, { aud: 'toilet-1', uses: 1 });
    await toilet().command('cleaning', { on: true });
    expect(of('lock.state').at(-1)?.data).toEqual({ locked: false, cause: 'cleaning', mode: 'cleaning' });
    await eventually(() => cabin.relay() === 1, 5000, 'strike held released');
    await eventually(() => signs.at(-1) === 'cleaning', 5000, 'sign "cleaning"');
    expect(await present(single)).toMatchObject({ granted: false, reason: 'out_of_service', mode: 'cleaning' });
    // The door stands open during cleaning, past held_open_ms, without an alarm.
    cabin.openDoor();
    await new Promise((r) => setTimeout(r, 1500));
    expect(of('alarm').filter((e) => e.data.alarm === 'door_held_open')).toEqual([]);
    cabin.closeDoor();
    expect(cabin.relay()).toBe(1);
    await eventually(() => of('lock.state').at(-1)?.data.mode === 'normal', 10_000, 'cleaning ended by itself');
    await eventually(() => cabin.relay() === 0, 5000, 'locked after cleaning');
    await eventually(() => signs.at(-1) === 'free', 5000, 'sign "free"');
    expect(await present(single)).toMatchObject({ granted: true });
    await eventually(() => cabin.relay() === 0, 5000, 'relocked');
  });

  it('emergency release opens and stays open until reset; the sign says out of order', async () => {
    await toilet().command('emergency_release', {});
    await eventually(() => cabin.relay() === 1, 5000, 'released');
    expect(of('lock.state').at(-1)?.data).toEqual({ locked: false, cause: 'emergency_release', mode: 'emergency' });
    await eventually(() => signs.at(-1) === 'out_of_order', 5000, 'sign "out_of_order"');
    expect(await present(await pt1Pass(issuer.key, { aud: 'toilet-1' }))).toMatchObject({ reason: 'out_of_service' });
    await new Promise((r) => setTimeout(r, 800));
    expect(cabin.relay()).toBe(1);
    await toilet().command('reset', {});
    await eventually(() => cabin.relay() === 0, 5000, 'locked');
    expect(of('lock.state').at(-1)?.data).toEqual({ locked: true, cause: 'reset', mode: 'normal' });
  });

  it('opens for a Euro-key without a pass, recorded as a eurokey decision', async () => {
    await cabin.turnEurokey(100);
    await eventually(() => cabin.relay() === 1, 5000, 'released');
    const decision = await eventually(
      () => of('access.decision').find((e) => e.data.credential === 'eurokey'),
      5000,
      'recorded',
    );
    expect(decision.data).toEqual({ credential: 'eurokey', granted: true, reason: 'ok', lock: 'toilet-1' });
    await eventually(() => cabin.relay() === 0, 5000, 'relocked');
  });
});
