import { describe, expect, it } from 'vitest';
import { claimsJson } from '../../../src/access/claims.js';
import { cborDecode } from '../../../src/access/cose.js';
import { importIssuerKey, Keyring } from '../../../src/access/keyring.js';
import { checkPolicy } from '../../../src/access/policy.js';
import { MAX_PASS_BYTES, MAX_PASS_CHARS, verifyPass } from '../../../src/access/verify.js';
import { ZoneClock } from '../../../src/access/windows.js';
import {
  type Cbor,
  cbor,
  coseSign1,
  cwtClaimsMap,
  independentJwt,
  independentKey,
  passText,
} from './independent-issuer.js';
import { AT_MS, expectedClaimsJson, LOCK, passesBySize, realisticClaims, smallClaims } from './realistic-passes.js';

/**
 * Realistic passes from an issuer that is not this project's code (./independent-issuer.ts, written from RFC 8949,
 * RFC 9052 and RFC 8392), at every size up to the pass size caps. cbor-x reads text of 32 bytes or more, and any
 * input of 140 bytes or more, through its native string extractor (cbor-extract); an extractor that is missing or
 * replaced must not turn a long `iss` into `not_a_pass`.
 */

const keys = {
  EdDSA: independentKey('musterhausen-2026-ed', 'EdDSA'),
  ES256: independentKey('musterhausen-2026-ec', 'ES256'),
};
const ring = new Keyring([importIssuerKey(keys.EdDSA.publicJwk), importIssuerKey(keys.ES256.publicJwk)]);

const policy = { lock: LOCK, nowMs: AT_MS, tq: 'synced', zone: new ZoneClock('UTC') } as const;

/** Verify and apply the door policy at LOCK on a Monday morning: the whole decision, as `token verify` makes it. */
function decide(text: string | Uint8Array) {
  const v = verifyPass(text, ring);
  if (!v.ok) return { granted: false, reason: v.reason, detail: v.detail };
  const reason = checkPolicy(v.claims, policy) ?? 'ok';
  return { granted: reason === 'ok', reason, format: v.format, kid: v.kid, alg: v.alg, claims: claimsJson(v.claims) };
}

/** Largest COSE pass each form accepts: bytes and hex by MAX_PASS_BYTES / MAX_PASS_CHARS, the others by characters. */
const FORMS = {
  bytes: { cap: MAX_PASS_BYTES, text: (b: Uint8Array): string | Uint8Array => b },
  hex: { cap: MAX_PASS_CHARS / 2, text: passText.hex },
  base64url: { cap: Math.floor((MAX_PASS_CHARS * 3) / 4), text: passText.base64url },
  pt1: { cap: Math.floor(((MAX_PASS_CHARS - 4) / 3) * 2), text: passText.pt1 },
} as const;
const LARGEST = Math.max(...Object.values(FORMS).map((f) => f.cap));

describe('the CBOR decoder used for passes reads every length the same', () => {
  it('text of every length 0-2100, ASCII and German UTF-8, alone and inside a claims map', () => {
    const wrong: string[] = [];
    for (let n = 0; n <= 2100; n++) {
      const ascii = 'https://passes.example/'.concat('x'.repeat(n)).slice(0, n);
      const german = 'Straße-Müller-Öffnungszeiten-'.repeat(80).slice(0, n);
      for (const text of [ascii, german]) {
        if (cborDecode(cbor(text)) !== text) wrong.push(`alone, ${n} characters`);
        const bytes = Buffer.from(text);
        const map = cborDecode(
          cbor(
            new Map<Cbor, Cbor>([
              [1, text],
              [2, [text, 'door-1']],
              [3, bytes],
            ]),
          ),
        );
        const got = map instanceof Map ? map : new Map();
        const list = got.get(2) as unknown[] | undefined;
        const ok = got.size === 3 && got.get(1) === text && list?.[0] === text && list[1] === 'door-1';
        if (!ok || !bytes.equals(got.get(3) as Uint8Array)) wrong.push(`in a map, ${n} characters`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe.each(['EdDSA', 'ES256'] as const)('realistic %s passes from an independent issuer', (alg) => {
  const key = keys[alg];
  const smallPass = coseSign1(key, cbor(cwtClaimsMap(smallClaims())));
  const small = decide(smallPass);

  it('a short-claims pass is granted (the reference result)', () => {
    expect(smallPass.length).toBeLessThan(140);
    expect(small).toMatchObject({ granted: true, reason: 'ok', format: 'cwt', kid: key.kid, alg });
  });

  it('iss and sub of every length 1-256 (the claim limit) are granted with exactly the claims sent', () => {
    for (let n = 1; n <= 256; n++) {
      const claims = realisticClaims({
        iss: 'https://passes.stadt-musterhausen.de/issuer/'.concat('2026/'.repeat(52)).slice(0, n),
        sub: 'c2f1e0d9b8a7968574635241302f1e0d9c8b7a69'.repeat(7).slice(0, n),
      });
      const bytes = coseSign1(key, cbor(cwtClaimsMap(claims)));
      expect(decide(bytes), `length ${n}`).toEqual({ ...small, claims: expectedClaimsJson(claims) });
      expect(decide(independentJwt(key, claims)), `JWT, length ${n}`).toEqual({
        ...small,
        format: 'jwt',
        claims: expectedClaimsJson(claims),
      });
    }
  });

  it('passes of every size up to each form’s cap are granted in every form that carries them', () => {
    const bySize = passesBySize(key, LARGEST);
    const sizes = [...bySize.keys()].sort((a, b) => a - b);
    // every size is covered, from a pass cbor-x reads without its native extractor to the largest a form accepts
    const missing = Array.from({ length: LARGEST - sizes[0]! + 1 }, (_, i) => sizes[0]! + i).filter(
      (n) => !bySize.has(n),
    );
    expect(missing).toEqual([]);
    expect(sizes[0]).toBeLessThan(140);
    let checked = 0;
    const differs: string[] = [];
    for (const size of sizes) {
      const { bytes, claims } = bySize.get(size)!;
      expect(bytes.length).toBe(size);
      // compared as JSON text (the shape `token verify --json` prints): ~10,000 deep equals would take seconds
      const want = JSON.stringify({ ...small, claims: expectedClaimsJson(claims) });
      for (const [form, { cap, text }] of Object.entries(FORMS)) {
        if (size > cap) continue;
        const got = JSON.stringify(decide(text(bytes)));
        if (got !== want) differs.push(`${form}, ${size} bytes: ${got.slice(0, 120)}`);
        checked++;
      }
    }
    expect(differs).toEqual([]);
    expect(checked).toBeGreaterThan(4 * (MAX_PASS_BYTES - 140));
  });

  it('one byte past each cap is refused by the size check, not by the decoder', () => {
    const caps = new Set(Object.values(FORMS).map((f) => f.cap + 1));
    const bySize = passesBySize(key, LARGEST + 1, (size) => caps.has(size));
    for (const [form, { cap, text }] of Object.entries(FORMS)) {
      const r = decide(text(bySize.get(cap + 1)!.bytes));
      expect(r, form).toMatchObject({ granted: false, reason: 'malformed' });
      expect((r as { detail: string }).detail, form).toMatch(/^pass over \d+ (bytes|characters)$/);
    }
  });
});
