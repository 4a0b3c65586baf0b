import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLcus } from '../../../devices/locks/lcus-frame.js';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { LcusRelayBoardStub } from '../../../firmware-stubs/lcus-relay-board.js';
import { createPtyPair, type PtyPair } from '../../../firmware-stubs/pty-pair.js';
import { TasmotaRelayStub } from '../../../firmware-stubs/tasmota-relay.js';
import { SimGpioDevice } from '../../../src/transports/gpio/sim.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../../helpers/issuer.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

describe('relay locks: LCUS USB board, Tasmota over MQTT, GPIO strike with request-to-exit', () => {
  let tg: TestGateway;
  let broker: Broker;
  let pty: PtyPair;
  let board: LcusRelayBoardStub;
  let tasmota: TasmotaRelayStub;
  let door: GpioDoorStub;
  let rex: SimGpioDevice;
  const issuer = makeIssuer();
  const of = (dev: string, type: string) => tg.events.filter((e) => e.dev === dev && e.type === type);

  beforeAll(async () => {
    const dir = tempDir('portier-relays-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    broker = await startMosquitto();
    pty = await createPtyPair(dir, { gateway: 'lcus', device: 'lcus.device' });
    board = new LcusRelayBoardStub(pty.devicePath, 2);
    tasmota = new TasmotaRelayStub({ brokerUrl: broker.url, topic: 'garage_relay' });
    door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    rex = new SimGpioDevice(gpioDir);
    rex.set(22, 1);
    await Promise.all([board.start(), tasmota.start(), door.start()]);
    tg = await startTestGateway({
      dir,
      gpioDir,
      brokerUrl: broker.url,
      devices: [
        {
          id: 'store-room',
          driver: 'lcus-usb-relay',
          settings: { path: pty.gatewayPath, channel: 2, open_time_ms: 600 },
        },
        { id: 'bike-garage', driver: 'tasmota-relay-lock', settings: { topic: 'garage_relay', open_time_ms: 600 } },
        {
          id: 'office',
          driver: 'gpio-relay-lock',
          settings: {
            relay_pin: 17,
            contact_pin: 27,
            contact_debounce_ms: 0,
            rex_pin: 22,
            rex_debounce_ms: 0,
            open_time_ms: 800,
          },
        },
      ],
    });
    tg.gateway.access.service.keys.importJwks(issuer.jwks);
    await eventually(
      () => tg.gateway.hosts.get('store-room')?.isUp && tg.gateway.hosts.get('bike-garage')?.isUp,
      15_000,
      'relays up',
    );
  });

  afterAll(async () => {
    await tg?.gateway.stop();
    await Promise.allSettled([board?.stop(), tasmota?.stop(), door?.stop()]);
    rex?.close();
    await pty?.stop();
    await broker?.stop();
  });

  /** Present a pass at a lock as a reader would, and wait for the committed decision. */
  async function present(lock: string, pass: string) {
    const before = of(lock, 'access.decision').length;
    tg.gateway.bus.emit('credential', { reader: 'test-reader', lock, kind: 'pass', value: pass, at: Date.now() });
    return (await eventually(() => of(lock, 'access.decision')[before], 10_000, `a decision at ${lock}`)).data;
  }

  it('LCUS: a grant switches the board’s channel on with A0 02 01 A3, and the relock switches it off', async () => {
    expect(encodeLcus({ channel: 2, on: true }).toString('hex')).toBe('a00201a3');
    const switchesBefore = board.switches.length;
    expect(await present('store-room', await pt1Pass(issuer.key, { aud: 'store-room' }))).toMatchObject({
      granted: true,
    });
    await eventually(() => board.isOn(2), 5000, 'board relay on');
    await eventually(() => !board.isOn(2), 5000, 'board relay off again');
    expect(board.switches.slice(switchesBefore).map((s) => [s.channel, s.on])).toEqual([
      [2, true],
      [2, false],
    ]);
    expect(board.isOn(1)).toBe(false);
    expect(board.refused).toBe(0);
  });

  it('LCUS: unplugged, a pass is refused before its use is counted; replugged, the board gets its state back', async () => {
    await board.stop();
    await pty.stop();
    await eventually(() => tg.gateway.hosts.get('store-room')?.isUp === false, 10_000, 'board down');
    const single = await pt1Pass(issuer.key, { aud: 'store-room', uses: 1 });
    expect(await present('store-room', single)).toMatchObject({ granted: false, reason: 'lock_unavailable' });
    await pty.start({ deviceFirst: () => board.start() });
    await eventually(() => tg.gateway.hosts.get('store-room')?.isUp, 10_000, 'board up again');
    // The single-use pass was not used up by the refusal.
    expect(await present('store-room', single)).toMatchObject({ granted: true });
    await eventually(() => board.isOn(2), 5000, 'board relay on');
    // A long unlock survives a replug: the board powers up off, and is told "on" again.
    await tg.gateway.hosts.get('store-room')!.command('unlock', { duration_ms: 60_000 });
    await board.stop();
    await pty.stop();
    await eventually(() => tg.gateway.hosts.get('store-room')?.isUp === false, 10_000, 'board down');
    // As a real board powered by the same plug: it is up before the gateway sees the tty again.
    await pty.start({ deviceFirst: () => board.start() });
    await eventually(() => board.isOn(2), 10_000, 'state restored after replug');
    await tg.gateway.hosts.get('store-room')!.command('lock', {});
    await eventually(() => !board.isOn(2), 5000, 'locked');
  });

  it('Tasmota: a grant sends cmnd POWER ON, the device confirms, and the relock sends OFF', async () => {
    const commands = tasmota.commands.length;
    expect(await present('bike-garage', await pt1Pass(issuer.key, { aud: 'bike-garage' }))).toMatchObject({
      granted: true,
    });
    await eventually(() => tasmota.on, 5000, 'relay on');
    await eventually(() => !tasmota.on, 5000, 'relay off again');
    expect(tasmota.commands.slice(commands)).toEqual(['ON', 'OFF']);
    // Whether the device's confirmation or the broker's acknowledgement comes first, the move is ours.
    await eventually(() => of('bike-garage', 'lock.state').at(-1)?.data.locked === true, 5000, 'lock.state locked');
    expect(
      of('bike-garage', 'lock.state')
        .map((e) => [e.data.locked, e.data.cause])
        .slice(-2),
    ).toEqual([
      [false, 'command'],
      [true, 'relock'],
    ]);
  });

  it('Tasmota: the device’s own button shows as lock.state; its LWT "Offline" is the device going down', async () => {
    const before = of('bike-garage', 'lock.state').length;
    await tasmota.press();
    const pressed = await eventually(() => of('bike-garage', 'lock.state')[before], 5000, 'reported');
    expect(pressed.data).toEqual({ locked: false, cause: 'device' });
    await tasmota.press();
    const again = await eventually(() => of('bike-garage', 'lock.state')[before + 1], 5000, 'locked again');
    expect(again.data).toEqual({ locked: true, cause: 'device' });
    tasmota.loseWifi();
    await eventually(
      () => of('bike-garage', 'device.health').at(-1)?.data.reason === 'Tasmota offline (LWT)',
      10_000,
      'LWT Offline seen',
    );
    expect(await present('bike-garage', await pt1Pass(issuer.key, { aud: 'bike-garage' }))).toMatchObject({
      granted: false,
      reason: 'lock_unavailable',
    });
    await expect(tg.gateway.hosts.get('bike-garage')!.command('unlock', {})).rejects.toThrow(/offline/);
    await tasmota.start();
    await eventually(() => of('bike-garage', 'device.health').at(-1)?.data.up === true, 10_000, 'back online');
    expect(await present('bike-garage', await pt1Pass(issuer.key, { aud: 'bike-garage' }))).toMatchObject({
      granted: true,
    });
    await eventually(() => tasmota.on, 5000, 'relay on');
  });

  it('GPIO: the request-to-exit button opens without a pass, recorded as a rex decision; walking out is not forced', async () => {
    rex.set(22, 0);
    await eventually(() => door.relay() === 1, 5000, 'strike released');
    rex.set(22, 1);
    const decision = await eventually(() => of('office', 'access.decision').at(-1), 5000, 'rex recorded');
    expect(decision.data).toEqual({ credential: 'rex', granted: true, reason: 'ok', lock: 'office' });
    door.open();
    await eventually(() => of('office', 'door.state').at(-1)?.data.state === 'open', 5000, 'door open');
    door.close();
    await eventually(() => door.relay() === 0, 5000, 'relocked');
    // The relock event follows the relay once committed (the log writes on its own thread).
    await eventually(() => of('office', 'lock.state').length >= 3, 5000, 'relock recorded');
    expect(of('office', 'alarm')).toEqual([]);
    expect(of('office', 'lock.state').map((e) => e.data.cause)).toEqual(['start', 'rex', 'relock']);
  });
});
