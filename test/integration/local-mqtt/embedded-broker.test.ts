import { afterEach, describe, expect, it } from 'vitest';
import { ChirpstackSensorStub } from '../../../firmware-stubs/chirpstack-sensor.js';
import { nps405Status } from '../../../firmware-stubs/nwave-payloads.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';

const EUI = '70b3d5e75e00b001';

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
    broker = await startEmbeddedBroker();
    const dir = tempDir();
    const devices = [{ id: 'bay-1', driver: 'chirpstack-parking', settings: { dev_eui: EUI, codec: 'nwave-nps405' } }];
    const first = await startTestGateway({ dir, brokerUrl: broker.url, devices });
    tg = first;
    await eventually(() => first.gateway.mqtt().state === 'up', 10_000, 'gateway on the broker');
    sensor = new ChirpstackSensorStub({ brokerUrl: broker.url, devEui: EUI, qos: 1 });
    await sensor.start();
    await sensor.uplink(1, nps405Status(true));
    await eventually(() => first.events.some((e) => e.type === 'parking.occupancy'), 10_000, 'first uplink');
    await first.gateway.stop();
    tg = undefined;

    // Published (and acknowledged by the broker) while no gateway runs.
    for (let i = 0; i < 10; i++) await sensor.uplink(1, nps405Status(i % 2 === 0));

    const second = await startTestGateway({ dir, brokerUrl: broker.url, devices });
    tg = second;
    const fcnts = () =>
      second.events.filter((e) => e.type === 'parking.occupancy').map((e) => (e.data as { f_cnt: number }).f_cnt);
    await eventually(() => fcnts().length >= 10, 5_000, 'the ten uplinks sent while it was stopped').catch((e) => {
      console.log(
        fcnts(),
        second.events.map((x) => x.type),
        second.gateway.mqtt().state,
      );
      throw e;
    });
    expect(fcnts()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
