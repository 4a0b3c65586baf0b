import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuePass } from '../../../src/access/issue.js';
import { pinCode, pinSlot } from '../../../src/access/pin.js';
import { passCheckResponse } from '../../../src/admin/api-schemas.js';
import { PinStore } from '../../../src/store/pin-store.js';
import { eventually } from '../../helpers/daemon.js';
import { type AdminHarness, startAdminHarness } from './harness.js';
import { makeIssuer } from './issuer.js';

describe('admin API: pass checks, keys and revocations', () => {
  let h: AdminHarness;
  const issuer = makeIssuer('town-issuer-1');
  const now = Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    h = await startAdminHarness({
      devices: [{ id: 'wc-1', driver: 'gpio-relay-lock', settings: { relay_pin: 17, groups: ['toilets'] } }],
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const check = async (body: Record<string, unknown>) => {
    const res = await h.call('POST', '/api/passes/check', { body });
    expect(res.status).toBe(200);
    return passCheckResponse.parse(res.body);
  };

  it('imports, lists and removes issuer keys; a pass signed by an unknown key is unknown_key', async () => {
    const pass = await issuePass(issuer.signing, { aud: 'wc-1', exp: now + 600 }, 'pt1');
    expect((await check({ lock: 'wc-1', pass: pass.token })).reason).toBe('unknown_key');
    const imported = await h.call('POST', '/api/keys', { body: issuer.jwks });
    expect(imported.body).toEqual({ imported: ['town-issuer-1'], skipped: [] });
    expect((await h.call('GET', '/api/keys')).body.keys).toEqual([
      { kid: 'town-issuer-1', alg: 'EdDSA', kty: 'OKP', added_at: expect.any(String) },
    ]);
    expect((await check({ lock: 'wc-1', pass: pass.token })).granted).toBe(true);

    const privateKey = await h.call('POST', '/api/keys', { body: { keys: [issuer.signing.jwk] } });
    expect(privateKey.status).toBe(400);
    expect(privateKey.body.error.message).toMatch(/private/);
    expect((await h.call('POST', '/api/keys', { body: { keys: [] } })).body.error.problems[0].field).toBe('keys');
    expect((await h.call('DELETE', '/api/keys/nobody')).status).toBe(404);
  });

  it('checks a single-use pass as often as asked without spending it, and sees the use once the door spends it', async () => {
    const pass = await issuePass(issuer.signing, { aud: 'group:toilets', exp: now + 600, uses: 1 }, 'jwt');
    for (let i = 0; i < 3; i++) {
      expect(await check({ lock: 'wc-1', pass: pass.token })).toMatchObject({
        granted: true,
        reason: 'ok',
        uses_left: 1,
        dry_run: true,
        format: 'jwt',
        kid: 'town-issuer-1',
        pass_id: pass.id,
      });
    }
    expect(h.gateway.store.events.tail(100, { type: 'access.decision' })).toEqual([]);

    // The pass shown at the toilet's reader: the access service decides and counts the use.
    h.gateway.bus.emit('credential', { reader: 'qr-1', lock: 'wc-1', kind: 'pass', value: pass.token, at: Date.now() });
    await eventually(() => h.gateway.store.events.tail(5, { type: 'access.decision' }).length === 1, 5000);
    expect(await check({ lock: 'wc-1', pass: pass.token })).toMatchObject({ granted: false, reason: 'uses_exhausted' });
  });

  it('names the first failing check: wrong lock, expired, not yet valid, malformed', async () => {
    const wrong = await issuePass(issuer.signing, { aud: 'bike-garage', exp: now + 600 }, 'pt1');
    expect((await check({ lock: 'wc-1', pass: wrong.token })).reason).toBe('wrong_lock');
    const expired = await issuePass(issuer.signing, { aud: 'wc-1', exp: now - 600, iat: now - 7200 }, 'hex');
    const e = await check({ lock: 'wc-1', pass: expired.token });
    expect(e).toMatchObject({ granted: false, reason: 'expired', exp: new Date((now - 600) * 1000).toISOString() });
    const early = await issuePass(issuer.signing, { aud: 'wc-1', nbf: now + 3600, exp: now + 7200 }, 'b64');
    expect((await check({ lock: 'wc-1', pass: early.token })).reason).toBe('not_yet_valid');
    expect(await check({ lock: 'wc-1', pass: 'hello' })).toMatchObject({ granted: false, reason: 'malformed' });
  });

  it('revokes a pass id (list version goes up), the check says revoked, and lifting it restores the pass', async () => {
    const pass = await issuePass(issuer.signing, { aud: 'wc-1', exp: now + 600 }, 'pt1');
    const before = (await h.call('GET', '/api/revocations')).body.version;
    const revoked = await h.call('POST', '/api/revocations', {
      body: { kind: 'pass', value: pass.id, reason: 'lost' },
    });
    expect(revoked.body.version).toBe(before + 1);
    expect((await h.call('GET', '/api/revocations')).body.revocations).toEqual([
      { kind: 'pass', value: pass.id, reason: 'lost', added_at: expect.any(String) },
    ]);
    expect((await check({ lock: 'wc-1', pass: pass.token })).reason).toBe('revoked');
    const lifted = await h.call('DELETE', `/api/revocations/pass/${pass.id}`);
    expect(lifted.body.version).toBe(before + 2);
    expect((await check({ lock: 'wc-1', pass: pass.token })).granted).toBe(true);
    expect((await h.call('DELETE', `/api/revocations/pass/${pass.id}`)).status).toBe(404);
    expect((await h.call('POST', '/api/revocations', { body: { kind: 'card', value: 'x' } })).status).toBe(400);
  });

  it('checks keypad codes without counting wrong ones toward a lock-out', async () => {
    const secret = new PinStore(h.gateway.store.db).setSecret('wc-1');
    const code = pinCode(secret, 'wc-1', pinSlot(now, 2, false));
    expect(await check({ lock: 'wc-1', pin: code })).toMatchObject({ granted: true, credential: 'pin' });
    const wrong = code === '00000000' ? '11111111' : '00000000';
    for (let i = 0; i < 10; i++) expect((await check({ lock: 'wc-1', pin: wrong })).reason).toBe('wrong_code');
    // ten wrong checks later, the keypad is not locked out: dry runs do not count
    expect((await check({ lock: 'wc-1', pin: code })).granted).toBe(true);
    expect((await check({ lock: 'wc-1', pin: '12ab' })).reason).toBe('malformed');
    const both = await h.call('POST', '/api/passes/check', { body: { lock: 'wc-1', pin: code, pass: 'x' } });
    expect(both.body.error.problems).toEqual([{ field: 'pass', message: 'give exactly one of pass and pin' }]);
  });
});
