import mqtt, { type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const PASSKEY = '34B6B4C3A1D6E2F0A9B8C7D6E5F4A3B2';

describe('the local broker: bridge state, events and the request/response API', () => {
  let broker: Broker;
  let tg: TestGateway;
  let client: MqttClient;
  const got = new Map<string, string[]>();

  beforeAll(async () => {
    broker = await startMosquitto();
    client = await mqtt.connectAsync(broker.url, { clientId: `bridge-test-${process.pid}` });
    client.on('message', (topic, payload) => got.set(topic, [...(got.get(topic) ?? []), payload.toString()]));
    await client.subscribeAsync(['portier/bridge/#', 'portier/+/state', 'portier/+/event']);
    tg = await startTestGateway({
      dir: tempDir(),
      brokerUrl: broker.url,
      devices: [
        { id: 'door', driver: 'gpio-relay-lock', settings: { relay_pin: 4 } },
        // A station whose PASSKEY (the MD5 of its MAC, Ecowitt protocol) must not leave the gateway.
        {
          id: 'wx',
          driver: 'ecowitt-weather',
          settings: { listen: '127.0.0.1', port: await freePort(), passkey: PASSKEY },
        },
      ],
    });
  });
  afterAll(async () => {
    await tg?.gateway.stop();
    await client?.endAsync();
    await broker?.stop();
  });

  const request = async (op: string, body: unknown): Promise<Record<string, unknown>> => {
    const topic = `portier/bridge/response/${op}`;
    const before = got.get(topic)?.length ?? 0;
    await client.publishAsync(`portier/bridge/request/${op}`, typeof body === 'string' ? body : JSON.stringify(body));
    const text = await eventually(() => got.get(topic)?.[before], 10_000, `response to ${op}`);
    return JSON.parse(text) as Record<string, unknown>;
  };

  it('publishes bridge/state online (retained) and each committed event and state', async () => {
    await eventually(() => got.get('portier/bridge/state')?.includes('online'), 10_000, 'bridge online');
    await tg.gateway.hosts.get('door')!.command('unlock', { duration_ms: 500 });
    await eventually(
      () => got.get('portier/door/event')?.some((e) => JSON.parse(e).type === 'lock.state'),
      10_000,
      'lock event',
    );
    const state = JSON.parse(got.get('portier/door/state')!.at(-1)!) as Record<string, unknown>;
    expect(state).toHaveProperty('locked');
  });

  it('answers requests with status and data, echoing the transaction', async () => {
    const health = await request('health', { transaction: 7 });
    expect(health).toMatchObject({ status: 'ok', transaction: 7, data: { gateway: 'test-gw', healthy: true } });
    const device = await request('device', { id: 'door' });
    expect(device).toMatchObject({ status: 'ok', data: { id: 'door', driver: 'gpio-relay-lock', source: 'config' } });
  });

  it('answers with device settings redacted as the admin API shows them: no secret leaves the gateway', async () => {
    const wx = await request('device', { id: 'wx' });
    expect(wx).toMatchObject({ status: 'ok', data: { id: 'wx', config: { passkey: '[redacted]' } } });
    for (const op of ['device', 'devices', 'health']) {
      const text = JSON.stringify(await request(op, op === 'device' ? { id: 'wx' } : {}));
      expect(text.toUpperCase()).not.toContain(PASSKEY);
    }
  });

  it('refuses requests over 64 KiB by their length, counted, while the door keeps working', async () => {
    const counter = tg.gateway.metrics.registry.getSingleMetric('portier_bridge_requests_total') as Counter<string>;
    const tooLarge = () => tg.gateway.metrics.valueOf(counter, { op: 'events', result: 'too_large' });
    const topic = 'portier/bridge/response/events';
    const before = got.get(topic)?.length ?? 0;
    // Ten requests of 5 MB of valid JSON: parsed, each would cost the event loop tens of milliseconds.
    const big = JSON.stringify({ limit: 5, pad: 'x'.repeat(5_000_000) });
    await Promise.all(Array.from({ length: 10 }, () => client.publishAsync('portier/bridge/request/events', big)));
    // Meanwhile the door keeps its relay working: an operator opening goes through.
    await tg.gateway.hosts.get('door')!.command('unlock', { duration_ms: 500 });
    const answers = await eventually(
      () => ((got.get(topic)?.length ?? 0) >= before + 10 ? got.get(topic)!.slice(before) : undefined),
      30_000,
      'ten refusals',
    );
    for (const a of answers) {
      expect(JSON.parse(a)).toEqual({ status: 'error', error: `request of ${big.length} bytes is over 65536` });
    }
    expect(await tooLarge()).toBe(10);
    // A request of exactly the limit is still read (and refused only for what it says).
    const edge = JSON.stringify({ limit: 5, pad: '' }).length;
    const fits = await request('events', { limit: 5, pad: 'y'.repeat(65_536 - edge) });
    expect(fits.status).toBe('ok');
    expect(await tooLarge()).toBe(10);
  });

  it('refuses bad requests with a specific error and keeps serving', async () => {
    expect(await request('reboot', {})).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/unknown op "reboot"/),
    });
    expect(await request('device', { id: 42 })).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/^id: /),
    });
    expect(await request('events', '{not json')).toMatchObject({ status: 'error', error: 'request body is not JSON' });
    expect(await request('device', { id: 'nope' })).toMatchObject({ status: 'error', error: 'no device "nope"' });
    expect((await request('events', { limit: 5 })).status).toBe('ok');
  });

  it('sends every retained state again when the broker comes back without its retained messages', async () => {
    // The unlock of the first test has ended: the state is settled before the broker goes.
    const settled = () => JSON.parse(got.get('portier/door/state')?.at(-1) ?? '{}').locked === true;
    await eventually(settled, 10_000, 'the door locked again before the restart');
    const lastState = JSON.parse(got.get('portier/door/state')!.at(-1)!) as Record<string, unknown>;
    await broker.stop();
    await eventually(() => tg.gateway.mqtt().state !== 'up', 10_000, 'gateway notices the broker gone');
    await broker.restart(); // no persistence: the broker forgot every retained message
    await eventually(() => tg.gateway.mqtt().state === 'up', 20_000, 'gateway back on the broker');
    // A sign that connects now, with no event since, still finds the door's state.
    const sign = await mqtt.connectAsync(broker.url, { clientId: `sign-${process.pid}` });
    try {
      const retained: string[] = [];
      sign.on('message', (topic, payload, packet) => {
        if (packet.retain && topic === 'portier/door/state') retained.push(payload.toString());
      });
      await sign.subscribeAsync('portier/door/state');
      const text = await eventually(() => retained[0], 10_000, 'retained door state after the restart');
      expect(JSON.parse(text)).toEqual(lastState);
    } finally {
      await sign.endAsync();
    }
  });
});
