import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { parseIssuerConfig } from '../../../src/issuer/config.js';
import { type RunningIssuer, startIssuer } from '../../../src/issuer/service.js';
import { eventually } from '../../helpers/eventually.js';
import { type Broker, startMosquitto } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

const PREFIX = 'town-lindau/portier';
const GATEWAY = 'gw-rathaus-01';

/**
 * The cloud broker is up but the door's gateway says nothing (it is off, or its link is down and its session
 * queues): the door page must still answer with the offline ways in after its ack timeout, never hang. The gateway
 * is played by an MQTT 5 client written here against docs/sync.md's topics (`down/open` in, `up/ack` out), on a real
 * mosquitto; it sees what a real gateway would receive.
 */
describe('issuer: broker up, gateway silent', () => {
  let broker: Broker;
  let running: RunningIssuer;
  let gateway: MqttClient;
  const received: IPublishPacket[] = [];
  let answer = false;

  beforeAll(async () => {
    broker = await startMosquitto();
    const dir = tempDir('portier-issuer-silent-');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(
      join(dir, 'key.json'),
      JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'lindau-2026-12', alg: 'EdDSA' }),
    );
    writeFileSync(join(dir, 'wc.pin'), `${randomBytes(32).toString('hex')}\n`);
    gateway = connect(broker.url, { protocolVersion: 5, clientId: `portier-${GATEWAY}`, clean: true });
    await new Promise<void>((resolve, reject) => {
      gateway.once('connect', () => resolve());
      gateway.once('error', reject);
    });
    await gateway.subscribeAsync(`${PREFIX}/${GATEWAY}/down/#`, { qos: 1 });
    gateway.on('message', (_topic, payload, packet) => {
      received.push(packet);
      if (!answer) return;
      const { id } = JSON.parse(payload.toString()) as { id: string };
      gateway.publish(`${PREFIX}/${GATEWAY}/up/ack`, JSON.stringify({ id, status: 'ok' }), { qos: 1 });
    });
    const cfg = parseIssuerConfig(`version: 1
listen: { host: 127.0.0.1, port: 0, public_url: 'https://wc.lindau-bodensee.de' }
state_dir: ${join(dir, 'state')}
key: { file: ${join(dir, 'key.json')}, iss: 'https://wc.lindau-bodensee.de/issuer' }
broker: { url: '${broker.url}', prefix: '${PREFIX}', ack_timeout_ms: 800 }
doors:
  - id: wc-rathaus-damen
    gateway: ${GATEWAY}
    name: { de: 'WC Rathaus, Damen', en: 'Toilet, town hall, ladies' }
    features: { keypad: true, scanner: true }
    pin_length: 8
    pin_secret_file: ${join(dir, 'wc.pin')}
    pass_page_url: 'https://${GATEWAY}.lindau-bodensee.de/door/wc-rathaus-damen'
`);
    running = await startIssuer(cfg, silentLogger());
    await eventually(() => running.cloud?.connected === true, 10_000, 'the issuer on the broker');
  });
  afterAll(async () => {
    await running?.close();
    await gateway?.endAsync(true);
    await broker?.stop();
  });

  const post = () =>
    fetch(`${running.url}/api/v1/doors/wc-rathaus-damen/passes`, { method: 'POST' }).then(
      async (r) => [r.status, (await r.json()) as Record<string, unknown>] as const,
    );

  it('answers with the PIN, the QR pass and its link once no acknowledgement came', async () => {
    const [status, body] = await post();
    expect(status).toBe(200);
    expect(body).toMatchObject({ delivered: 'offline', opened: false, reason: 'no_answer' });
    expect(body.pin).toMatch(/^\d{8}$/);
    const link = new URL(body.link as string);
    expect(link.origin + link.pathname).toBe(`https://${GATEWAY}.lindau-bodensee.de/door/wc-rathaus-damen`);
    expect(decodeURIComponent(link.hash.slice(1))).toBe(body.pass);
    // What the silent gateway was sent: the `open`, at QoS 0, expiring in the broker after 10 s.
    await eventually(() => received.length === 1, 5000, 'the open at the gateway');
    const open = received[0]!;
    expect(open.topic).toBe(`${PREFIX}/${GATEWAY}/down/open`);
    expect(open.qos).toBe(0);
    expect(open.properties?.messageExpiryInterval).toBe(10);
    expect(JSON.parse(open.payload.toString())).toMatchObject({
      cmd: 'open',
      lock: 'wc-rathaus-damen',
      pass: body.pass,
    });
    expect(running.store.issued(1)[0]).toMatchObject({ door: 'wc-rathaus-damen', delivered: 'offline' });
  });

  it('the same door opens online as soon as the gateway acknowledges', async () => {
    answer = true;
    const [, body] = await post();
    expect(body).toMatchObject({ delivered: 'online', opened: true });
    expect(body.pin).toBeUndefined();
  });
});
