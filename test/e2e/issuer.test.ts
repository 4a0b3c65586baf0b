import { statSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { type IssuerRig, issuerDbBytes, startIssuerRig } from '../helpers/issuer-rig.js';
import { decodeQrSvg } from '../helpers/svg-qr.js';

/**
 * The whole story with real parts: a real mosquitto as the town's cloud broker, a real `portier run` gateway with a
 * door on simulated GPIO, its QR scanner on a pty and a Wiegand keypad, and a real `portier issuer`. A form post
 * opens the relay through the broker; with the broker stopped the page offers a PIN and a QR that open once each.
 */
describe('portier issuer, end to end', () => {
  let rig: IssuerRig;
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  /** The gateway's next access decision after `action`. */
  async function decision(action: () => Promise<unknown>): Promise<LogLine> {
    const before = rig.gateway.lines.length;
    await action();
    return rig.gateway.waitFor(
      (l) => rig.gateway.lines.indexOf(l) >= before && (l.msg === 'access granted' || l.msg === 'access denied'),
      20_000,
      'an access decision',
    );
  }
  /** The relay energized after `before`, then let go again (so the next opening is a change of its own). */
  async function opened(before: number): Promise<void> {
    await eventually(() => rig.relay.slice(before).includes(1), 10_000, 'relay energized');
    await eventually(
      () => rig.relay.slice(before).lastIndexOf(0) > rig.relay.slice(before).indexOf(1),
      10_000,
      'relocked',
    );
  }

  beforeAll(async () => {
    rig = await startIssuerRig();
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('serves the door page in German or English: small, no cookies, nothing from elsewhere, a strict CSP', async () => {
    const en = await fetch(`${rig.url}/d/door-1`, { headers: { 'accept-language': 'fr-CH, en;q=0.8, de;q=0.5' } });
    expect(en.status).toBe(200);
    const html = await en.text();
    expect(html).toMatch(/^<!doctype html><html lang="en">/);
    expect(html).toContain('<h1>Toilet, market square</h1>');
    expect(html).toContain('<form method="post" action="/d/door-1/open">');
    expect(html).toContain('<button type="submit">Open</button>');
    expect(html).toContain('href="/d/door-1?lang=de" hreflang="de" lang="de">Deutsch</a>');
    expect(html).toContain('Text WC1 to +49 170 1234567');
    expect(en.headers.get('set-cookie')).toBeNull();
    expect(en.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[^']+';/);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/);
    expect(Buffer.byteLength(html)).toBeLessThan(30 * 1024);
    const de = await (await fetch(`${rig.url}/d/door-1?lang=de`, { headers: { 'accept-language': 'en' } })).text();
    expect(de).toMatch(/^<!doctype html><html lang="de">/);
    expect(de).toContain('<button type="submit">Öffnen</button>');
    expect((await fetch(`${rig.url}/d/nowhere`)).status).toBe(404);
  });

  it("shows a door's state from its gateway's events on the broker (docs/sync.md batch format)", async () => {
    const before = await (await fetch(`${rig.url}/d/door-absent?lang=en`)).text();
    expect(before).toContain('State: <strong>not known</strong>');
    const client = await connectAsync(rig.broker.url);
    const event = {
      id: '01JC0000000000000000000000',
      seq: 9,
      epoch: '01JC0000000000000000000001',
      gw: 'e2e-gw',
      dev: 'door-absent',
      type: 'door.state',
      ts: new Date().toISOString(),
      tq: 'synced',
      data: { state: 'closed', locked: true, occupied: true },
    };
    await client.publishAsync('portier/e2e-gw/up/events', JSON.stringify({ v: 1, gw: 'e2e-gw', events: [event] }), {
      qos: 1,
    });
    await client.endAsync();
    await eventually(
      async () => (await (await fetch(`${rig.url}/d/door-absent?lang=de`)).text()).includes('<strong>besetzt</strong>'),
      10_000,
      'the page says occupied',
    );
  });

  it('a form post opens the relay through the cloud broker and the gateway, and the page says so', async () => {
    const before = rig.relay.length;
    const d = await decision(async () => {
      const res = await fetch(`${rig.url}/d/door-1/open`, form({ lang: 'en' }));
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<div role="status"><p class="big">Open: push the door now.</p></div>');
      expect(html).not.toContain('class="pin"');
    });
    expect(d).toMatchObject({ msg: 'access granted', lock: 'door-1', credential: 'pass' });
    await opened(before);
    const audit = rig.issuer.lines.find((l) => l.msg === 'issuer: pass issued' && l.channel === 'web');
    expect(audit).toMatchObject({ door: 'door-1', delivered: 'online', with_pin: false });
    expect(JSON.stringify(audit)).not.toMatch(/PT1:/);
  });

  it('the JSON twin opens online too, and its pass is single use (the scanner then refuses it)', async () => {
    const before = rig.relay.length;
    const res = await fetch(`${rig.url}/api/v1/doors/door-1/passes`, { method: 'POST' });
    const body = (await res.json()) as { pass: string; link: string; delivered: string; opened: boolean };
    expect(body).toMatchObject({ delivered: 'online', opened: true });
    expect(body.pass).toMatch(/^PT1:[0-9A-Z $%*+\-./:]+$/);
    expect(body.link).toBe(
      `http://192.168.1.20:8088/door/door-1#${body.pass.replaceAll('%', '%25').replaceAll(' ', '%20')}`,
    );
    await opened(before);
    const again = await decision(() => rig.qr.scan(body.pass));
    expect(again).toMatchObject({ msg: 'access denied', reason: 'uses_exhausted' });
  });

  it('answers 429 with Retry-After past the per-client limit, as JSON and as a page', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await fetch(`${rig.url}/api/v1/doors/door-absent/passes`, { method: 'POST' });
      expect(ok.status).toBe(200);
      // The gateway has no such lock: an answer, refused, and no offline ways (the door has no keypad or scanner).
      expect(await ok.json()).toMatchObject({ delivered: 'online', opened: false, reason: 'failed_device' });
    }
    const limited = await fetch(`${rig.url}/api/v1/doors/door-absent/passes`, { method: 'POST' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    expect(await limited.json()).toEqual({
      error: 'rate_limited',
      message: 'too many passes for this client or door this hour',
    });
    const page = await fetch(`${rig.url}/d/door-absent/open`, form({ lang: 'en' }));
    expect(page.status).toBe(429);
    expect(await page.text()).toContain('Too many tries. Please try again later.');
    const unknown = await fetch(`${rig.url}/api/v1/doors/nowhere/passes`, { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'unknown_door' });
  });

  it('an SMS with the keyword answers with a PIN that opens the keypad door; the database holds no number', async () => {
    const from = '+4917612345678';
    const sms = (body: string) =>
      fetch(`${rig.url}/sms/inbound`, form({ From: from, Body: body, To: '+491701234567', MessageSid: 'SM1' }));
    const unknown = await sms('toilet please');
    expect(unknown.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await unknown.text()).toContain('WC1 = Toilette am Marktplatz / Toilet, market square');
    const res = await sms(' wc 1 ');
    const text = await res.text();
    expect(text).toMatch(/^Toilette am Marktplatz: Code \d{8} und #/);
    const pin = /Code (\d{8})/.exec(text)![1]!;
    const before = rig.relay.length;
    const d = await decision(() => rig.keypad.keys(`${pin}#`));
    expect(d).toMatchObject({ msg: 'access granted', credential: 'pin' });
    await opened(before);
    const bytes = issuerDbBytes(rig.issuerStateDir);
    expect(bytes.length).toBeGreaterThan(0);
    for (const form of [from, from.slice(1), '017612345678', '17612345678', pin]) {
      expect(bytes.includes(Buffer.from(form)), form).toBe(false);
      expect(bytes.includes(Buffer.from(form, 'utf16le')), form).toBe(false);
    }
    // Every file of the issuer's state is its user's alone, whatever the umask (the test runs under 022).
    for (const f of ['issuer-hash.key', 'issuer.db', 'issuer.db-wal', 'issuer.db-shm']) {
      expect([f, statSync(join(rig.issuerStateDir, f)).mode & 0o777]).toEqual([f, 0o600]);
    }
    expect(statSync(rig.issuerStateDir).mode & 0o777).toBe(0o700);
    expect(rig.issuer.lines.some((l) => JSON.stringify(l).includes(pin) || JSON.stringify(l).includes(from))).toBe(
      false,
    );
  });

  it('with the broker stopped the page offers PIN and QR at once; each opens the door once only', async () => {
    await rig.broker.stop();
    await rig.issuer.waitFor((l) => String(l.msg).startsWith('issuer: cloud broker away'), 10_000, 'broker away');
    // The promise to the person at the door: the offline ways within 4 s of the tap.
    const res = await fetch(`${rig.url}/d/door-1/open`, { ...form({ lang: 'de' }), signal: AbortSignal.timeout(4000) });
    const html = await res.text();
    expect(html).toContain('Die Tür hat nicht geantwortet.');
    const pin = /<p class="pin">(\d{8})<\/p>/.exec(html)?.[1];
    expect(pin).toBeDefined();
    const svg = /<svg [\s\S]*?<\/svg>/.exec(html)?.[0];
    const pass = decodeQrSvg(svg ?? '');
    expect(pass).toMatch(/^PT1:/);
    expect(html).toContain(
      `href="http://192.168.1.20:8088/door/door-1#${pass!.replaceAll('%', '%25').replaceAll(' ', '%20')}"`,
    );

    let before = rig.relay.length;
    expect(await decision(() => rig.keypad.keys(`${pin}#`))).toMatchObject({
      msg: 'access granted',
      credential: 'pin',
    });
    await opened(before);
    expect(await decision(() => rig.keypad.keys(`${pin}#`))).toMatchObject({
      msg: 'access denied',
      reason: 'uses_exhausted',
    });

    before = rig.relay.length;
    expect(await decision(() => rig.qr.scan(pass!))).toMatchObject({ msg: 'access granted', credential: 'pass' });
    await opened(before);
    expect(await decision(() => rig.qr.scan(pass!))).toMatchObject({ msg: 'access denied', reason: 'uses_exhausted' });

    const api = await fetch(`${rig.url}/api/v1/doors/door-1/passes`, {
      method: 'POST',
      signal: AbortSignal.timeout(4000),
    });
    const body = (await api.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ delivered: 'offline', opened: false, reason: 'broker_unavailable' });
    expect(body.pin).toMatch(/^\d{8}$/);
    expect(body.pin).not.toBe(pin);
    const audit = rig.issuer.lines.filter((l) => l.msg === 'issuer: pass issued' && l.delivered === 'offline');
    expect(audit.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(rig.issuer.lines)).not.toContain(pin!);
  });
});
