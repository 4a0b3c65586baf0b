import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, freePort, startMosquitto } from '../../helpers/mosquitto.js';
import { CloudConsumer, openTestSync, producedIds, type TestSync, testCloudConfig } from './harness.js';
import { type CertFiles, makeTestPki, type TestPki } from './pki.js';

/**
 * A mosquitto with a TLS listener (the gateway's) and a plain loopback listener (the test's cloud consumer).
 * Certificate options follow their `listener` line, so they apply to the TLS one only.
 */
async function tlsBroker(
  pki: TestPki,
  server: CertFiles,
  requireClientCert: boolean,
): Promise<{ broker: Broker; tlsUrl: string }> {
  const plain = await freePort();
  const tls = await freePort();
  const broker = await startMosquitto({
    port: plain,
    extraConfig: [
      'per_listener_settings false',
      'allow_anonymous true',
      `listener ${plain} 127.0.0.1`,
      `listener ${tls} 127.0.0.1`,
      `cafile ${pki.ca}`,
      `certfile ${server.cert}`,
      `keyfile ${server.key}`,
      `require_certificate ${requireClientCert}`,
      ...(requireClientCert ? ['use_identity_as_username true'] : []),
    ],
  });
  return { broker, tlsUrl: `mqtts://127.0.0.1:${tls}` };
}

function record(gw: TestSync, n: number): void {
  for (let i = 0; i < n; i++) {
    gw.store.events.recordNow({ dev: 'door-1', type: 'access.decision', data: { granted: true, i } });
  }
}

describe('cloud uplink over TLS', () => {
  let pki: TestPki;
  let broker: Broker | undefined;
  let gw: TestSync | undefined;
  let cloud: CloudConsumer | undefined;

  beforeAll(() => {
    pki = makeTestPki();
  });
  afterEach(async () => {
    await gw?.close();
    await cloud?.stop();
    await broker?.stop();
    gw = cloud = broker = undefined;
  });

  it('refuses a broker whose certificate is signed by a CA it does not trust, and keeps the events', async () => {
    const b = await tlsBroker(pki, pki.rogue, false);
    broker = b.broker;
    gw = openTestSync({ gatewayId: 'gw-tls', config: testCloudConfig(b.tlsUrl, { ca_file: pki.ca }) });
    record(gw, 5);
    gw.sync.start();
    const { connection } = gw.sync;
    await eventually(() => connection.failedAttempts >= 3, 20_000, 'three refused attempts');
    expect(connection.lastError).toMatch(/certificate|verify/i);
    expect(connection.connects).toBe(0);
    expect(gw.sync.outbox.total()).toBe(5);
  });

  it('refuses a broker whose certificate names another host', async () => {
    const b = await tlsBroker(pki, pki.otherName, false);
    broker = b.broker;
    gw = openTestSync({ gatewayId: 'gw-tls', config: testCloudConfig(b.tlsUrl, { ca_file: pki.ca }) });
    record(gw, 2);
    gw.sync.start();
    const { connection } = gw.sync;
    await eventually(() => connection.failedAttempts >= 3, 20_000, 'three refused attempts');
    expect(connection.lastError).toMatch(/ALTNAME|does not match|not in the cert/i);
    expect(connection.connects).toBe(0);
    expect(gw.sync.outbox.total()).toBe(2);
  });

  it('is accepted by a broker that requires client certificates, and delivers over mutual TLS', async () => {
    const b = await tlsBroker(pki, pki.server, true);
    broker = b.broker;
    cloud = await CloudConsumer.start(broker.url, 'cloud-tls');
    gw = openTestSync({
      gatewayId: 'gw-tls',
      config: testCloudConfig(b.tlsUrl, { ca_file: pki.ca, cert_file: pki.client.cert, key_file: pki.client.key }),
    });
    record(gw, 10);
    gw.sync.start();
    const consumer = cloud;
    const sync = gw.sync;
    await eventually(() => consumer.ids().size >= 10 && sync.uplink.idle(), 20_000, 'ten events over mTLS');
    expect(consumer.ids()).toEqual(new Set(producedIds(gw.store)));
    expect(consumer.status.get('portier/gw-tls/up/status')).toBe('online');
  });

  it('is refused by that broker without a client certificate', async () => {
    const b = await tlsBroker(pki, pki.server, true);
    broker = b.broker;
    gw = openTestSync({ gatewayId: 'gw-tls', config: testCloudConfig(b.tlsUrl, { ca_file: pki.ca }) });
    record(gw, 1);
    gw.sync.start();
    const { connection } = gw.sync;
    await eventually(() => connection.failedAttempts >= 3, 20_000, 'three refused attempts');
    expect(connection.lastError).toMatch(/certificate required|alert/i);
    expect(connection.connects).toBe(0);
    expect(gw.sync.outbox.total()).toBe(1);
  });
});
