import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const EUI = '70b3d5e75e00b001';
/** The demo's roles: the gateway logs in as its own user, the simulated sensors as theirs. */
const USERS = [
  { username: 'gateway', password: 'Zq0vY3m1c8J6kq2R7x5tWg', role: 'gateway' as const },
  { username: 'devices', password: 'd3V1c3sPw0rd5Xy7Zk9QaB', role: 'device' as const },
];

/**
 * The demo's embedded broker (aedes, in-memory persistence) keeps the gateway's session like the shipped mosquitto
 * config does: uplinks published at QoS 1 while the gateway is stopped reach it when it starts again.
 */
describe("the demo's embedded broker keeps the gateway's session", () => {
  let broker: EmbeddedBroker | undefined;
  let sensor: ChirpstackSensorStub | undefined;
  let tg: TestGateway | undefined;

  afterEach(async () => {
    await tg?.gateway.stop();
    await sensor?.stop();
    await broker?.close();
    tg = sensor = broker = undefined;
  });

  it('queues QoS 1 uplinks for the stopped gateway and delivers them when it is back', async () => {
    broker = await startEmbeddedBroker({ users: USERS });
    const dir = tempDir();
    const secret = join(dir, 'mqtt.password');
    writeFileSync(secret, `${USERS[0]!.password}\n`, { mode: 0o600 });
    const localMqtt = { username: 'gateway', password_file: secret };
    const devices = [{ id: 'bay-1', driver: 'chirpstack-parking', settings: { dev_eui: EUI, codec: 'nwave-nps405' } }];
    const first = await startTestGateway({ dir, brokerUrl: broker.url, devices, localMqtt });
    tg = first;
    await eventually(() => first.gateway.mqtt().state === 'up', 10_000, 'gateway on the broker');
    const sensorUrl = new URL(broker.url);
    sensorUrl.username = USERS[1]!.username;
    sensorUrl.password = USERS[1]!.password;
    sensor = new ChirpstackSensorStub({ brokerUrl: sensorUrl.toString(), devEui: EUI, qos: 1 });
    await sensor.start();
    await sensor.uplink(1, nps405Status(true));
    await eventually(() => first.events.some((e) => e.type === 'parking.occupancy'), 10_000, 'first uplink');
    await first.gateway.stop();
    tg = undefined;

    // Published (and acknowledged by the broker) while no gateway runs.
    for (let i = 0; i < 10; i++) await sensor.uplink(1, nps405Status(i % 2 === 0));

    const second = await startTestGateway({ dir, brokerUrl: broker.url, devices, localMqtt });
    tg = second;
    const fcnts = () =>
      second.events.filter((e) => e.type === 'parking.occupancy').map((e) => (e.data as { f_cnt: number }).f_cnt);
    await eventually(() => fcnts().length >= 10, 10_000, 'the ten uplinks sent while it was stopped');
    expect(fcnts()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
