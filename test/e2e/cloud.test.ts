import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nps405Status } from '../../firmware-stubs/nwave-payloads.js';
import { eventually, PortierProcess } from '../helpers/daemon.js';
import { makeIssuer, pt1Pass } from '../helpers/issuer.js';
import { type Broker, startMosquitto } from '../helpers/mosquitto.js';
import { type Rig, startRig } from '../helpers/rig.js';
import { makeOperators, type Operators } from '../unit/sync/command-fixtures.js';

/** The daemon as a process with a second, real mosquitto as the town's cloud broker. */
describe('portier run with a cloud broker', () => {
  let rig: Rig;
  let cloud: Broker;
  let client: MqttClient;
  let daemon: PortierProcess;
  let operators: Operators;
  const issuer = makeIssuer('town-e2e');
  const uplinked: Array<{ id: string; seq: number; type: string; dev: string }> = [];
  const acks: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    rig = await startRig();
    cloud = await startMosquitto();
    operators = await makeOperators(rig.dir);
    const keysFile = join(rig.dir, 'issuers.jwks.json');
    writeFileSync(keysFile, JSON.stringify(issuer.jwks));
    appendFileSync(
      rig.configPath,
      `cloud: { url: "${cloud.url}", prefix: town, operator_keys_file: ${operators.file}, batch_max_age_ms: 50 }\n`,
    );
    client = await mqtt.connectAsync(cloud.url, { clientId: `cloud-${process.pid}` });
    client.on('message', (topic, payload) => {
      if (topic === 'town/rig-gw/up/status') return; // online/offline text
      const body = JSON.parse(payload.toString()) as Record<string, unknown>;
      if (topic === 'town/rig-gw/up/ack') acks.push(body);
      if (topic === 'town/rig-gw/up/events') uplinked.push(...(body.events as typeof uplinked));
    });
    await client.subscribeAsync(['town/rig-gw/up/#'], { qos: 1 });
    daemon = new PortierProcess(['run', '--config', rig.configPath], { PORTIER_ADMIN_LISTEN: '127.0.0.1:0' });
    await daemon.waitFor((l) => l.msg === 'gateway ready', 20_000, 'gateway ready');
    // Issuer keys through the CLI, as an operator would (the daemon re-reads the keyring when it changes).
    const keys = new PortierProcess(['keys', 'import', keysFile, '--state-dir', rig.stateDir]);
    expect((await keys.exited).code).toBe(0);
  });

  afterAll(async () => {
    daemon?.kill('SIGTERM');
    await daemon?.exited;
    await client?.endAsync();
    await cloud?.stop();
    await rig?.stop();
  });

  const ackOf = (id: string) => eventually(() => acks.find((a) => a.id === id), 15_000, `ack of ${id}`);
  const command = async (name: string, fields: Record<string, unknown>, signed: boolean) => {
    const id = `cmd-${name}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
    const now = Math.floor(Date.now() / 1000);
    const body = signed
      ? { id, jws: await operators.signEd({ id, cmd: name, aud: 'rig-gw', iat: now, exp: now + 300, ...fields }) }
      : { id, ...fields };
    await client.publishAsync(`town/rig-gw/down/${name}`, JSON.stringify(body), { qos: 1 });
    return ackOf(id);
  };

  it('carries committed events to the cloud, each id once, in seq order within its lane', async () => {
    for (let i = 0; i < 20; i++) await rig.bays[0]!.uplink(1, nps405Status(i % 2 === 0));
    await eventually(
      () => uplinked.filter((e) => e.type === 'parking.occupancy').length >= 20,
      20_000,
      '20 bay events in the cloud',
    );
    expect(new Set(uplinked.map((e) => e.id)).size).toBe(uplinked.length);
    const states = uplinked.filter((e) => e.type === 'parking.occupancy').map((e) => e.seq);
    expect(states).toEqual([...states].sort((a, b) => a - b));
  });

  it('applies a signed provisioning command once, and refuses an unsigned one with an audit', async () => {
    const device = { id: 'cloud-door', driver: 'gpio-relay-lock', relay_pin: 12 };
    expect(await command('provision', { devices: [device] }, true)).toMatchObject({ status: 'ok' });
    await daemon.waitFor((l) => l.device === 'cloud-door' && l.msg === 'device up', 10_000, 'provisioned device up');
    const refused = await command('remove-device', { device: 'cloud-door' }, false);
    expect(refused).toMatchObject({ status: 'error' });
    expect(JSON.stringify(refused)).toMatch(/unsigned/);
    await eventually(
      () => uplinked.some((e) => e.type === 'provisioning.change' && e.dev === 'rig-gw'),
      15_000,
      'the audit in the cloud',
    );
  });

  it('opens with a pass sent from the cloud only when the pass itself verifies', async () => {
    const good = await command('open', { lock: 'door-1', pass: await pt1Pass(issuer.key, { aud: 'door-1' }) }, false);
    expect(good).toMatchObject({ status: 'ok' });
    expect(JSON.stringify(good)).toMatch(/"granted":true/);
    await eventually(() => rig.door.relay() === 1, 5000, 'relay energized');
    const forged = await command('open', { lock: 'door-1', pass: 'PT1:NOTAPASS' }, false);
    // A broker alone cannot open a door: a pass that does not verify is denied with its reason.
    expect(forged).toMatchObject({ status: 'error', error: 'denied', detail: 'malformed' });
  });
});
