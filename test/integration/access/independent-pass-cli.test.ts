import { createHmac } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/tmp.js';
import {
  cbor,
  coseSign1,
  cwtClaimsMap,
  independentJwt,
  independentKey,
  passText,
} from '../../unit/access/independent-issuer.js';
import {
  AT_MS,
  expectedClaimsJson,
  LOCK,
  MONDAY,
  passesBySize,
  realisticClaims,
} from '../../unit/access/realistic-passes.js';
import { portierJson } from './cli.js';

/**
 * `portier token verify` as a real process, fed passes from an issuer that is not this project's code (a CBOR/COSE
 * encoder written in the test from RFC 8949, RFC 9052 and RFC 8392; JWS from RFC 7515; signatures by node:crypto).
 * Realistic claims: an https `iss`, a 40-character `sub`, four audiences, a validity window and weekly hours.
 */

const keys = {
  EdDSA: independentKey('musterhausen-2026-ed', 'EdDSA'),
  ES256: independentKey('musterhausen-2026-ec', 'ES256'),
};
const AT = new Date(AT_MS).toISOString();
let dir: string;
let jwks: string;

beforeAll(() => {
  dir = tempDir('portier-independent-');
  jwks = join(dir, 'musterhausen.jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [keys.EdDSA.publicJwk, keys.ES256.publicJwk] }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (token: string) => portierJson(['token', 'verify', token, '--keys', jwks, '--lock', LOCK, '--at', AT]);
const b64u = (v: string | Uint8Array) => Buffer.from(v).toString('base64url');
/** Several `portier` processes per test on a shared 2-core machine: more time than one decision needs. */
const PROCESSES_TIMEOUT = 90_000;

describe.each(['EdDSA', 'ES256'] as const)('portier token verify: realistic %s passes (real processes)', (alg) => {
  const key = keys[alg];
  const claims = realisticClaims();
  const payload = cbor(cwtClaimsMap(claims));
  const cwt = coseSign1(key, payload);
  const jwt = independentJwt(key, claims);
  const granted = (format: 'cwt' | 'jwt') => ({
    granted: true,
    reason: 'ok',
    claims: expectedClaimsJson(claims),
    format,
    kid: key.kid,
    alg,
    signature_valid: true,
  });

  it('grants the CWT as hex, base64url and PT1, and the JWT, with exactly the claims sent', {
    timeout: PROCESSES_TIMEOUT,
  }, async () => {
    expect(cwt.length).toBeGreaterThan(300);
    expect(claims.iss.length).toBeGreaterThanOrEqual(32);
    expect(claims.sub).toHaveLength(40);
    const forms = [passText.hex(cwt), passText.base64url(cwt), passText.pt1(cwt)];
    const results = await Promise.all(forms.map(verify));
    for (const r of results) {
      expect(r.code).toBe(0);
      expect(r.json).toEqual(granted('cwt'));
    }
    const j = await verify(jwt);
    expect(j.code).toBe(0);
    expect(j.json).toEqual(granted('jwt'));
  });

  it('grants passes across the sizes, up to the largest each text form carries', {
    timeout: PROCESSES_TIMEOUT,
  }, async () => {
    const picks = new Map<number, (b: Uint8Array) => string>([
      [139, passText.hex],
      [140, passText.base64url],
      [2048, passText.hex],
      [2728, passText.pt1],
      [3072, passText.base64url],
    ]);
    const bySize = passesBySize(key, 3072, (size) => picks.has(size));
    expect([...bySize.keys()].sort((a, b) => a - b)).toEqual([...picks.keys()]);
    const results = await Promise.all([...picks].map(([size, form]) => verify(form(bySize.get(size)!.bytes))));
    [...picks.keys()].forEach((size, i) => {
      expect(results[i]!.json, `${size} bytes`).toMatchObject({
        granted: true,
        claims: expectedClaimsJson(bySize.get(size)!.claims),
      });
    });
  });

  it('refuses every forgery: flipped signature byte, changed claim, wrong kid, alg confusion', {
    timeout: PROCESSES_TIMEOUT,
  }, async () => {
    const [h, p, s] = jwt.split('.') as [string, string, string];
    const otherSub = { ...claims, sub: `d${claims.sub.slice(1)}` };
    const flippedCwt = Uint8Array.from(cwt);
    flippedCwt[flippedCwt.length - 1]! ^= 0x01;
    const flippedJwt = `${h}.${p}.${b64u(Buffer.from(s, 'base64url').map((b, i) => (i === 40 ? b ^ 1 : b)))}`;
    const changedCwt = coseSign1(key, cbor(cwtClaimsMap(otherSub)), { signature: cwt.subarray(-64) });
    const { cti, ...jwtClaims } = otherSub;
    const changedJwt = `${h}.${b64u(JSON.stringify({ ...jwtClaims, jti: Buffer.from(cti).toString('hex') }))}.${s}`;
    const wrongKidCwt = coseSign1(key, payload, { kid: 'musterhausen-2025-ed' });
    const wrongKidJwt = independentJwt(key, claims, { kid: 'musterhausen-2025-ed' });
    // the header names the other asymmetric alg; the key is pinned to its own
    const otherAlgCwt = coseSign1(key, payload, { alg: alg === 'EdDSA' ? -7 : -8 });
    const otherAlgJwt = independentJwt(key, claims, { alg: alg === 'EdDSA' ? 'ES256' : 'EdDSA' });
    // the classic confusion: HMAC keyed with the issuer's public key
    const hsHeader = b64u(JSON.stringify({ alg: 'HS256', kid: key.kid, typ: 'JWT' }));
    const hsMac = createHmac('sha256', JSON.stringify(key.publicJwk)).update(`${hsHeader}.${p}`).digest();
    const hsJwt = `${hsHeader}.${p}.${b64u(hsMac)}`;
    const cases: Array<[string, string, string]> = [
      ['flipped signature byte, CWT', passText.hex(flippedCwt), 'bad_signature'],
      ['flipped signature byte, JWT', flippedJwt, 'bad_signature'],
      ['changed claim, CWT', passText.hex(changedCwt), 'bad_signature'],
      ['changed claim, JWT', changedJwt, 'bad_signature'],
      ['wrong kid, CWT', passText.base64url(wrongKidCwt), 'unknown_key'],
      ['wrong kid, JWT', wrongKidJwt, 'unknown_key'],
      ['other alg, CWT', passText.pt1(otherAlgCwt), 'alg_not_allowed'],
      ['other alg, JWT', otherAlgJwt, 'alg_not_allowed'],
      ['HS256 with the public key, JWT', hsJwt, 'alg_not_allowed'],
    ];
    const results = await Promise.all(cases.map(([, token]) => verify(token)));
    cases.forEach(([name, , reason], i) => {
      expect(results[i]!.code, name).toBe(1);
      expect(results[i]!.json, name).toMatchObject({ granted: false, reason, claims: {}, signature_valid: false });
    });
  });
});

describe('portier token issue with realistic claims → token verify (real processes)', () => {
  it.each([
    ['EdDSA', 'hex'],
    ['EdDSA', 'b64'],
    ['EdDSA', 'pt1'],
    ['EdDSA', 'jwt'],
    ['ES256', 'hex'],
  ] as const)('%s, %s', async (alg, format) => {
    const key = keys[alg];
    const keyFile = join(dir, `${alg}-private.jwk.json`);
    writeFileSync(keyFile, JSON.stringify(key.privateJwk), { mode: 0o600 });
    const c = realisticClaims();
    const audArgs = c.aud.flatMap((a) => ['--aud', a]);
    const issued = await portierJson([
      'token',
      'issue',
      '--key',
      keyFile,
      ...audArgs,
      '--iss',
      c.iss,
      '--sub',
      c.sub,
      '--nbf',
      String(MONDAY - 86400),
      '--exp',
      String(c.exp),
      '--uses',
      '10',
      '--win',
      JSON.stringify(c.win),
      '--format',
      format,
    ]);
    expect(issued.code).toBe(0);
    const r = await verify(issued.json.token as string);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      granted: true,
      format: format === 'jwt' ? 'jwt' : 'cwt',
      alg,
      claims: { iss: c.iss, sub: c.sub, aud: c.aud, exp: c.exp, nbf: MONDAY - 86400, uses: 10, win: c.win },
    });
  });
});
