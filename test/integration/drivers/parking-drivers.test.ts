import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loraRouter } from '../../../devices/parking/lorawan-router.js';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { CoapBaySensorStub } from '../../../firmware-stubs/coap-bay-sensor.js';
import { LoopDetectorStub } from '../../../firmware-stubs/loop-detector.js';
import { MaxbotixSensorStub } from '../../../firmware-stubs/maxbotix-sensor.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { createPtyPair, type PtyPair } from '../../../firmware-stubs/pty-pair.js';
import { TtsSensorStub } from '../../../firmware-stubs/tts-sensor.js';
import { datexParkingStatus } from '../../../src/admin/datex.js';
import type { Gateway } from '../../../src/app/gateway.js';
import type { PortierEvent } from '../../../src/core/events.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const run = promisify(execFile);

/** One gateway with a bay of each sensor kind on its real wire, and a zone over them. */
describe('parking sensors on their wires', () => {
  let broker: Broker;
  let gateway: Gateway;
  let events: PortierEvent[];
  let pty: PtyPair;
  let sonar: MaxbotixSensorStub;
  let loop: LoopDetectorStub;
  let coap: CoapBaySensorStub;
  let coapUrl: string;
  let lora: ChirpstackSensorStub;
  let tts: TtsSensorStub;

  const occupancy = (dev: string) => events.filter((e) => e.dev === dev && e.type === 'parking.occupancy');
  const health = (dev: string) => events.filter((e) => e.dev === dev && e.type === 'device.health');
  const zone = () => events.filter((e) => e.type === 'parking.zone').at(-1)?.data;
  const rejected = (dev: string) => Object.fromEntries(gateway.hosts.get(dev)!.rejected);

  beforeAll(async () => {
    const dir = tempDir('portier-parking-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    broker = await startMosquitto();
    pty = await createPtyPair(dir);
    sonar = new MaxbotixSensorStub({ path: pty.devicePath, intervalMs: 60 });
    loop = new LoopDetectorStub({ dir: gpioDir, line: 22, occupiedLevel: 0 });
    coap = new CoapBaySensorStub();
    lora = new ChirpstackSensorStub({ brokerUrl: broker.url, devEui: '70b3d5e75e0000aa' });
    tts = new TtsSensorStub({ brokerUrl: broker.url, deviceId: 'bay-tts', devEui: '70b3d5e75e0000bb' });
    await Promise.all([sonar.start(), loop.start(), lora.start(), tts.start()]);
    coapUrl = await coap.start();
    ({ gateway, events } = await startTestGateway({
      dir,
      gpioDir,
      brokerUrl: broker.url,
      devices: [
        { id: 'sonar', driver: 'maxbotix-parking', settings: { path: pty.gatewayPath, debounce_ms: 0, zone: 'lot' } },
        {
          id: 'loop',
          driver: 'loop-detector',
          settings: { pin: 22, occupied_level: 0, contact_debounce_ms: 0, debounce_ms: 400, zone: 'lot' },
        },
        { id: 'coap', driver: 'coap-parking', settings: { url: coapUrl, mode: 'poll', poll_interval_s: 1 } },
        {
          id: 'lora',
          driver: 'chirpstack-parking',
          settings: { dev_eui: '70b3d5e75e0000aa', codec: 'nwave-nps405', stale_after_s: 10 },
        },
        {
          id: 'tts',
          driver: 'tts-parking',
          settings: { dev_eui: '70b3d5e75e0000bb', codec: 'nwave-nps405', device_id: 'bay-tts' },
        },
        { id: 'lot', driver: 'parking-zone', settings: { bays: ['coap', 'lora', 'tts'], capacity: 5 } },
        // A configuration mistake: the same sensor twice.
        {
          id: 'lora-again',
          driver: 'chirpstack-parking',
          settings: { dev_eui: '70B3D5E75E0000AA', codec: 'bosch-tps110' },
        },
      ],
    }));
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.allSettled([sonar?.stop(), loop?.stop(), coap?.stop(), lora?.stop(), tts?.stop()]);
    await pty?.stop();
    await broker?.stop();
  });

  it('MaxBotix: a car under the sensor occupies the bay; the hysteresis band holds it; beyond it frees', async () => {
    await eventually(() => occupancy('sonar').length === 1, 10_000, 'the first state');
    expect(occupancy('sonar')[0]!.data).toMatchObject({ occupied: false, bay: 'sonar', zone: 'lot' });
    sonar.park(true, 1180);
    await eventually(() => occupancy('sonar').length === 2, 10_000, 'occupied');
    expect(occupancy('sonar')[1]!.data).toMatchObject({ occupied: true, distance_m: 1.18 });
    // 1.6 m is above the 1.5 m threshold but within the 0.2 m band: a roof's slope, not a departure.
    sonar.rangeMm = 1600;
    const before = sonar.sent;
    await eventually(() => sonar.sent >= before + 10, 10_000, 'ten readings at 1.6 m');
    const seen = occupancy('sonar').length;
    sonar.rangeMm = 1850;
    await eventually(() => occupancy('sonar').length === seen + 1, 10_000, 'free beyond the band');
    expect(seen).toBe(2);
    expect(occupancy('sonar').at(-1)!.data).toMatchObject({ occupied: false, distance_m: 1.85 });
  });

  it('loop detector: a car chattering over the loop edge gives one change after the debounce', async () => {
    await eventually(() => occupancy('loop').length === 1, 10_000, 'the first state');
    expect(occupancy('loop')[0]!.data.occupied).toBe(false);
    await loop.chatter(true, 4, 30);
    await eventually(() => occupancy('loop').length === 2, 10_000, 'occupied');
    expect(occupancy('loop')[1]!.data.occupied).toBe(true);
    loop.set(false);
    await eventually(() => occupancy('loop').length === 3, 10_000, 'free');
    expect(occupancy('loop').map((e) => e.data.occupied)).toEqual([false, true, false]);
  });

  it('CoAP: polls the SenML resource; libcoap coap-client reads the same bytes the driver reads', async () => {
    await eventually(() => occupancy('coap').length === 1, 10_000, 'the first state');
    coap.set(true);
    await eventually(() => occupancy('coap').length === 2, 10_000, 'occupied');
    expect(occupancy('coap')[1]!.data).toMatchObject({
      occupied: true,
      distance_m: 0.42,
      battery_v: 3.61,
      temperature_c: 11.5,
    });
    const { stdout } = await run('coap-client-notls', ['-B', '3', '-m', 'get', coapUrl]);
    expect(JSON.parse(stdout.trim())[0]).toMatchObject({ n: 'presence', vb: true });
  });

  it('CoAP: observe notifications arrive for each change, and a broken body is counted', async () => {
    // A second, observing client (libcoap, -s 3: observe for 3 s) alongside the gateway's polls.
    const observing = run('coap-client-notls', ['-B', '5', '-s', '3', '-m', 'get', coapUrl]);
    await eventually(() => coap.server.observerCount === 1, 10_000, 'an observer');
    coap.set(false);
    const { stdout } = await observing;
    // coap-client prints each notification's payload as it comes, without separators.
    const packs = stdout.trim().replaceAll('][', ']\n[').split('\n');
    expect(packs.map((p) => (JSON.parse(p) as Array<{ vb?: boolean }>)[0]?.vb)).toEqual([true, false]);
    coap.setRaw('[{"n":"presence",');
    await eventually(() => (rejected('coap').truncated ?? 0) > 0, 10_000, 'a counted truncated body');
  });

  it('LoRaWAN: a stale sensor goes down, its bay becomes unknown in the zone, and comes back with an uplink', async () => {
    await lora.uplink(1, nps405Status(true));
    await tts.uplink(1, nps405Status(false));
    await eventually(() => zone()?.occupied !== undefined && occupancy('tts').length === 1, 10_000, 'bays known');
    await eventually(() => health('lora').some((e) => e.data.up === false), 20_000, 'lora stale');
    expect(health('lora').at(-1)!.data).toEqual({ up: false, reason: 'stale: no uplink for 10 s' });
    await eventually(() => zone()?.unknown === 1, 10_000, 'an unknown bay in the zone');
    await lora.uplink(1, nps405Status(false));
    await eventually(() => health('lora').at(-1)?.data.up === true && zone()?.unknown === undefined, 10_000, 'back');
  });

  it('refuses a second device for a DevEUI already driven, with a reason, and keeps the first', async () => {
    const dup = gateway.hosts.get('lora-again')!;
    expect(dup.isUp).toBe(false);
    expect(health('lora-again').at(-1)!.data).toEqual({
      up: false,
      reason: 'start failed: DevEUI 70b3d5e75e0000aa is already driven by another device',
    });
    await lora.uplink(1, nps405Status(false));
    await eventually(() => occupancy('lora').at(-1)?.data.occupied === false, 10_000, 'the first still works');
  });

  it("drops a stranger's ChirpStack uplink before parsing it, counting it only as unrouted", async () => {
    const router = loraRouter(gateway.shared, gateway.mqtt(), 'chirpstack');
    const before = router.unrouted;
    const stranger = new ChirpstackSensorStub({ brokerUrl: broker.url, devEui: '0000000000000bad' });
    await stranger.start();
    await stranger.publishRaw('this is not even JSON');
    await eventually(() => router.unrouted === before + 1, 10_000, 'an unrouted uplink');
    for (const id of ['lora', 'lora-again', 'tts']) expect(rejected(id).garbage).toBeUndefined();
    await stranger.stop();
  });

  it('The Things Stack: an uplink whose DevEUI is not the topic device is refused as wrong_device', async () => {
    const impostor = new TtsSensorStub({ brokerUrl: broker.url, deviceId: 'bay-tts', devEui: '70b3d5e75e0000cc' });
    await impostor.start();
    await impostor.uplink(1, nps405Status(true));
    await eventually(() => rejected('tts').wrong_device === 1, 10_000, 'a counted wrong_device');
    await impostor.stop();
  });

  it('the zone counts its listed bays and the bays that name it', async () => {
    await lora.uplink(1, nps405Status(true));
    await tts.uplink(1, nps405Status(true));
    const expected = () =>
      ['sonar', 'loop', 'coap', 'lora', 'tts'].filter((d) => occupancy(d).at(-1)?.data.occupied === true).length;
    await eventually(() => zone()?.occupied === expected(), 10_000, 'the zone agrees with its bays');
    const status = (await gateway.hosts.get('lot')!.command('status', {})) as { occupied: number; free: number };
    expect(status.occupied).toBe(expected());
    expect(status.free).toBe(5 - expected());
  });

  it('publishes the zone as DATEX II that validates against the subset schema', async () => {
    const xml = (await datexParkingStatus(gateway, { nationalIdentifier: 'town-test' }))!;
    const s = (await gateway.hosts.get('lot')!.command('status', {})) as { occupied: number; free: number };
    expect(xml).toContain('<parkingRecordReference targetClass="ParkingRecord" id="lot" version="1"/>');
    expect(xml).toContain(`<parkingNumberOfVacantSpaces>${s.free}</parkingNumberOfVacantSpaces>`);
    expect(xml).toContain(`<parkingNumberOfOccupiedSpaces>${s.occupied}</parkingNumberOfOccupiedSpaces>`);
    const file = join(tempDir('portier-datex-'), 'lot.xml');
    writeFileSync(file, xml);
    const xsd = join(import.meta.dirname, '..', '..', 'unit', 'parking', 'fixtures', 'datex2-parking-subset.xsd');
    const { stderr } = await run('xmllint', ['--noout', '--schema', xsd, file]);
    expect(stderr).toContain('validates');
  });
});
