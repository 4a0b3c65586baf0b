import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base45Encode } from '../../../src/access/base45.js';
import { tempDir } from '../../helpers/tmp.js';
import { makeKey } from '../../unit/access/forge.js';
import {
  COSE_EDDSA_SIG_01,
  RFC8037_JWS,
  RFC8037_PRIVATE_JWK,
  RFC8037_PUBLIC_JWK,
  RFC8392_AUD,
  RFC8392_EC_PUBLIC_JWK,
  RFC8392_EXP,
  RFC8392_NBF,
  RFC8392_SIGNED_CWT,
} from '../../unit/access/vectors.js';
import { portier, portierJson } from './cli.js';

let dir: string;
let vectorKeys: string;
const iso = (s: number) => new Date(s * 1000).toISOString();

beforeAll(() => {
  dir = tempDir('portier-token-cli-');
  vectorKeys = join(dir, 'vectors.jwks.json');
  // RFC 8037 A.2 exactly as published (no kid, no alg), the same key as kid "11" for cose-wg, and RFC 8392 A.2.3
  writeFileSync(
    vectorKeys,
    JSON.stringify({ keys: [RFC8037_PUBLIC_JWK, { ...RFC8037_PUBLIC_JWK, kid: '11' }, RFC8392_EC_PUBLIC_JWK] }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('portier token verify against public vectors (real process)', () => {
  it('RFC 8037 A.4/A.5: good signature, but not a pass (exit 1)', async () => {
    const r = await portierJson(['token', 'verify', RFC8037_JWS, '--keys', vectorKeys]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ granted: false, reason: 'not_a_pass', claims: {}, signature_valid: true });
  });

  it('RFC 8037 with one character changed in the payload or the signature: bad_signature', async () => {
    const dot = RFC8037_JWS.indexOf('.') + 1;
    const payloadEdit = `${RFC8037_JWS.slice(0, dot)}S${RFC8037_JWS.slice(dot + 1)}`;
    const sigEdit = `${RFC8037_JWS.slice(0, -2)}B${RFC8037_JWS.slice(-1)}`;
    for (const forged of [payloadEdit, sigEdit]) {
      const r = await portierJson(['token', 'verify', forged, '--keys', vectorKeys]);
      expect(r.code).toBe(1);
      expect(r.json).toMatchObject({ granted: false, reason: 'bad_signature', signature_valid: false });
    }
    const headerEdit = `X${RFC8037_JWS.slice(1)}`;
    expect((await portierJson(['token', 'verify', headerEdit, '--keys', vectorKeys])).json.reason).toBe('malformed');
  });

  it('cose-wg eddsa-sig-01: good signature, "This is the content." is not a pass', async () => {
    const r = await portierJson(['token', 'verify', COSE_EDDSA_SIG_01, '--keys', vectorKeys]);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ granted: false, reason: 'not_a_pass', signature_valid: true });
  });

  it('RFC 8392 A.3 signed CWT opens its audience between nbf and exp (exit 0)', async () => {
    const at = iso(RFC8392_NBF + 3600);
    const r = await portierJson([
      'token',
      'verify',
      RFC8392_SIGNED_CWT,
      '--keys',
      vectorKeys,
      '--lock',
      RFC8392_AUD,
      '--at',
      at,
    ]);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      granted: true,
      reason: 'ok',
      claims: {
        iss: 'coap://as.example.com',
        sub: 'erikw',
        aud: 'coap://light.example.com',
        exp: 1444064944,
        nbf: 1443944944,
        iat: 1443944944,
        id: '0b71',
      },
      format: 'cwt',
      kid: 'AsymmetricECDSA256',
      alg: 'ES256',
      signature_valid: true,
    });
  });

  it('RFC 8392 A.3 outside its window, at another lock, and in PT1 form from stdin', async () => {
    const verify = (extra: string[], token = RFC8392_SIGNED_CWT, stdin?: string) =>
      portierJson(['token', 'verify', token, '--keys', vectorKeys, ...extra], stdin === undefined ? {} : { stdin });
    expect((await verify(['--lock', RFC8392_AUD, '--at', iso(RFC8392_EXP + 3600)])).json.reason).toBe('expired');
    expect((await verify(['--lock', RFC8392_AUD, '--at', iso(RFC8392_NBF - 3600)])).json.reason).toBe('not_yet_valid');
    expect((await verify(['--lock', 'coap://heater.example.com', '--at', iso(RFC8392_NBF)])).json.reason).toBe(
      'wrong_lock',
    );
    const pt1 = `PT1:${base45Encode(Buffer.from(RFC8392_SIGNED_CWT, 'hex'))}\n`;
    const r = await verify(['--lock', RFC8392_AUD, '--at', iso(RFC8392_NBF + 60)], '-', pt1);
    expect(r).toMatchObject({ code: 0, json: { granted: true, reason: 'ok' } });
  });

  it('refuses a missing or empty key file with a one-line reason', async () => {
    const missing = await portier(['token', 'verify', RFC8037_JWS, '--keys', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT/);
    const usage = await portier(['token', 'verify', RFC8037_JWS]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--keys/);
  });
});

describe('portier token issue → token verify (real processes)', () => {
  let keyFile: string;
  let jwksFile: string;
  const ec = makeKey('town-ec', 'ES256');

  beforeAll(() => {
    keyFile = join(dir, 'issuer.jwk.json');
    jwksFile = join(dir, 'issuer.jwks.json');
    writeFileSync(keyFile, JSON.stringify({ ...RFC8037_PRIVATE_JWK, kid: 'town-2025' }));
    writeFileSync(join(dir, 'ec.jwk.json'), JSON.stringify(ec.privateJwk));
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...RFC8037_PUBLIC_JWK, kid: 'town-2025' }, ec.publicJwk] }));
  });

  it.each(['pt1', 'jwt', 'b64', 'hex'])('issues a %s pass that verifies at its lock only', async (format) => {
    const issued = await portierJson([
      'token',
      'issue',
      '--key',
      keyFile,
      '--aud',
      'toilet-1',
      '--aud',
      'group:toilets',
      '--sub',
      'holder-7',
      '--exp',
      '+2h',
      '--uses',
      '3',
      '--win',
      '[["*","00:00","24:00"]]',
      '--format',
      format,
    ]);
    expect(issued.code).toBe(0);
    const token = issued.json.token as string;
    if (format === 'pt1') expect(token).toMatch(/^PT1:[0-9A-Z $%*+\-./:]+$/);
    const ok = await portierJson(['token', 'verify', token, '--keys', jwksFile, '--lock', 'toilet-1']);
    expect(ok).toMatchObject({
      code: 0,
      json: {
        granted: true,
        kid: 'town-2025',
        claims: { aud: ['toilet-1', 'group:toilets'], sub: 'holder-7', uses: 3 },
      },
    });
    const byGroup = await portierJson([
      'token',
      'verify',
      token,
      '--keys',
      jwksFile,
      '--lock',
      'toilet-9',
      '--group',
      'toilets',
    ]);
    expect(byGroup.json.granted).toBe(true);
    const elsewhere = await portierJson(['token', 'verify', token, '--keys', jwksFile, '--lock', 'bike-garage']);
    expect(elsewhere).toMatchObject({ code: 1, json: { reason: 'wrong_lock' } });
  });

  it('issues ES256 passes and says plainly that --qr prints the PT1 text', async () => {
    const r = await portier(['token', 'issue', '--key', join(dir, 'ec.jwk.json'), '--aud', 'toilet-1', '--qr']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no QR encoder/);
    const v = await portierJson(['token', 'verify', r.stdout.trim(), '--keys', jwksFile, '--lock', 'toilet-1']);
    expect(v.json).toMatchObject({ granted: true, alg: 'ES256', kid: 'town-ec' });
  });
});
