import mqtt, { type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { type HaDiscoveryHandle, startHaDiscovery } from '../../../src/admin/ha-publisher.js';
import { eventually } from '../../helpers/daemon.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { DISCOVERY_TOPIC, SCHEMAS } from '../../unit/admin/ha-schema.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

/** What a subscriber to `homeassistant/#` holds: the last payload per topic, with its retain flag and a count. */
class DiscoveryWatcher {
  readonly configs = new Map<string, { payload: string; retain: boolean }>();
  received = 0;
  private constructor(readonly client: MqttClient) {}

  static async start(url: string, name: string): Promise<DiscoveryWatcher> {
    const client = await mqtt.connectAsync(url, { clientId: `${name}-${process.pid}-${Date.now()}` });
    const w = new DiscoveryWatcher(client);
    client.on('message', (topic, payload, packet) => {
      if (!topic.endsWith('/config')) return;
      w.received++;
      w.configs.set(topic, { payload: payload.toString(), retain: packet.retain });
    });
    await client.subscribeAsync('homeassistant/+/+/+/config', { qos: 1 });
    return w;
  }

  /** Topics of entities currently announced (a removal leaves an empty payload). */
  live(filter = ''): string[] {
    return [...this.configs]
      .filter(([t, c]) => c.payload !== '' && t.includes(filter))
      .map(([t]) => t)
      .sort();
  }

  async stop(): Promise<void> {
    await this.client.endAsync();
  }
}

describe('Home Assistant discovery and commands on a real mosquitto', () => {
  let broker: Broker;
  let h: AdminHarness;
  let door: GpioDoorStub;
  let ha: HaDiscoveryHandle;
  let watcher: DiscoveryWatcher;

  beforeAll(async () => {
    broker = await startMosquitto();
    h = await startAdminHarness({
      brokerUrl: broker.url,
      devices: [
        { id: 'door-1', driver: 'gpio-relay-lock', settings: { relay_pin: 17, contact_pin: 27 } },
        { id: 'bay-1', driver: 'chirpstack-parking', settings: { dev_eui: '70b3d5e75e00b001', codec: 'nwave-nps405' } },
      ],
    });
    door = new GpioDoorStub({ dir: h.gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
    ha = startHaDiscovery(h.gateway, { swVersion: '0.1.0', configurationUrl: h.admin.url });
    watcher = await DiscoveryWatcher.start(broker.url, 'ha');
  });
  afterAll(async () => {
    await watcher?.stop();
    await ha?.close();
    await door?.stop();
    await h?.stop();
    await broker?.stop();
  });

  it("publishes every device's entities retained, each matching Home Assistant's documented schema", async () => {
    await eventually(() => watcher.live('bay-1').length >= 5 && watcher.live('door-1').length >= 3, 10_000, 'configs');
    expect(watcher.live()).toEqual(
      expect.arrayContaining([
        'homeassistant/lock/test-gw/door-1_lock/config',
        'homeassistant/binary_sensor/test-gw/door-1_door/config',
        'homeassistant/binary_sensor/test-gw/door-1_door_alarm/config',
        'homeassistant/binary_sensor/test-gw/bay-1_occupancy/config',
        'homeassistant/sensor/test-gw/bay-1_battery_v/config',
        'homeassistant/binary_sensor/test-gw/bridge_connectivity/config',
      ]),
    );
    for (const topic of watcher.live()) {
      expect(topic).toMatch(DISCOVERY_TOPIC);
      const component = topic.split('/')[1] as keyof typeof SCHEMAS;
      const config = JSON.parse(watcher.configs.get(topic)!.payload) as Record<string, unknown>;
      const checked = SCHEMAS[component].safeParse(config);
      expect(checked.success, `${topic}: ${checked.error?.message}`).toBe(true);
    }
    const lock = JSON.parse(watcher.configs.get('homeassistant/lock/test-gw/door-1_lock/config')!.payload);
    expect(lock).toMatchObject({ command_topic: 'portier/door-1/set', payload_open: 'OPEN' });

    // A subscriber arriving later gets them from the broker: they were retained.
    const late = await DiscoveryWatcher.start(broker.url, 'late');
    await eventually(() => late.live().length === watcher.live().length, 10_000, 'retained configs');
    expect([...late.configs.values()].every((c) => c.retain)).toBe(true);
    await late.stop();
  });

  it('announces a device added at run time and clears its entities when it is removed', async () => {
    await h.call('PUT', '/api/devices/door-2', { body: { driver: 'gpio-relay-lock', settings: { relay_pin: 22 } } });
    await eventually(() => watcher.live('door-2').length === 3, 10_000, 'door-2 lock and door entities');
    expect(watcher.live('door-2')).toContain('homeassistant/lock/test-gw/door-2_lock/config');
    await h.call('DELETE', '/api/devices/door-2');
    await eventually(() => watcher.live('door-2').length === 0, 10_000, 'door-2 removed');
    expect(watcher.configs.get('homeassistant/lock/test-gw/door-2_lock/config')?.payload).toBe('');

    const late = await DiscoveryWatcher.start(broker.url, 'late2');
    await eventually(() => late.live().length === watcher.live().length, 10_000, 'retained configs');
    expect(late.live('door-2')).toEqual([]);
    await late.stop();
  });

  it("publishes again when Home Assistant restarts (its birth message) and after the broker's own restart", async () => {
    const before = watcher.received;
    const count = watcher.live().length;
    await watcher.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await eventually(() => watcher.received >= before + count, 10_000, 're-published after birth message');

    // mosquitto without persistence forgets retained messages: the gateway must put them back after reconnecting.
    await watcher.stop();
    await broker.stop();
    await broker.restart();
    watcher = await DiscoveryWatcher.start(broker.url, 'ha-again');
    await eventually(() => watcher.live().length === count, 20_000, 'configs back after broker restart');
  });

  it('carries out LOCK, UNLOCK and OPEN on the set topic of a lock, audits openings, and refuses the rest', async () => {
    const client = watcher.client;
    await client.publishAsync('portier/door-1/set', 'UNLOCK', { qos: 1 });
    await eventually(() => door.relay() === 1, 10_000, 'strike released');
    const audit = h.gateway.store.events.tail(1, { type: 'access.decision', dev: 'door-1' })[0];
    expect(audit?.data).toMatchObject({ credential: 'operator', actor: 'mqtt', via: 'home_assistant' });
    await client.publishAsync('portier/door-1/set', 'LOCK', { qos: 1 });
    await eventually(() => door.relay() === 0, 10_000, 'strike locked');
    await client.publishAsync('portier/door-1/set', 'open', { qos: 1 });
    await eventually(() => door.relay() === 1, 10_000, 'strike pulsed by OPEN');

    await client.publishAsync('portier/door-1/set', 'EXPLODE', { qos: 1 });
    await client.publishAsync('portier/bay-1/set', 'UNLOCK', { qos: 1 });
    await client.publishAsync('portier/nobody/set', 'UNLOCK', { qos: 1 });
    const counter = h.gateway.metrics.registry.getSingleMetric('portier_ha_commands_total') as Counter<string>;
    const refused = () => h.gateway.metrics.valueOf(counter, { result: 'refused' });
    await eventually(async () => (await refused()) === 3, 10_000, 'three refusals');
    expect(await h.gateway.metrics.valueOf(counter, { result: 'ok' })).toBe(3);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
  });
});
