import { compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { base45Decode, base45Encode } from '../../../src/access/base45.js';
import { decodeCoseSign1 } from '../../../src/access/cose.js';
import { importIssuerKey, jwkThumbprint, Keyring, parseJwks } from '../../../src/access/keyring.js';
import { sigStructure, sigStructureDirect } from '../../../src/access/sig-structure.js';
import { verifyPass } from '../../../src/access/verify.js';
import {
  BASE45_EXAMPLES,
  COSE_EDDSA_SIG_01,
  RFC8037_JWS,
  RFC8037_PRIVATE_JWK,
  RFC8037_PUBLIC_JWK,
  RFC8037_THUMBPRINT,
  RFC8392_EC_PUBLIC_JWK,
  RFC8392_MACED_CWT,
  RFC8392_SIGNED_CWT,
} from './vectors.js';

const ring = () =>
  new Keyring([
    importIssuerKey(RFC8037_PUBLIC_JWK),
    importIssuerKey({ ...RFC8037_PUBLIC_JWK, kid: '11' }),
    importIssuerKey(RFC8392_EC_PUBLIC_JWK),
  ]);

describe('base45 (RFC 9285)', () => {
  it.each(BASE45_EXAMPLES)('encodes and decodes the RFC example %j', (text, encoded) => {
    expect(base45Encode(Buffer.from(text))).toBe(encoded);
    expect(Buffer.from(base45Decode(encoded)!).toString()).toBe(text);
  });

  it('refuses what RFC 9285 section 4.2 calls invalid', () => {
    expect(base45Decode('GGW')).toBeUndefined(); // 65536: a triple above 65535
    expect(base45Decode(':;')).toBeUndefined(); // ';' is not in the alphabet
    expect(base45Decode('BB8A')).toBeUndefined(); // length 3k+1
    expect(base45Decode('U9')).toBeUndefined(); // pair value 30 + 9*45 = 435 > 255
    expect(base45Decode('bb8')).toBeUndefined(); // lowercase is not base45
  });

  it('round-trips every byte value and odd lengths', () => {
    const all = Uint8Array.from({ length: 257 }, (_, i) => (i * 37) & 0xff);
    for (const len of [0, 1, 2, 3, 100, 257]) {
      const bytes = all.subarray(0, len);
      expect(Buffer.from(base45Decode(base45Encode(bytes))!)).toEqual(Buffer.from(bytes));
    }
  });
});

describe('keyring (RFC 7517 / RFC 7638)', () => {
  it('names a kid-less key by its RFC 7638 thumbprint and pins EdDSA', () => {
    expect(jwkThumbprint(RFC8037_PUBLIC_JWK)).toBe(RFC8037_THUMBPRINT);
    const k = importIssuerKey(RFC8037_PUBLIC_JWK);
    expect(k.kid).toBe(RFC8037_THUMBPRINT);
    expect(k.alg).toBe('EdDSA');
  });

  it('refuses a private key for the gateway, an alg that does not fit the curve, and unsupported key types', () => {
    expect(() => importIssuerKey(RFC8037_PRIVATE_JWK)).toThrow(/private key/);
    expect(importIssuerKey(RFC8037_PRIVATE_JWK, { allowPrivate: true }).jwk).not.toHaveProperty('d');
    expect(() => importIssuerKey({ ...RFC8037_PUBLIC_JWK, alg: 'ES256' })).toThrow(/pins alg EdDSA/);
    expect(() => importIssuerKey({ kty: 'RSA', n: 'AQAB', e: 'AQAB' })).toThrow(/kty must be/);
    expect(() => importIssuerKey({ ...RFC8392_EC_PUBLIC_JWK, y: RFC8392_EC_PUBLIC_JWK.x })).toThrow(
      /cannot be imported/,
    );
  });

  it('skips unusable keys of a set and refuses duplicate kids', () => {
    const { keys, skipped } = parseJwks({
      keys: [RFC8392_EC_PUBLIC_JWK, { kty: 'oct', k: 'AAAA' }, { ...RFC8037_PUBLIC_JWK, kid: 'AsymmetricECDSA256' }],
    });
    expect(keys.map((k) => k.kid)).toEqual(['AsymmetricECDSA256']);
    expect(skipped.map((s) => s.index)).toEqual([1, 2]);
    expect(skipped[1]!.reason).toMatch(/duplicate kid/);
  });
});

describe('pass decoding against public vectors', () => {
  it('RFC 8037 A.4/A.5 JWS: signature good (jose agrees), but the payload is not a claims set', async () => {
    const joseKey = await importJWK(RFC8037_PUBLIC_JWK, 'EdDSA');
    const jose = await compactVerify(RFC8037_JWS, joseKey);
    expect(Buffer.from(jose.payload).toString()).toBe('Example of Ed25519 signing');
    const r = verifyPass(RFC8037_JWS, ring());
    expect(r).toMatchObject({ ok: false, reason: 'not_a_pass', signatureValid: true });
  });

  it('RFC 8037 JWS with one character changed anywhere never verifies', () => {
    const keys = ring();
    const headerEnd = RFC8037_JWS.indexOf('.');
    for (let i = 0; i < RFC8037_JWS.length; i++) {
      const c = RFC8037_JWS[i]!;
      const swapped = RFC8037_JWS.slice(0, i) + (c === 'A' ? 'B' : c === '.' ? '_' : 'A') + RFC8037_JWS.slice(i + 1);
      const r = verifyPass(swapped, keys);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.signatureValid).toBe(false);
      if (c === '.') expect(r.reason).toBe('malformed');
      // a header edit breaks its JSON, renames the alg (@dDSA is not allowed) or changes the signed bytes
      else if (i < headerEnd) expect(['malformed', 'alg_not_allowed', 'bad_signature']).toContain(r.reason);
      else expect(r.reason).toBe('bad_signature');
    }
  });

  it('cose-wg eddsa-sig-01: kid "11", signature good, "This is the content." is not a pass', () => {
    const decoded = decodeCoseSign1(Buffer.from(COSE_EDDSA_SIG_01, 'hex'));
    expect(decoded).toMatchObject({ ok: true, value: { alg: 'EdDSA', kid: '11', format: 'cwt' } });
    const r = verifyPass(COSE_EDDSA_SIG_01, ring());
    expect(r).toMatchObject({ ok: false, reason: 'not_a_pass', signatureValid: true });
  });

  it('RFC 8392 A.3 signed CWT verifies with the A.2.3 key and reads the A.1 claims', () => {
    const r = verifyPass(RFC8392_SIGNED_CWT, ring());
    expect(r).toMatchObject({
      ok: true,
      format: 'cwt',
      kid: 'AsymmetricECDSA256',
      alg: 'ES256',
      claims: {
        iss: 'coap://as.example.com',
        sub: 'erikw',
        aud: ['coap://light.example.com'],
        exp: 1444064944,
        nbf: 1443944944,
        iat: 1443944944,
        id: '0b71',
      },
    });
  });

  it('RFC 8392 A.3 in every text form decodes the same; the A.4 MACed CWT is refused as malformed', () => {
    const bytes = Buffer.from(RFC8392_SIGNED_CWT, 'hex');
    for (const form of [
      `PT1:${base45Encode(bytes)}`,
      bytes.toString('base64url'),
      RFC8392_SIGNED_CWT.toUpperCase(),
      `  ${RFC8392_SIGNED_CWT}\r\n`,
    ]) {
      expect(verifyPass(form, ring())).toMatchObject({ ok: true, claims: { id: '0b71' } });
    }
    expect(verifyPass(new Uint8Array(bytes), ring())).toMatchObject({ ok: true });
    expect(verifyPass(RFC8392_MACED_CWT, ring())).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('RFC 8392 A.3 without its EC key in the ring is unknown_key', () => {
    expect(verifyPass(RFC8392_SIGNED_CWT, new Keyring([importIssuerKey(RFC8037_PUBLIC_JWK)]))).toMatchObject({
      reason: 'unknown_key',
    });
  });
});

describe('Sig_structure (RFC 9052 section 4.4)', () => {
  it('reuses cbor2-encoded parts and gives the same bytes as one cbor2 encode, for every length class', () => {
    for (const prot of [new Uint8Array([0xa1, 0x01, 0x27]), new Uint8Array([0xa1, 0x01, 0x26]), new Uint8Array(0)]) {
      for (const len of [0, 1, 23, 24, 255, 256, 1000, 65_536]) {
        const payload = Uint8Array.from({ length: len }, (_, i) => (i * 7) & 0xff);
        expect(Buffer.from(sigStructure(prot, payload))).toEqual(Buffer.from(sigStructureDirect(prot, payload)));
        // a second call takes the reused parts
        expect(Buffer.from(sigStructure(prot, payload))).toEqual(Buffer.from(sigStructureDirect(prot, payload)));
      }
    }
  });
});
