import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passLink } from '../../../devices/readers/http-pass-page.js';
import { GpioDoorStub } from '../../../firmware-stubs/gpio-door.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../../src/transports/http-server.js';
import { eventually } from '../../helpers/daemon.js';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js';
import { makeIssuer, pt1Pass } from '../../helpers/issuer.js';
import { freePort } from '../../helpers/mosquitto.js';
import { tempDir } from '../../helpers/tmp.js';

describe('HTTP pass endpoint for phones: a page per door, a pass opens it', () => {
  let tg: TestGateway;
  let door: GpioDoorStub;
  let base: string;
  let strict: string;
  const issuer = makeIssuer();

  beforeAll(async () => {
    const dir = tempDir('portier-http-pass-');
    const gpioDir = join(dir, 'gpio');
    mkdirSync(gpioDir);
    door = new GpioDoorStub({ dir: gpioDir, relayLine: 17, contactLine: 27, walkThrough: false });
    await door.start();
    const [port, strictPort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    strict = `http://127.0.0.1:${strictPort}`;
    tg = await startTestGateway({
      dir,
      gpioDir,
      devices: [
        { id: 'toilet', driver: 'gpio-relay-lock', settings: { relay_pin: 17, contact_pin: 27, open_time_ms: 500 } },
        {
          id: 'phone-web',
          driver: 'http-pass-reader',
          settings: {
            host: '127.0.0.1',
            port,
            locks: [{ id: 'toilet', name: { de: 'WC Marktplatz "Süd" & <Co>', en: 'Toilet market square' } }],
            rate_burst: 50,
            rate_per_minute: 600,
          },
        },
        {
          id: 'phone-strict',
          driver: 'http-pass-reader',
          settings: { host: '127.0.0.1', port: strictPort, locks: ['toilet'], rate_burst: 2, rate_per_minute: 1 },
        },
      ],
    });
    tg.gateway.access.service.keys.importJwks(issuer.jwks);
    await eventually(() => tg.gateway.hosts.get('phone-web')?.isUp, 10_000, 'endpoint up');
  });

  afterAll(async () => {
    await tg?.gateway.stop();
    await door?.stop();
  });

  /** A POST from a phone set to English (the page's default without a preference is German). */
  const post = (url: string, body: string, type = 'application/json', lang = 'en-GB,en;q=0.9') =>
    fetch(url, { method: 'POST', headers: { 'content-type': type, 'accept-language': lang }, body });
  /** The JSON answer of the endpoint. */
  const answer = async (res: Response) => (await res.json()) as { granted: boolean; reason: string; message: string };

  /**
   * A client on a raw socket that sends `first`, then one more piece every 300 ms and never finishes: resolves when
   * the server closes the connection, with what it answered and how long that took.
   */
  const trickle = (first: string, piece: string) =>
    new Promise<{ ms: number; text: string }>((resolve, reject) => {
      const started = performance.now();
      const socket = connect(Number(new URL(base).port), '127.0.0.1');
      let text = '';
      const timer = setInterval(() => socket.write(piece), 300);
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('error', () => undefined); // a reset is a close too
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ ms: performance.now() - started, text });
      });
      socket.once('connect', () => socket.write(first));
      socket.once('timeout', () => reject(new Error('socket timeout')));
    });

  // Node checks these timeouts only every connectionsCheckingInterval, 30 s unless set at creation: at 30 s this
  // test runs into its own timeout of 20 s and fails.
  it('closes a connection whose headers trickle in at 5 s, and one whose body trickles in at 10 s', async () => {
    const [headers, body] = await Promise.all([
      trickle('GET /door/toilet HTTP/1.1\r\nHost: door\r\n', 'X-Slow: 1\r\n'),
      trickle(
        'POST /door/toilet/open HTTP/1.1\r\nHost: door\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\n',
        'P',
      ),
    ]);
    expect(headers.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(headers.ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
    expect(body.ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(body.text).not.toMatch(/"granted":true/);
    await eventually(() => tg.gateway.hosts.get('phone-web')?.rejected.get('body_incomplete') === 1, 5000, 'counted');
  }, 20_000);

  it('serves a small page with a strict content security policy that allows exactly its own script', async () => {
    const res = await fetch(`${base}/door/toilet`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('action="/door/toilet/open?lang=de"');
    expect(html).not.toMatch(/https?:\/\//); // loads nothing from elsewhere
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(html.length).toBeLessThan(8192);
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    const hash = createHash('sha256').update(script).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${hash}'`);
    expect((await fetch(`${base}/door/bike-garage`)).status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/door/toilet`, { method: 'DELETE' })).status).toBe(405);
  });

  it('opens for a single-use pass posted as JSON, and says so plainly when it is used up', async () => {
    const pass = await pt1Pass(issuer.key, { aud: 'toilet', uses: 1 });
    const res = await post(`${base}/door/toilet/open`, JSON.stringify({ pass }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ granted: true, reason: 'ok', message: 'Open. Push the door now.' });
    await eventually(() => door.relay() === 1, 5000, 'relay energized');
    const again = await post(`${base}/door/toilet/open`, JSON.stringify({ pass }));
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({
      granted: false,
      reason: 'uses_exhausted',
      message: 'This pass has been used up.',
    });
    const decision = tg.events.filter((e) => e.type === 'access.decision').at(-1)!;
    expect(decision.data).toMatchObject({ reader: 'phone-web', lock: 'toilet', credential: 'pass' });
    expect(JSON.stringify(decision)).not.toContain(pass.slice(4, 40));
  });

  it('takes a whole pass link pasted as text (the fragment is the pass), and a form posted without script', async () => {
    const pass = await pt1Pass(issuer.key, { aud: 'toilet' });
    const link = passLink('http://gw.example', 'toilet', pass);
    expect(link.startsWith('http://gw.example/door/toilet#PT1:')).toBe(true);
    expect(link).not.toContain(' ');
    const res = await post(`${base}/door/toilet/open`, link, 'text/plain');
    expect((await answer(res)).reason).toBe('ok');
    const form = await post(
      `${base}/door/toilet/open`,
      new URLSearchParams({ pass: await pt1Pass(issuer.key, { aud: 'group:other' }) }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(form.status).toBe(403);
    expect(form.headers.get('content-type')).toContain('text/html');
    expect(await form.text()).toContain('This pass is for another door.');
  });

  it("shows the door's name, not its id, in German or English by Accept-Language, with a switch link", async () => {
    const de = await fetch(`${base}/door/toilet`, { headers: { 'accept-language': 'de-DE,de;q=0.9,en;q=0.8' } });
    expect(de.headers.get('content-language')).toBe('de');
    const deHtml = await de.text();
    expect(deHtml).toContain('<html lang="de">');
    expect(deHtml).toContain('<h1>WC Marktplatz &#34;Süd&#34; &#38; &#60;Co&#62;</h1>');
    expect(deHtml).toContain('<button type="submit">Öffnen</button>');
    expect(deHtml).toContain('href="/door/toilet?lang=en" hreflang="en" lang="en">English</a>');
    expect(deHtml).not.toContain('<h1>toilet</h1>');

    const en = await (await fetch(`${base}/door/toilet`, { headers: { 'accept-language': 'fr, en;q=0.5' } })).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('<h1>Toilet market square</h1>');
    expect(en).toContain('<button type="submit">Open</button>');
    expect(en).toContain('action="/door/toilet/open?lang=en"');
    expect(en).toContain('href="/door/toilet?lang=de" hreflang="de" lang="de">Deutsch</a>');

    // the switch link wins over the browser's language
    const switched = await (
      await fetch(`${base}/door/toilet?lang=en`, { headers: { 'accept-language': 'de' } })
    ).text();
    expect(switched).toContain('<h1>Toilet market square</h1>');

    // a lock given without a name shows its id
    const plain = await (await fetch(`${strict}/door/toilet`, { headers: { 'accept-language': 'en' } })).text();
    expect(plain).toContain('<h1>toilet</h1>');
    for (const html of [deHtml, en]) expect(Buffer.byteLength(html)).toBeLessThan(8192);
  });

  it('answers in German for a German phone: JSON message and the page after a form posted without script', async () => {
    const pass = await pt1Pass(issuer.key, { aud: 'toilet', uses: 1 });
    const ok = await post(`${base}/door/toilet/open`, JSON.stringify({ pass }), 'application/json', 'de-AT');
    expect(await ok.json()).toMatchObject({ granted: true, message: 'Offen. Drücken Sie jetzt die Tür auf.' });
    const form = await post(
      `${base}/door/toilet/open?lang=de`,
      new URLSearchParams({ pass }).toString(),
      'application/x-www-form-urlencoded',
    );
    expect(form.status).toBe(403);
    const html = await form.text();
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('<h1>WC Marktplatz &#34;Süd&#34; &#38; &#60;Co&#62;</h1>');
    expect(html).toContain('Dieser Pass ist aufgebraucht.');
    expect(html).toContain('<a href="/door/toilet?lang=de">Zurück</a>');
  });

  it('answers an expired pass and garbage with their reasons', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await pt1Pass(issuer.key, { aud: 'toilet', nbf: now - 7200, iat: now - 7200, exp: now - 3600 });
    expect(await (await post(`${base}/door/toilet/open`, JSON.stringify({ pass: expired }))).json()).toMatchObject({
      reason: 'expired',
      message: 'This pass has expired.',
    });
    const junk = await post(`${base}/door/toilet/open`, JSON.stringify({ pass: 'hello' }));
    expect(junk.status).toBe(403);
    expect((await answer(junk)).message).toBe('This is not a valid pass for this door.');
    const empty = await post(`${base}/door/toilet/open`, JSON.stringify({ nothing: 1 }));
    expect(empty.status).toBe(400);
    expect(tg.gateway.hosts.get('phone-web')!.rejected.get('no_pass')).toBe(1);
  });

  it('refuses a body over the limit with 413 and counts it, without reading it all', async () => {
    const res = await post(`${base}/door/toilet/open`, 'A'.repeat(64 * 1024), 'text/plain').catch(() => undefined);
    if (res) expect(res.status).toBe(413);
    await eventually(
      () => (tg.gateway.hosts.get('phone-web')!.rejected.get('body_too_large') ?? 0) > 0,
      5000,
      'counted',
    );
    // and keeps serving
    expect((await fetch(`${base}/door/toilet`)).status).toBe(200);
  });

  it('limits each client address with a token bucket: 429 with Retry-After once the burst is spent', async () => {
    const body = JSON.stringify({ pass: 'not-a-pass' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(`${strict}/door/toilet/open`, body)).status);
    expect(statuses.slice(0, 2)).toEqual([403, 403]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    const limited = await post(`${strict}/door/toilet/open`, body);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await answer(limited)).reason).toBe('rate_limited');
    expect(tg.gateway.hosts.get('phone-strict')!.rejected.get('rate_limited')).toBe(3);
    // The other endpoint's clients are not affected.
    expect((await post(`${base}/door/toilet/open`, body)).status).toBe(403);
  });
});
