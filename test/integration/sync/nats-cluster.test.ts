import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { type NatsCluster, type NatsNode, startNatsCluster } from '../../helpers/nats.js';
import { expectDelivered, startLoad } from './delivery.js';
import { CloudConsumer, openTestSync, producedIds, settle, type TestSync, testCloudConfig } from './harness.js';

/**
 * A town's clustered cloud broker, for real: three nats-server nodes (Debian's package) with JetStream and their
 * MQTT listeners, which replicate sessions and QoS 1 messages across the cluster. NATS speaks MQTT 3.1.1 only, so
 * the gateway also shows its fallback from MQTT 5 (NATS answers CONNACK 0x01).
 */
describe('cloud uplink to a clustered broker (NATS with JetStream, MQTT listeners)', () => {
  let cluster: NatsCluster | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;
  let load: { stop(): void } | undefined;

  afterEach(async () => {
    load?.stop();
    await gw?.close();
    await cloud?.stop();
    await cluster?.stop();
    gw = cloud = cluster = load = undefined;
  });

  it('fails over when the node the gateway is connected to is killed mid-stream: every event arrives, in lane order', async () => {
    cluster = await startNatsCluster(3);
    const c = cluster;
    await eventually(() => c.ready(), 30_000, 'NATS cluster with a JetStream meta leader');
    const [first, second, third] = c.nodes as [NatsNode, NatsNode, NatsNode];
    // The consumer sits on the third node; the gateway knows all three and starts with the first.
    cloud = await CloudConsumer.start(third.mqttUrl, 'cloud-nats', 4);
    gw = openTestSync({
      gatewayId: 'gw-nats',
      // The nodes as PORTIER_CLOUD_MQTT_URL would give them: a comma-separated list.
      config: testCloudConfig(`${first.mqttUrl},${second.mqttUrl},${third.mqttUrl}`, {
        // The shipped reconnect settings, not the harness's quick ones: failover must be quick with them.
        reconnect_min_ms: 1000,
        reconnect_max_ms: 60_000,
      }),
    });
    const { sync } = gw;
    sync.start();
    await eventually(() => sync.connection.session !== undefined, 30_000, 'gateway connected');
    expect(sync.connection.session?.url).toBe(first.mqttUrl);
    expect(sync.connection.session?.version).toBe(4);

    const steady = startLoad(gw.store);
    load = steady;
    await eventually(() => sync.uplink.counters.eventsAcked > 1500, 30_000, 'events flowing through the cluster');
    const consumer = cloud;
    await eventually(() => consumer.ids().size > 500, 30_000, 'the consumer on another node receiving');

    await c.kill(first);
    const killedAt = Date.now();
    // A surviving node may hold a CONNECT for ~4 s while the cluster elects new leaders for the MQTT streams the
    // dead node led, then close it: the gateway then tries the next node.
    await eventually(
      () => sync.connection.session !== undefined && sync.connection.session.url !== first.mqttUrl,
      30_000,
      'gateway on another node',
    );
    const failoverMs = Date.now() - killedAt;
    const ackedAfterFailover = sync.uplink.counters.eventsAcked;
    await eventually(
      () => sync.uplink.counters.eventsAcked > ackedAfterFailover + 1000,
      30_000,
      'traffic after failover',
    );
    steady.stop();
    gw.store.events.flush();
    const produced = producedIds(gw.store);
    await settle(() => consumer.ids().size >= produced.length && sync.uplink.idle(), 60_000);

    const { duplicates } = expectDelivered(consumer.events(), produced);
    console.log(`${produced.length} events, on another node ${failoverMs} ms after the kill, ${duplicates} duplicates`);
    expect(sync.outbox.total()).toBe(0);
  }, 150_000);
});
