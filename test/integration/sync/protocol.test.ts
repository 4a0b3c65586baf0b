import { connect } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { CloudConsumer, openTestSync, producedIds, type TestSync, testCloudConfig } from './harness.js';
import { TcpGate } from './tcp-gate.js';

/** The retained value of a topic, read by a fresh client (so it proves retention, not live delivery). */
async function retained(url: string, topic: string): Promise<string | undefined> {
  const c = connect(url, { reconnectPeriod: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    const got = new Promise<string | undefined>((resolve) => {
      c.on('message', (_t, p, packet) => {
        if (packet.retain) resolve(p.toString('utf8'));
      });
      setTimeout(() => resolve(undefined), 2000);
    });
    await c.subscribeAsync(topic, { qos: 1 });
    return await got;
  } finally {
    c.end(true);
  }
}

describe('cloud connection', () => {
  let broker: Broker | undefined;
  let embedded: EmbeddedBroker | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;
  let gate: TcpGate | undefined;

  afterEach(async () => {
    await gw?.close();
    await cloud?.stop();
    await gate?.close();
    await broker?.stop();
    await embedded?.close();
    gw = cloud = gate = broker = embedded = undefined;
  });

  it('speaks MQTT 5 to a broker that offers it', async () => {
    broker = await startMosquitto();
    cloud = await CloudConsumer.start(broker.url);
    gw = openTestSync({ gatewayId: 'gw-v5', config: testCloudConfig(broker.url) });
    gw.store.events.recordNow({ dev: 'door-1', type: 'alarm', data: { alarm: 'forced' } });
    gw.sync.start();
    const consumer = cloud;
    await eventually(() => consumer.ids().size === 1, 10_000, 'the event');
    expect(gw.sync.connection.session?.version).toBe(5);
  });

  it('falls back to MQTT 3.1.1 when the broker refuses 5 (the demo broker, aedes, speaks 3.1.1 only)', async () => {
    embedded = await startEmbeddedBroker();
    const received: string[] = [];
    const sub = connect(embedded.url, { reconnectPeriod: 0, protocolVersion: 4 });
    await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
    sub.on('message', (_t, p) => {
      for (const e of (JSON.parse(p.toString('utf8')) as { events: Array<{ id: string }> }).events) received.push(e.id);
    });
    await sub.subscribeAsync('portier/gw-v4/up/events', { qos: 1 });
    gw = openTestSync({ gatewayId: 'gw-v4', config: testCloudConfig(embedded.url) });
    for (let i = 0; i < 3; i++) gw.store.events.recordNow({ dev: 'door-1', type: 'alarm', data: { i } });
    gw.sync.start();
    const sync = gw.sync;
    await eventually(() => received.length >= 3 && sync.uplink.idle(), 10_000, 'three events over 3.1.1');
    expect(gw.sync.connection.session?.version).toBe(4);
    expect(new Set(received)).toEqual(new Set(producedIds(gw.store)));
    sub.end(true);
  });

  it('leaves a retained offline will when the link dies, says online on reconnect, offline on a clean stop', async () => {
    broker = await startMosquitto();
    gate = await TcpGate.open(broker.port);
    gw = openTestSync({ gatewayId: 'gw-will', config: testCloudConfig(gate.url, { keepalive_s: 5 }) });
    gw.sync.start();
    const topic = 'portier/gw-will/up/status';
    const sync = gw.sync;
    await eventually(() => sync.connection.state === 'up', 10_000, 'connected');
    await eventually(async () => (await retained(broker!.url, topic)) === 'online', 10_000, 'online retained');

    // The broker sees the socket die without DISCONNECT and publishes the will.
    await gate.cut();
    await eventually(async () => (await retained(broker!.url, topic)) === 'offline', 10_000, 'will published');

    await gate.reopen();
    await eventually(async () => (await retained(broker!.url, topic)) === 'online', 10_000, 'online again');

    await gw.close();
    gw = undefined;
    expect(await retained(broker.url, topic)).toBe('offline');
  });
});
