import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import type { MqttLink, StateChange } from '../../../src/core/links.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createMqttLink, type MqttLinkOptions } from '../../../src/transports/mqtt.js';
import { eventually } from '../../helpers/eventually.js';
import { freePort, startMosquitto } from '../../helpers/mosquitto.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker() {
  const b = await startMosquitto();
  cleanups.push(() => b.stop());
  return b;
}

function link(opts: MqttLinkOptions): { link: MqttLink; states: StateChange[] } {
  const l = createMqttLink({ backoff: { initialMs: 50, maxMs: 500 }, ...opts }, silentLogger());
  const states: StateChange[] = [];
  l.onState((s) => states.push(s));
  cleanups.push(() => l.stop());
  l.start();
  return { link: l, states };
}

type Msg = [topic: string, payload: string];
function inbox(l: MqttLink, filter: string): Msg[] {
  const got: Msg[] = [];
  l.subscribe(filter, (t, p) => got.push([t, p.toString()]));
  return got;
}

/** A TCP forwarder whose connections the test can cut, as a dead Wi-Fi link cuts them: no DISCONNECT is sent. */
async function cuttableProxy(targetPort: number): Promise<{ url: string; cut(): void }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

describe('MQTT link against a real mosquitto', () => {
  it('delivers to each handler only what matches its own filter (+ and #)', async () => {
    const b = await broker();
    const { link: sub } = link({ url: b.url });
    const plus = inbox(sub, 'portier/+/set');
    const hash = inbox(sub, 'portier/door-1/#');
    const exact = inbox(sub, 'portier/door-2/state');
    await eventually(() => sub.state === 'up', 15_000, 'subscriber up');
    const { link: pub } = link({ url: b.url });
    await eventually(() => pub.state === 'up', 15_000, 'publisher up');
    await pub.publish('portier/door-1/set', 'open', { qos: 1 });
    await pub.publish('portier/door-2/state', '{"locked":true}', { qos: 1 });
    await pub.publish('portier/door-1/event/x', 'e', { qos: 1 });
    await pub.publish('other/door-1/set', 'nope', { qos: 1 });
    // A sentinel last: the broker keeps order per connection, so once it is here everything before it is too.
    await pub.publish('portier/door-2/state', 'end', { qos: 1 });
    await eventually(() => exact.some(([, p]) => p === 'end'), 15_000, 'sentinel');
    expect(plus).toEqual([['portier/door-1/set', 'open']]);
    expect(hash).toEqual([
      ['portier/door-1/set', 'open'],
      ['portier/door-1/event/x', 'e'],
    ]);
    expect(exact).toEqual([
      ['portier/door-2/state', '{"locked":true}'],
      ['portier/door-2/state', 'end'],
    ]);
  });

  it('rejects publish with a transient error while offline instead of queueing', async () => {
    const port = await freePort();
    const { link: l, states } = link({ url: `mqtt://127.0.0.1:${port}` });
    await eventually(() => states.some((s) => s.state === 'down'), 15_000, 'down (no broker)');
    expect(states.find((s) => s.state === 'down')?.reason).toMatch(/ECONNREFUSED/);
    const err = await l.publish('portier/x/event', 'lost?').catch((e: unknown) => e);
    expect(isPortierError(err, ErrorCode.TransportClosed)).toBe(true);
    expect((err as { isTransient(): boolean }).isTransient()).toBe(true);
  });

  it('goes down when the broker stops, up when it restarts on the same port, and the old subscriptions deliver', async () => {
    const b = await broker();
    const { link: sub, states } = link({ url: b.url, clientId: 'portier-test-sub' });
    const got = inbox(sub, 'portier/+/event');
    await eventually(() => sub.state === 'up', 15_000, 'up');
    await b.stop();
    await eventually(() => sub.state === 'down' || sub.state === 'connecting', 15_000, 'down after broker stop');
    expect(states.find((s) => s.state === 'down')?.reason).toMatch(/MQTT/);
    await b.restart();
    await eventually(() => sub.state === 'up', 15_000, 'up after broker restart');
    const { link: pub } = link({ url: b.url });
    await eventually(() => pub.state === 'up', 15_000, 'publisher up');
    await pub.publish('portier/door-9/event', 'after restart', { qos: 1 });
    await eventually(() => got.length >= 1, 15_000, 'delivery after restart');
    expect(got).toEqual([['portier/door-9/event', 'after restart']]);
  });

  it('publishes the online message on every connect; the broker publishes the will when the connection dies uncleanly', async () => {
    const b = await broker();
    const { link: watcher } = link({ url: b.url });
    const bridge = inbox(watcher, 'portier/bridge/state');
    await eventually(() => watcher.state === 'up', 15_000, 'watcher up');
    const proxy = await cuttableProxy(b.port);
    const { link: gw } = link({
      url: proxy.url,
      clientId: 'portier-test-gw',
      keepaliveS: 5,
      will: { topic: 'portier/bridge/state', payload: 'offline', retain: true },
      onlineMessage: { topic: 'portier/bridge/state', payload: 'online', retain: true },
    });
    await eventually(() => bridge.some(([, p]) => p === 'online'), 15_000, 'online');
    proxy.cut();
    await eventually(() => bridge.some(([, p]) => p === 'offline'), 15_000, 'last will');
    // The proxy still listens, so the link reconnects through it and says "online" again.
    await eventually(() => bridge.filter(([, p]) => p === 'online').length >= 2, 15_000, 'online again');
    expect(gw.state).toBe('up');
    expect(bridge.map(([, p]) => p)).toEqual(['online', 'offline', 'online']);
    // A graceful stop says "offline" itself (a clean DISCONNECT makes the broker drop the will).
    await gw.stop();
    await eventually(() => bridge.length >= 4, 15_000, 'offline on stop');
    expect(bridge.at(-1)?.[1]).toBe('offline');
  });

  it('subscribes filters added while up and stops delivering after unsubscribe', async () => {
    const b = await broker();
    const { link: l } = link({ url: b.url });
    await eventually(() => l.state === 'up', 15_000, 'up');
    const got: Msg[] = [];
    const off = l.subscribe('late/#', (t, p) => got.push([t, p.toString()]), { qos: 1 });
    // Publish to ourselves until the broker has the subscription (SUBACK is not exposed).
    await eventually(
      () => {
        void l.publish('late/probe', 'p', { qos: 1 });
        return got.length > 0;
      },
      15_000,
      'late subscription active',
    );
    off();
    const before = got.length;
    const { link: other } = link({ url: b.url });
    const control = inbox(other, 'late/#');
    await eventually(() => other.state === 'up', 15_000, 'control up');
    await l.publish('late/after', 'x', { qos: 1 });
    await eventually(() => control.some(([t]) => t === 'late/after'), 15_000, 'control got it');
    expect(got.slice(before).some(([t]) => t === 'late/after')).toBe(false);
  });

  it('bounds publishes in flight and refuses bad URLs and topics with clear errors', async () => {
    const b = await broker();
    const { link: l } = link({ url: b.url, maxInflight: 2 });
    await eventually(() => l.state === 'up', 15_000, 'up');
    const results = await Promise.allSettled([1, 2, 3].map((i) => l.publish(`bound/${i}`, 'x', { qos: 1 })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const third = results[2] as PromiseRejectedResult;
    expect(isPortierError(third.reason, ErrorCode.TransportTimeout)).toBe(true);
    await l.publish('bound/4', 'x', { qos: 1 });
    const wildcard = await l.publish('a/+', 'x').catch((e: unknown) => e);
    expect(isPortierError(wildcard, ErrorCode.ConfigInvalid)).toBe(true);
    expect(() => l.subscribe('a/#/b', () => undefined)).toThrow(/bad MQTT topic filter/);
    expect(() => createMqttLink({ url: 'http://127.0.0.1:1883' }, silentLogger())).toThrow(/unsupported scheme http:/);
    // Credentials in a URL never reach an error message or a log line.
    expect(() => createMqttLink({ url: 'mqtt://user:secret@' }, silentLogger())).toThrow(/^MQTT url "mqtt:\/\/" is/);
  });
});
