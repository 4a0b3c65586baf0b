import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, isPortierError } from '../../../src/core/errors.js';
import type { CoapLink, CoapResponse } from '../../../src/core/links.js';
import { silentLogger } from '../../../src/core/logger.js';
import { createCoapLink } from '../../../src/transports/coap.js';
import { eventually } from '../../helpers/eventually.js';
import { stopProcess } from '../../helpers/mosquitto.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A free UDP port on loopback, chosen by the kernel. */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * libcoap's example server (Debian's libcoap3-bin), a CoAP implementation independent of ours: `/` answers a
 * description, `/time` the server's clock, observable (RFC 7641) with a notification every second.
 */
async function coapServer(): Promise<{ base: string }> {
  const port = await freeUdpPort();
  const proc: ChildProcess = spawn('coap-server-notls', ['-A', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr?.resume();
  cleanups.push(() => stopProcess(proc));
  const base = `coap://127.0.0.1:${port}`;
  // Ready when it answers; each probe is a real GET with a short timeout.
  const probe = createCoapLink(silentLogger());
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await probe.get(`${base}/`, { timeoutMs: 500 }).then(
      () => true,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error('coap-server-notls did not answer');
  }
  probe.close();
  return { base };
}

function newLink(): CoapLink {
  const link = createCoapLink(silentLogger(), { timeoutMs: 5000, observeTimeoutMs: 10_000 });
  cleanups.push(() => link.close());
  return link;
}

describe('CoAP link against libcoap coap-server-notls', () => {
  it('GETs a resource', async () => {
    const { base } = await coapServer();
    const link = newLink();
    const root = await link.get(`${base}/`);
    expect(root.code).toBe('2.05');
    expect(root.payload.toString()).toMatch(/libcoap/);
    const time = await link.get(`${base}/time`);
    expect(time.code).toBe('2.05');
    expect(time.payload.length).toBeGreaterThan(0);
    const missing = await link.get(`${base}/no-such-resource`);
    expect(missing.code).toBe('4.04');
  });

  it('observes /time, gets repeated notifications, and stops after cancel', async () => {
    const { base } = await coapServer();
    const link = newLink();
    const seen: CoapResponse[] = [];
    const cancel = await link.observe(`${base}/time`, (res) => seen.push(res));
    await eventually(() => seen.length >= 3, 20_000, 'three notifications');
    expect(seen.every((r) => r.code === '2.05' && r.payload.length > 0)).toBe(true);
    // The server's clock moves between notifications (one per second).
    expect(new Set(seen.map((r) => r.payload.toString())).size).toBeGreaterThan(1);
    await cancel();
    const after = seen.length;
    // A second, live observation as the clock: while it hears three notifications, the cancelled one must hear
    // none (at most one may already have been in flight when we cancelled).
    const reference: CoapResponse[] = [];
    const stopReference = await link.observe(`${base}/time?ticks`, (res) => reference.push(res));
    await eventually(() => reference.length >= 3, 20_000, 'three reference notifications');
    expect(seen.length - after).toBeLessThanOrEqual(1);
    await stopReference();
  });

  it('refuses coaps:// with a clear error, and times out on a silent port without crashing', async () => {
    const link = newLink();
    const dtls = await link.get('coaps://127.0.0.1:5684/time').catch((e: unknown) => e);
    expect(isPortierError(dtls, ErrorCode.ConfigInvalid)).toBe(true);
    expect(String((dtls as Error).message)).toMatch(/coaps:\/\/ \(DTLS\) is not supported/);
    const obs = await link.observe('coaps://127.0.0.1:5684/time', () => undefined).catch((e: unknown) => e);
    expect(isPortierError(obs, ErrorCode.ConfigInvalid)).toBe(true);
    const port = await freeUdpPort();
    const silent = await link.get(`coap://127.0.0.1:${port}/x`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(isPortierError(silent, ErrorCode.TransportTimeout)).toBe(true);
  });
});
