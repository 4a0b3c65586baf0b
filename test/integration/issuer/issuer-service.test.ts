import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { parseIssuerConfig } from '../../../src/issuer/config.js';
import { type RunningIssuer, startIssuer } from '../../../src/issuer/service.js';
import { tempDir } from '../../helpers/tmp.js';

/**
 * docs/pins.md written out again, independently of src/access/pin.ts: HMAC-SHA-256 over lock, NUL, u64be slot start,
 * u16be hours, flags; RFC 4226 section 5.3 dynamic truncation.
 */
function docPin(secret: Buffer, lock: string, slotStart: number, hours: number, digits: number): string {
  const tail = Buffer.alloc(11);
  tail.writeBigUInt64BE(BigInt(slotStart), 0);
  tail.writeUInt16BE(hours, 8);
  tail[10] = 1;
  const mac = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(lock), Buffer.from([0]), tail]))
    .digest();
  const o = mac[31]! & 0x0f;
  const n = mac.readUInt32BE(o) & 0x7fffffff;
  return String(n % 10 ** digits).padStart(digits, '0');
}

describe('issuer service without a broker', () => {
  let running: RunningIssuer;
  const secret = randomBytes(32);

  beforeAll(async () => {
    const dir = tempDir('portier-issuer-svc-');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(
      join(dir, 'key.json'),
      JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'k1', alg: 'EdDSA' }),
    );
    writeFileSync(join(dir, 'wc.pin'), `${secret.toString('hex')}\n`);
    const cfg = parseIssuerConfig(`version: 1
listen: { host: 127.0.0.1, port: 0, public_url: 'https://wc.example-town.de' }
state_dir: ${join(dir, 'state')}
key: { file: ${join(dir, 'key.json')}, iss: 'https://wc.example-town.de/issuer' }
sms: { number: '+49 170 1234567', reply: xml, per_number_per_hour: 100 }
doors:
  - id: toilet-9
    gateway: gw-1
    name: { de: 'WC Rathaus', en: 'Toilet, town hall' }
    features: { keypad: true }
    pin_length: 9
    pin_secret_file: ${join(dir, 'wc.pin')}
    sms_keyword: Wc9
    policy: { per_client_per_hour: 100 }
`);
    running = await startIssuer(cfg, silentLogger());
  });
  afterAll(async () => {
    await running?.close();
  });

  const sms = (body: string, from = '+4915112345678') =>
    fetch(`${running.url}/sms/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ From: from, Body: body }).toString(),
    });

  it("answers SMS in the provider's XML, with a one-time PIN of the door's length per docs/pins.md", async () => {
    const res = await sms('wc9');
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const doc = new DOMParser().parseFromString(await res.text(), 'text/xml');
    expect(doc.documentElement?.nodeName).toBe('Response');
    const message = doc.getElementsByTagName('Message')[0]?.textContent ?? '';
    expect(message).toMatch(/^WC Rathaus: Code \d{9} und #/);
    const code = /Code (\d{9})/.exec(message)![1]!;
    const now = Math.floor(Date.now() / 1000);
    const hour = Math.floor(now / 3600) * 3600;
    const slot = hour + 3600 - now <= 900 ? hour + 3600 : hour;
    expect(code).toBe(docPin(secret, 'toilet-9', slot, 1, 9));
  });

  it('gives each asker of the hour a code of their own (the one-time durations), then says none is left', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const text = await (await sms('WC9', `+49151000000${i}`)).text();
      codes.add(/Code (\d{9})/.exec(text)![1]!);
    }
    expect(codes.size).toBe(5);
    const none = await (await sms('WC9', '+4915100000099')).text();
    expect(none).toContain('WC Rathaus: gerade kein Code verfügbar.');
  });

  it('with no broker configured the JSON twin answers offline at once, without a PIN when none is left', async () => {
    const res = await fetch(`${running.url}/api/v1/doors/toilet-9/passes`, { method: 'POST' });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ delivered: 'offline', opened: false, reason: 'no_broker', link: null });
    expect(body.pin).toBeUndefined();
    expect(running.store.issued(1)[0]).toMatchObject({ door: 'toilet-9', channel: 'api', delivered: 'offline' });
  });

  it('with a Twilio auth token, refuses webhook requests without a valid X-Twilio-Signature (403, counted)', async () => {
    const dir = tempDir('portier-issuer-sig-');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'key.json'), JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid: 'k2' }));
    writeFileSync(join(dir, 'twilio.token'), 'a3f1c0ffee\n', { mode: 0o600 });
    const signed = await startIssuer(
      parseIssuerConfig(`version: 1
listen: { host: 127.0.0.1, port: 0, public_url: 'https://wc.example-town.de/' }
state_dir: ${join(dir, 'state')}
key: { file: ${join(dir, 'key.json')}, iss: 'https://wc.example-town.de' }
sms: { number: '+49 170 1234567', twilio_auth_token_file: ${join(dir, 'twilio.token')} }
doors: [ { id: wc, gateway: gw-1, name: { de: WC, en: WC }, sms_keyword: WC } ]
`),
      silentLogger(),
    );
    try {
      const form = { From: '+4915112345678', Body: 'hello' };
      const send = (signature?: string) =>
        fetch(`${signed.url}/sms/inbound`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(signature ? { 'x-twilio-signature': signature } : {}),
          },
          body: new URLSearchParams(form).toString(),
        });
      expect((await send()).status).toBe(403);
      // Signed as Twilio signs: the public URL it called, then the sorted parameters (written out here again).
      const data = `https://wc.example-town.de/sms/inbound${'Body'}${form.Body}${'From'}${form.From}`;
      const good = createHmac('sha1', 'a3f1c0ffee').update(data).digest('base64');
      expect((await send(`${good.slice(0, -2)}A=`)).status).toBe(403);
      const ok = await send(good);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('Please text one of');
      expect(await (await fetch(`${signed.url}/metrics`)).text()).toMatch(
        /portier_issuer_refused_total\{reason="bad_signature"\} 2/,
      );
    } finally {
      await signed.close();
    }
  });

  it('counts passes and refusals on /metrics', async () => {
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(text).toContain('portier_issuer_passes_total{door="toilet-9",channel="sms",delivered="offline"} 6');
    expect(text).toMatch(/portier_issuer_refused_total\{reason="no_pin"\} 1/);
  });
});
