import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';
import { claims, makeOperators, RecordingHandlers } from '../../unit/sync/command-fixtures.js';
import { CloudConsumer, openTestSync, type TestSync, testCloudConfig } from './harness.js';
import { TcpGate } from './tcp-gate.js';

const GW = 'gw-down';
const device = { id: 'door-7', driver: 'gpio-relay-lock', relay_pin: 22 };

describe('downlink commands over the cloud broker', () => {
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

  it('applies a signed command once, answers its repeat the same way, refuses and reports an unsigned one', async () => {
    broker = await startMosquitto();
    cloud = await CloudConsumer.start(broker.url, 'cloud-cmd');
    const dir = tempDir('portier-cmd-');
    const ops = await makeOperators(dir);
    const handlers = new RecordingHandlers();
    gw = openTestSync({
      gatewayId: GW,
      dir,
      handlers,
      config: testCloudConfig(broker.url, { operator_keys_file: ops.file }),
    });
    gw.sync.start();
    const sync = gw.sync;
    await eventually(() => sync.connection.state === 'up', 10_000, 'connected');
    const consumer = cloud;
    const down = `portier/${GW}/down`;
    const ackOf = (id: string) => consumer.acks.filter((a) => a.id === id);

    const jws = await ops.signEd(claims(GW, 'cmd-1', 'provision', { devices: [device] }));
    const message = JSON.stringify({ id: 'cmd-1', jws });
    // The subscription is made right after connecting; publish until the first answer shows it is in place.
    await eventually(
      async () => {
        if (ackOf('cmd-1').length === 0) await consumer.client.publishAsync(`${down}/provision`, message, { qos: 1 });
        return ackOf('cmd-1').length > 0;
      },
      10_000,
      'first ack',
    );
    expect(ackOf('cmd-1')[0]).toEqual({ id: 'cmd-1', status: 'ok', data: { provisioned: 1 } });
    const acksBefore = ackOf('cmd-1').length;
    await consumer.client.publishAsync(`${down}/provision`, message, { qos: 1 });
    await eventually(() => ackOf('cmd-1').length > acksBefore, 10_000, 'ack of the repeat');
    expect(ackOf('cmd-1').at(-1)).toEqual(ackOf('cmd-1')[0]);
    expect(handlers.applied()).toEqual(['provision']);

    await consumer.client.publishAsync(`${down}/revoke`, JSON.stringify({ id: 'cmd-2', entries: [] }), { qos: 1 });
    await eventually(() => ackOf('cmd-2').length > 0, 10_000, 'ack of the unsigned command');
    expect(ackOf('cmd-2')[0]).toMatchObject({ status: 'error', error: 'unsigned' });
    expect(handlers.applied()).toEqual(['provision']);

    // The audit trail reaches the cloud like any critical event.
    await eventually(
      () => {
        const types = consumer.events().map((e) => `${e.type}:${String(e.data.id)}`);
        return types.includes('provisioning.change:cmd-1') && types.includes('alarm:cmd-2');
      },
      10_000,
      'audit events in the cloud',
    );
  });

  it('gets a command sent while it was offline, from its persistent session', async () => {
    broker = await startMosquitto();
    gate = await TcpGate.open(broker.port);
    cloud = await CloudConsumer.start(broker.url, 'cloud-offline-cmd');
    const dir = tempDir('portier-cmd-');
    const handlers = new RecordingHandlers();
    gw = openTestSync({ gatewayId: GW, dir, handlers, config: testCloudConfig(gate.url) });
    gw.sync.start();
    const sync = gw.sync;
    await eventually(() => sync.connection.state === 'up', 10_000, 'connected');
    // Let the subscription settle: an open command answered proves it.
    const consumer = cloud;
    await eventually(
      async () => {
        if (!consumer.acks.some((a) => a.id === 'warm'))
          await consumer.client.publishAsync(
            `portier/${GW}/down/open`,
            JSON.stringify({ id: 'warm', lock: 'door-1', pass: 'x' }),
            {
              qos: 1,
            },
          );
        return consumer.acks.some((a) => a.id === 'warm');
      },
      10_000,
      'subscription in place',
    );
    await gate.cut();
    await eventually(() => sync.connection.state !== 'up', 10_000, 'offline');
    await consumer.client.publishAsync(
      `portier/${GW}/down/open`,
      JSON.stringify({ id: 'while-away', lock: 'door-2', pass: 'PT1:X' }),
      { qos: 1 },
    );
    await gate.reopen();
    await eventually(() => consumer.acks.some((a) => a.id === 'while-away'), 20_000, 'ack after reconnect');
    expect(handlers.calls.filter((c) => c.name === 'openWithPass').map((c) => c.args)).toEqual([
      { lock: 'door-1', pass: 'x' },
      { lock: 'door-2', pass: 'PT1:X' },
    ]);
  });
});
