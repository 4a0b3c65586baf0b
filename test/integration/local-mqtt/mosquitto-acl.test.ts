import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HaDiscoveryHandle, startHaDiscovery } from '../../../src/admin/ha-publisher.js';
import { readLine } from '../../../src/transports/gpio/sim-files.js';
import { eventually, ROOT } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const SHIPPED_CONF = join(ROOT, 'config', 'mosquitto', 'portier.conf');
const SHIPPED_ACL = join(ROOT, 'config', 'mosquitto', 'portier.acl');
const PASSWORDS = {
  'portier-gateway': 'gw-Lq8vT2nR5xK1pZ7m',
  homeassistant: 'ha-Wc4yH9sD3fJ6bN0e',
  chirpstack: 'cs-Pk2mX7qV1tG8rA5u',
};

describe('the shipped mosquitto ACL (config/mosquitto/) on a real mosquitto, with the gateway logged in', () => {
  let broker: Broker;
  let tg: TestGateway;
  let ha: HaDiscoveryHandle;
  let gpioDir: string;
  const clients: MqttClient[] = [];

  /** An MQTT 5 client: mosquitto answers a refused QoS 1 publish with PUBACK reason 0x87 (not authorized). */
  const as = async (user: keyof typeof PASSWORDS): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(broker.url, {
      username: user,
      password: PASSWORDS[user],
      protocolVersion: 5,
      reconnectPeriod: 0,
      clientId: `${user}-${process.pid}-${clients.length}`,
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    const dir = tempDir('portier-acl-');
    gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    const passwd = join(dir, 'portier.passwd');
    writeFileSync(passwd, '', { mode: 0o600 });
    for (const [user, password] of Object.entries(PASSWORDS)) {
      execFileSync('mosquitto_passwd', ['-b', passwd, user, password]);
    }
    const acl = join(dir, 'portier.acl');
    copyFileSync(SHIPPED_ACL, acl);
    const port = await freePort();
    // The shipped conf's access lines, on a test port and with the files of this test (0600 in a 0700 folder of
    // ours: mosquitto started as root would otherwise become user mosquitto and not read them).
    broker = await startMosquitto({
      port,
      extraConfig: [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${acl}`,
        ...(process.getuid?.() === 0 ? ['user root'] : []),
      ],
    });
    const secret = join(dir, 'mqtt.password');
    writeFileSync(secret, `${PASSWORDS['portier-gateway']}\n`, { mode: 0o600 });
    tg = await startTestGateway({
      dir,
      gpioDir,
      brokerUrl: broker.url,
      localMqtt: { username: 'portier-gateway', password_file: secret },
      devices: [{ id: 'door', driver: 'gpio-relay-lock', settings: { relay_pin: 17, local_mqtt_control: true } }],
    });
    ha = startHaDiscovery(tg.gateway);
    await eventually(() => tg.gateway.mqtt().state === 'up', 10_000, 'the gateway logged in');
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    await ha?.close();
    await tg?.gateway.stop();
    await broker?.stop();
  });

  it('ships a config that admits no anonymous client and names its password and ACL files', () => {
    const conf = readFileSync(SHIPPED_CONF, 'utf8').split('\n');
    expect(conf).toContain('allow_anonymous false');
    expect(conf.some((l) => l.startsWith('password_file '))).toBe(true);
    expect(conf).toContain('acl_file /etc/mosquitto/portier.acl');
  });

  it('refuses an anonymous client', async () => {
    await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toMatchObject({ code: 5 });
  });

  it('keeps a sensor bridge from commanding a lock or asking the bridge API', async () => {
    // One connection per attempt: mosquitto 2.0.11 with the helper's max_queued_messages 0 drops the connection
    // right after its PUBACK 0x87.
    for (const topic of ['portier/door/set', 'portier/bridge/request/devices', 'cmnd/door-1/POWER']) {
      const chirpstack = await as('chirpstack');
      await expect(chirpstack.publishAsync(topic, 'ON', { qos: 1 })).rejects.toMatchObject({ code: 135 });
    }
    const chirpstack = await as('chirpstack');
    await chirpstack.publishAsync('application/1/device/70b3d5e75e000001/event/up', '{}', { qos: 1 });
    expect(readLine(gpioDir, 17)?.bit ?? 0).toBe(0);
  });

  it('lets Home Assistant ask the bridge and unlock a lock that enables local control', async () => {
    const homeassistant = await as('homeassistant');
    const answers: string[] = [];
    homeassistant.on('message', (_t, p) => answers.push(p.toString('utf8')));
    await homeassistant.subscribeAsync('portier/bridge/response/health', { qos: 1 });
    await homeassistant.publishAsync('portier/bridge/request/health', '{}', { qos: 1 });
    const answer = await eventually(() => answers[0], 10_000, 'the bridge answer');
    expect(JSON.parse(answer)).toMatchObject({ status: 'ok', data: { gateway: 'test-gw' } });
    await homeassistant.publishAsync('portier/door/set', 'UNLOCK', { qos: 1 });
    await eventually(() => readLine(gpioDir, 17)?.bit === 1, 10_000, 'the strike released');
  });
});
