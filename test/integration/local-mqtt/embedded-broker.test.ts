import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../../src/demo/embedded-broker.js';
import { eventually } from '../../helpers/daemon.js';

const USERS = [
  { username: 'gateway', password: 'Zq0vY3m1c8J6kq2R7x5tWg', role: 'gateway' as const },
  { username: 'homeassistant', password: 'h4X9pL2mQ7rT1vB8nC3kDw', role: 'operator' as const },
  { username: 'devices', password: 'd3V1c3sPw0rd5Xy7Zk9QaB', role: 'device' as const },
];

describe("the demo's embedded broker admits only its users and keeps devices off the gateway's topics", () => {
  let broker: EmbeddedBroker;
  let watcher: MqttClient;
  const seen: string[] = [];
  const clients: MqttClient[] = [];

  const as = async (username: string): Promise<MqttClient> => {
    const user = USERS.find((u) => u.username === username)!;
    const c = await mqtt.connectAsync(broker.url, {
      username,
      password: user.password,
      reconnectPeriod: 0,
      clientId: `${username}-${process.pid}-${clients.length}`,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ users: USERS });
    watcher = await as('homeassistant');
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync(['portier/#', 'application/#', 'homeassistant/#'], { qos: 1 });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it('refuses an anonymous client and a wrong password at CONNECT (return code 4)', async () => {
    const anonymous = mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    await expect(anonymous).rejects.toMatchObject({ code: 4 });
    const wrong = mqtt.connectAsync(broker.url, { username: 'gateway', password: 'guess', reconnectPeriod: 0 });
    await expect(wrong).rejects.toMatchObject({ code: 4 });
    const unknown = mqtt.connectAsync(broker.url, { username: 'mallory', password: 'x', reconnectPeriod: 0 });
    await expect(unknown).rejects.toMatchObject({ code: 4 });
  });

  it("keeps the gateway's client id for the gateway: nobody else can push it off the broker", async () => {
    const takeover = mqtt.connectAsync(broker.url, {
      username: 'devices',
      password: USERS[2]!.password,
      clientId: 'portier-demo-gw',
      reconnectPeriod: 0,
    });
    await expect(takeover).rejects.toMatchObject({ code: 2 });
    const gw = await mqtt.connectAsync(broker.url, {
      username: 'gateway',
      password: USERS[0]!.password,
      clientId: 'portier-demo-gw',
      reconnectPeriod: 0,
    });
    clients.push(gw);
    expect(gw.connected).toBe(true);
  });

  it('refuses a device client publishing a lock command, a bridge request, a state or a discovery config', async () => {
    const before = broker.refusedPublishes;
    for (const [topic, payload] of [
      ['portier/toilet-door/set', 'OPEN'],
      ['portier/bridge/request/devices', '{}'],
      ['portier/toilet-door/state', '{"locked":false}'],
      ['homeassistant/lock/demo-gw/x/config', '{}'],
    ] as const) {
      // aedes ends the connection of a client whose publish is refused: a fresh one per attempt.
      const device = await as('devices');
      device.publish(topic, payload, { qos: 0 });
    }
    // Counted when refused, which is before the broker would forward it: none of them reached the watcher.
    await eventually(() => broker.refusedPublishes === before + 4, 10_000, 'four refusals');
    // The device's own uplinks still flow.
    const device = await as('devices');
    await device.publishAsync('application/1/device/70b3d5e75e000001/event/up', '{"fPort":1}', { qos: 1 });
    await eventually(() => seen.some((m) => m.startsWith('application/1/')), 10_000, 'the uplink');
    expect(seen.filter((m) => m.startsWith('portier/') || m.startsWith('homeassistant/'))).toEqual([]);
  });

  it('lets the gateway and a named user publish commands and bridge requests', async () => {
    const gateway = await as('gateway');
    await gateway.publishAsync('portier/bridge/state', 'online', { qos: 1 });
    await watcher.publishAsync('portier/toilet-door/set', 'UNLOCK', { qos: 1 });
    await watcher.publishAsync('portier/bridge/request/health', '{}', { qos: 1 });
    const expected = [
      'portier/bridge/state online',
      'portier/toilet-door/set UNLOCK',
      'portier/bridge/request/health {}',
    ];
    await eventually(() => expected.every((m) => seen.includes(m)), 10_000, 'all three delivered');
  });
});
