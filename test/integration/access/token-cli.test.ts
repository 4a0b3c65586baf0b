import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsQRModule from 'jsqr';
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

  it('draws the pass as a QR code in the terminal that an independent decoder (jsQR) reads back', async () => {
    const r = await portier(['token', 'issue', '--key', join(dir, 'ec.jwk.json'), '--aud', 'toilet-1', '--qr']);
    expect(r.code).toBe(0);
    const [token, ...drawing] = r.stdout.split('\n');
    expect(token).toMatch(/^PT1:/);
    expect(readTerminalQr(drawing.join('\n'))).toBe(token);
    const v = await portierJson(['token', 'verify', token!, '--keys', jwksFile, '--lock', 'toilet-1']);
    expect(v.json).toMatchObject({ granted: true, alg: 'ES256', kid: 'town-ec' });
  });
});

/**
 * Read a QR code drawn with half blocks (dark = the terminal's black foreground on white) with jsQR, a decoder
 * this project does not otherwise use: each character is two modules, top and bottom.
 */
function readTerminalQr(text: string): string | undefined {
  // jsqr is CommonJS with an ES-style `default` in its types; at run time the import is the function itself.
  const jsQR = jsQRModule as unknown as typeof jsQRModule.default;
  /** ANSI colour codes (ESC [ … m) around the half blocks. */
  const ANSI_SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  const HALVES: Record<string, [number, number]> = { '█': [1, 1], '▀': [1, 0], '▄': [0, 1], ' ': [0, 0] };
  const rows: number[][] = [];
  for (const line of text.split('\n')) {
    // The closing row is drawn in white (light) half blocks: the quiet zone, not modules.
    if (line.includes('\u001b[37m') || line.trim() === '') continue;
    const plain = line.replace(ANSI_SGR, '');
    const top: number[] = [];
    const bottom: number[] = [];
    for (const ch of plain) {
      const [t, b] = HALVES[ch] ?? [0, 0];
      top.push(t);
      bottom.push(b);
    }
    rows.push(top, bottom);
  }
  const SCALE = 6;
  const PAD = 8;
  const width = (Math.max(...rows.map((r) => r.length)) + 2 * PAD) * SCALE;
  const height = (rows.length + 2 * PAD) * SCALE;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  rows.forEach((row, y) => {
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < SCALE; dy++) {
        for (let dx = 0; dx < SCALE; dx++) {
          const i = (((y + PAD) * SCALE + dy) * width + (x + PAD) * SCALE + dx) * 4;
          rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
        }
      }
    });
  });
  return jsQR(rgba, width, height)?.data;
}
