import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminHarness, startAdminHarness } from './harness.js';

/** A GET with the Host header given (fetch will not send one of our choosing), optionally with the admin token. */
function get(url: string, host: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An HTTP/1.0 request with no Host header at all, on a raw socket: the status line's code. */
function getWithoutHost(url: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const s = connect(Number(u.port), u.hostname, () => s.write(`GET ${path} HTTP/1.0\r\n\r\n`));
    let text = '';
    s.on('data', (d) => {
      text += d.toString('latin1');
    });
    s.on('error', reject);
    s.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)));
  });
}

describe('the admin API answers only to its own names (DNS rebinding) and keeps /metrics behind the token', () => {
  let h: AdminHarness;
  let open: AdminHarness;
  beforeAll(async () => {
    h = await startAdminHarness();
    open = await startAdminHarness({ admin: { metrics_open: true, host_names: ['portier.example-town.de'] } });
  });
  afterAll(async () => {
    await h?.stop();
    await open?.stop();
  });

  it('refuses a foreign Host on every route, open or not, with the token or without', async () => {
    const port = new URL(h.admin.url).port;
    // What a browser on the Pi sends after rebind.attacker.example was made to resolve to 127.0.0.1.
    const evil = `rebind.attacker.example:${port}`;
    for (const path of ['/healthz', '/metrics', '/', '/openapi.json', '/api/health', '/api/devices', '/nope']) {
      const res = await get(`${h.admin.url}${path}`, evil, h.admin.token);
      expect([path, res.status]).toEqual([path, 421]);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'misdirected_request' } });
    }
    expect(await getWithoutHost(h.admin.url, '/healthz')).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, '127.0.0.1']) {
      expect([host, (await get(`${h.admin.url}/healthz`, host)).status]).toEqual([host, 200]);
    }
  });

  it('asks for the token on /metrics, also from loopback, unless admin.metrics_open', async () => {
    const host = new URL(h.admin.url).host;
    expect((await get(`${h.admin.url}/metrics`, host)).status).toBe(401);
    const scraped = await get(`${h.admin.url}/metrics`, host, h.admin.token);
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain('portier_events_total');
    // metrics_open: a local Prometheus scrapes without the token, under the configured name too.
    expect((await get(`${open.admin.url}/metrics`, new URL(open.admin.url).host)).status).toBe(200);
    expect((await get(`${open.admin.url}/metrics`, 'portier.example-town.de')).status).toBe(200);
    expect((await get(`${open.admin.url}/metrics`, 'rebind.attacker.example')).status).toBe(421);
  });
});
