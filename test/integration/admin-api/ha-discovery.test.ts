import mqtt, { type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { type HaDiscoveryHandle, startHaDiscovery } from '../../../src/admin/ha-publisher.js';
import { readLine } from '../../../src/transports/gpio/sim-files.js';
import { eventually } from '../../helpers/daemon.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { DEVICE_DISCOVERY_TOPIC, deviceDiscoverySchema } from '../../unit/admin/ha-schema.js';
import { type AdminHarness, startAdminHarness } from './harness.js';

/** What a subscriber to discovery topics holds: the last payload per topic, with its retain flag and a count. */
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
    // Device-based configs, and the per-entity topics of earlier versions (to see them cleared).
    await client.subscribeAsync(['homeassistant/device/+/config', 'homeassistant/+/+/+/config'], { qos: 1 });
    return w;
  }

  /** Topics of devices currently announced (a removal leaves an empty payload). */
  live(filter = ''): string[] {
    return [...this.configs]
      .filter(([t, c]) => c.payload !== '' && t.includes(filter))
      .map(([t]) => t)
      .sort();
  }

  /** The announced config of a device, parsed. */
  device(id: string): {
    dev: Record<string, unknown>;
    o: Record<string, string>;
    cmps: Record<string, Record<string, unknown>>;
  } {
    const c = this.configs.get(`homeassistant/device/portier_test-gw_${id}/config`);
    if (!c?.payload) throw new Error(`no config for ${id}`);
    return JSON.parse(c.payload);
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
        {
          id: 'door-1',
          driver: 'gpio-relay-lock',
          settings: { relay_pin: 17, contact_pin: 27, local_mqtt_control: true },
        },
        // local_mqtt_control left at its default (off): the local broker must not be able to open it.
        { id: 'door-ro', driver: 'gpio-relay-lock', settings: { relay_pin: 5 } },
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

  it("publishes each device's entities retained as one device-based config matching HA's documented schema", async () => {
    await eventually(
      () => watcher.live('/device/').length >= 4,
      10_000,
      'configs of the bridge, door-1, door-ro and bay-1',
    );
    expect(watcher.live('/device/')).toEqual([
      'homeassistant/device/portier_test-gw/config',
      'homeassistant/device/portier_test-gw_bay-1/config',
      'homeassistant/device/portier_test-gw_door-1/config',
      'homeassistant/device/portier_test-gw_door-ro/config',
    ]);
    for (const topic of watcher.live('/device/')) {
      expect(topic).toMatch(DEVICE_DISCOVERY_TOPIC);
      const checked = deviceDiscoverySchema.safeParse(JSON.parse(watcher.configs.get(topic)!.payload));
      expect(checked.success, `${topic}: ${checked.error?.message}`).toBe(true);
    }
    // The origin block, as Home Assistant's discovery docs describe it.
    expect(watcher.device('door-1').o).toEqual({ name: 'Portier', sw_version: '0.1.0', support_url: h.admin.url });
    expect(Object.keys(watcher.device('door-1').cmps).sort()).toEqual([
      'door-1_door',
      'door-1_door_alarm',
      'door-1_lock',
    ]);
    expect(watcher.device('door-1').cmps['door-1_lock']).toMatchObject({
      p: 'lock',
      unique_id: 'portier_test-gw_door-1_lock',
      command_topic: 'portier/door-1/set',
      payload_open: 'OPEN',
    });
    expect(Object.keys(watcher.device('bay-1').cmps)).toHaveLength(5);
    // No per-entity configs are left: an install moving from them gets empty payloads there.
    expect(watcher.live().filter((t) => !t.includes('/device/'))).toEqual([]);

    // A subscriber arriving later gets them from the broker: they were retained.
    const late = await DiscoveryWatcher.start(broker.url, 'late');
    await eventually(() => late.live().length === watcher.live().length, 10_000, 'retained configs');
    expect([...late.configs.values()].every((c) => c.retain)).toBe(true);
    await late.stop();
  });

  it('moves an install from per-entity topics: their retained configs are cleared', async () => {
    // What an earlier version left retained for a device that is about to appear.
    const old = 'homeassistant/lock/test-gw/door-3_lock/config';
    await watcher.client.publishAsync(old, JSON.stringify({ unique_id: 'portier_test-gw_door-3_lock' }), {
      qos: 1,
      retain: true,
    });
    await eventually(() => watcher.live().includes(old), 10_000, 'legacy config seen');
    await h.call('PUT', '/api/devices/door-3', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 23, local_mqtt_control: true } },
    });
    await eventually(
      () => watcher.live('door-3').includes('homeassistant/device/portier_test-gw_door-3/config'),
      10_000,
      'door-3 device config',
    );
    expect(watcher.live('door-3')).toEqual(['homeassistant/device/portier_test-gw_door-3/config']);
    expect(watcher.configs.get(old)?.payload).toBe('');
    await h.call('DELETE', '/api/devices/door-3');
    await eventually(() => watcher.live('door-3').length === 0, 10_000, 'door-3 removed');
  });

  it('announces a device added at run time and clears its entities when it is removed', async () => {
    await h.call('PUT', '/api/devices/door-2', {
      body: { driver: 'gpio-relay-lock', settings: { relay_pin: 22, local_mqtt_control: true } },
    });
    await eventually(() => watcher.live('door-2').length === 1, 10_000, 'door-2 device config');
    expect(Object.keys(watcher.device('door-2').cmps)).toContain('door-2_lock');
    await h.call('DELETE', '/api/devices/door-2');
    await eventually(() => watcher.live('door-2').length === 0, 10_000, 'door-2 removed');
    expect(watcher.configs.get('homeassistant/device/portier_test-gw_door-2/config')?.payload).toBe('');

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

  it('gives a lock without local_mqtt_control no command topic, and refuses UNLOCK and OPEN on its set topic', async () => {
    await eventually(() => watcher.live('door-ro').length > 0, 10_000, 'door-ro entities');
    const cmps = watcher.device('door-ro').cmps;
    expect(Object.keys(cmps)).toContain('door-ro_lock_state');
    expect(Object.keys(cmps)).not.toContain('door-ro_lock');
    expect(JSON.stringify(cmps)).not.toContain('command_topic');
    expect(cmps['door-ro_lock_state']).toMatchObject({
      p: 'binary_sensor',
      device_class: 'lock',
      state_topic: 'portier/door-ro/state',
    });

    const counter = h.gateway.metrics.registry.getSingleMetric('portier_ha_commands_total') as Counter<string>;
    const count = (labels: Record<string, string>) => h.gateway.metrics.valueOf(counter, labels);
    const refusedBefore = await count({ result: 'refused' });
    const okBefore = await count({ result: 'ok' });
    const decisionsBefore = h.gateway.store.events.tail(1000, { type: 'access.decision', dev: 'door-ro' }).length;
    await watcher.client.publishAsync('portier/door-ro/set', 'UNLOCK', { qos: 1 });
    await watcher.client.publishAsync('portier/door-ro/set', 'OPEN', { qos: 1 });
    await eventually(async () => (await count({ result: 'refused' })) === refusedBefore + 2, 10_000, 'two refusals');
    expect(await count({ command: 'OPEN', result: 'refused' })).toBeGreaterThanOrEqual(1);
    expect(await count({ result: 'ok' })).toBe(okBefore);
    expect(readLine(h.gpioDir, 5)?.bit ?? 0).toBe(0);
    expect(h.gateway.store.events.tail(1000, { type: 'access.decision', dev: 'door-ro' })).toHaveLength(
      decisionsBefore,
    );
  });
});
