import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAdmin } from '../../../src/admin/server.js';
import { silentLogger } from '../../../src/core/logger.js';
import { PortierProcess } from '../../helpers/daemon.js';
import { startTestGateway } from '../../helpers/gateway.js';
import { tempDir } from '../../helpers/tmp.js';
import { startAdminHarness } from './harness.js';

function httpsGet(url: string, token: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}) }, (res) => {
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

describe('admin API over TLS', () => {
  it('serves HTTPS with the given certificate; clients trusting it (and the CLI with --ca) get through', async () => {
    const dir = tempDir('portier-tls-');
    // A self-signed P-256 certificate for 127.0.0.1, made by the system's openssl.
    execFileSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    const cert = readFileSync(join(dir, 'cert.pem'));
    const tg = await startTestGateway({ dir, devices: [] });
    const stateDir = join(dir, 'state');
    const admin = await startAdmin(tg.gateway, {
      listen: '127.0.0.1:0',
      stateDir,
      log: silentLogger(),
      tls: { cert, key: readFileSync(join(dir, 'key.pem')) },
    });
    try {
      expect(admin.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const ok = await httpsGet(`${admin.url}/api/health`, admin.token, cert);
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).gateway).toBe('test-gw');
      // A client that does not trust the certificate refuses to talk; plain HTTP gets nothing useful.
      await expect(httpsGet(`${admin.url}/api/health`, admin.token)).rejects.toThrow(/self[- ]signed/i);
      await expect(fetch(admin.url.replace('https:', 'http:'))).rejects.toThrow();

      const p = new PortierProcess([
        'device',
        'list',
        '--json',
        '--admin',
        admin.url,
        '--state-dir',
        stateDir,
        '--ca',
        join(dir, 'cert.pem'),
      ]);
      const closed = once(p.proc, 'close');
      expect((await p.exited).code).toBe(0);
      await closed;
      expect(p.lines[0]).toEqual({ devices: [], zones: [] });
    } finally {
      await admin.close();
      await tg.gateway.stop();
    }
  });
});

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('admin API under hostile requests', () => {
  it('answers 600 random malformed requests with 4xx JSON errors, counts them, and keeps the gateway healthy', async () => {
    const h = await startAdminHarness({
      devices: [{ id: 'door-1', driver: 'gpio-relay-lock', settings: { relay_pin: 17 } }],
    });
    const rand = rng(0x5eed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const paths = [
      '/api/devices/door-1',
      '/api/devices/%00',
      '/api/devices/door-1/test',
      '/api/devices/door-1/release',
      '/api/events',
      '/api/passes/check',
      '/api/keys',
      '/api/revocations',
      '/api/revocations/pass/%FF',
      `/api/devices/${'a'.repeat(300)}`,
    ];
    const queries = ['', '?limit=-1', '?limit=1e9', '?after=abc', '?type[]=x', '?dev=', '?limit=5&limit=6', '?%zz'];
    const bodies = [
      '{',
      '[]',
      'null',
      '"text"',
      '{"driver":{"$ne":1}}',
      '{"driver":"gpio-relay-lock","settings":{"relay_pin":"17; DROP TABLE events"}}',
      '{"__proto__":{"admin":true},"driver":"x"}',
      '{"lock":"door-1","pass":123}',
      '{"lock":"../../etc","pin":"1"}',
      '{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}',
      '{"kind":"pass","value":""}',
      JSON.stringify({ settings: { a: 'x'.repeat(70_000) } }),
      '\u0000\u0001\u0002',
    ];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const method = pick(['GET', 'PUT', 'POST', 'DELETE', 'PATCH']);
      const withBody = method !== 'GET' && method !== 'DELETE' && rand() < 0.9;
      const res = await h.call(method, `${pick(paths)}${pick(queries)}`, {
        ...(withBody
          ? {
              raw: pick(bodies),
              headers: { 'content-type': pick(['application/json', 'application/json', 'text/plain']) },
            }
          : {}),
        ...(rand() < 0.1 ? { token: null } : {}),
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 400) {
        expect(res.status, `${method} case ${i}`).toBeLessThan(500);
        expect(res.body?.error?.code, `${method} case ${i}: ${res.text.slice(0, 80)}`).toEqual(expect.any(String));
      }
    }
    // Every refusal counted; the door still works and nothing was provisioned by garbage.
    const metrics = (await h.call('GET', '/metrics')).text;
    const refused = [...statuses].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
    const counted = metrics
      .split('\n')
      .filter((l) => l.startsWith('portier_admin_errors_total{'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    expect(counted).toBe(refused);
    expect(refused).toBeGreaterThan(500);
    expect(h.gateway.store.devices.list().map((d) => d.id)).toEqual(['door-1']);
    expect((await h.call('GET', '/healthz')).status).toBe(200);
    expect((await h.call('POST', '/api/devices/door-1/test')).status).toBe(200);
    await h.stop();
  });
});
