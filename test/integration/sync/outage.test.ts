import { chmodSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';
import { expectDelivered, startLoad } from './delivery.js';
import { CloudConsumer, openTestSync, producedIds, settle, type TestSync, testCloudConfig } from './harness.js';
import { TcpGate } from './tcp-gate.js';

describe('cloud uplink through outages', () => {
  let broker: Broker | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;
  let gate: TcpGate | undefined;

  afterEach(async () => {
    await gw?.close();
    await cloud?.stop();
    await gate?.close();
    await broker?.stop();
    gw = cloud = gate = broker = undefined;
  });

  it('loses nothing when the cloud broker is stopped under load and started again', async () => {
    const port = await freePort();
    const persist = tempDir('portier-mosq-persist-');
    chmodSync(persist, 0o777); // mosquitto drops to its own user and must write its persistence file here
    broker = await startMosquitto({
      port,
      extraConfig: [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${persist}/`,
      ],
    });
    cloud = await CloudConsumer.start(broker.url, 'cloud-outage');
    gw = openTestSync({ gatewayId: 'gw-outage', config: testCloudConfig(broker.url) });
    gw.sync.start();
    const load = startLoad(gw.store);
    const { sync } = gw;
    await eventually(() => sync.uplink.counters.eventsAcked > 1000, 20_000, 'first thousand acknowledged');

    await broker.stop();
    await eventually(() => sync.connection.state !== 'up', 10_000, 'gateway notices the outage');
    // PUBACKs the broker sent before it stopped are all read by now (they precede the close on the socket).
    const ackedAtStop = sync.uplink.counters.eventsAcked;
    const ticksAtStop = load.ticks();
    await eventually(() => load.ticks() > ticksAtStop + 100, 20_000, 'a second of events during the outage');
    // Nothing can have been acknowledged while the broker was down.
    expect(sync.uplink.counters.eventsAcked).toBe(ackedAtStop);
    expect(sync.outbox.total()).toBeGreaterThan(500);

    await broker.restart();
    await eventually(() => sync.connection.state === 'up', 20_000, 'gateway reconnects');
    const ticksAtRestart = load.ticks();
    await eventually(() => load.ticks() > ticksAtRestart + 50, 20_000, 'events after the restart');
    load.stop();
    gw.store.events.flush();
    const produced = producedIds(gw.store);
    await settle(() => cloud!.ids().size >= produced.length && sync.uplink.idle(), 60_000);

    expectDelivered(cloud.events(), produced);
    expect(sync.connection.connects).toBeGreaterThanOrEqual(2);
    expect(sync.outbox.total()).toBe(0);
  }, 120_000);

  it('resends what was in flight when the network drops mid-batch, five times over', async () => {
    broker = await startMosquitto();
    gate = await TcpGate.open(broker.port);
    cloud = await CloudConsumer.start(broker.url, 'cloud-cut');
    // Small batches and a wide window keep many batches in flight at every cut.
    gw = openTestSync({
      gatewayId: 'gw-cut',
      config: testCloudConfig(gate.url, { batch_max_events: 20, max_inflight: 32 }),
    });
    gw.sync.start();
    const load = startLoad(gw.store, 5);
    const { sync } = gw;
    for (let cut = 0; cut < 5; cut++) {
      const before = sync.uplink.counters.eventsAcked;
      await eventually(() => sync.uplink.counters.eventsAcked > before + 300, 20_000, `traffic before cut ${cut}`);
      await gate.cut();
      await eventually(() => sync.connection.state !== 'up', 20_000, `gateway notices cut ${cut}`);
      await gate.reopen();
      await eventually(() => sync.connection.state === 'up', 20_000, `gateway back after cut ${cut}`);
    }
    load.stop();
    gw.store.events.flush();
    const produced = producedIds(gw.store);
    await settle(() => cloud!.ids().size >= produced.length && sync.uplink.idle(), 60_000);
    expectDelivered(cloud.events(), produced);
    expect(gate.connections).toBeGreaterThanOrEqual(6);
  }, 120_000);
});
