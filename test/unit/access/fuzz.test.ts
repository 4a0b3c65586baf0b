import { encode, Tag } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { base45Encode } from '../../../src/access/base45.js';
import { importSigningKey, issueCwt, issueJwt } from '../../../src/access/issue.js';
import { importIssuerKey, Keyring } from '../../../src/access/keyring.js';
import { PASS_REASONS } from '../../../src/access/reasons.js';
import { type VerifyResult, verifyPass } from '../../../src/access/verify.js';
import { forgeCose, forgeJws, makeKey } from './forge.js';
import {
  COSE_EDDSA_SIG_01,
  RFC8037_JWS,
  RFC8037_PUBLIC_JWK,
  RFC8392_EC_PUBLIC_JWK,
  RFC8392_SIGNED_CWT,
} from './vectors.js';

/** xorshift32: a seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(xs: readonly T[]): T => xs[next() % xs.length]!,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

const SEED = 0x5eed_2025;
const ed = makeKey('fuzz-ed', 'EdDSA');
const ec = makeKey('fuzz-ec', 'ES256');
const keyring = new Keyring(
  [ed.publicJwk, ec.publicJwk, RFC8037_PUBLIC_JWK, { ...RFC8037_PUBLIC_JWK, kid: '11' }, RFC8392_EC_PUBLIC_JWK].map(
    (j) => importIssuerKey(j),
  ),
);
const REASONS = new Set<string>(PASS_REASONS);
const ALPHABETS = [
  '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.',
  '0123456789abcdefABCDEF',
  ' \t\r\n{}[]":,.=\u0000\u00ff\u2028\ud800é漢',
];

let checked = 0;
/** The property: never throws, always a known reason, never the decoder's last-resort catch. */
function check(input: string | Uint8Array): VerifyResult {
  let r: VerifyResult;
  try {
    r = verifyPass(input, keyring);
  } catch (err) {
    throw new Error(`verifyPass threw on ${describeInput(input)}: ${(err as Error).stack}`);
  }
  checked++;
  if (!r.ok) {
    if (!REASONS.has(r.reason)) throw new Error(`unknown reason ${r.reason} for ${describeInput(input)}`);
    if (r.detail.startsWith('decoder error')) throw new Error(`${r.detail} on ${describeInput(input)}`);
  }
  return r;
}

function describeInput(input: string | Uint8Array): string {
  return typeof input === 'string'
    ? JSON.stringify(input.slice(0, 400))
    : `hex ${Buffer.from(input).toString('hex').slice(0, 800)}`;
}

function mutateBytes(r: ReturnType<typeof rng>, b: Uint8Array): Uint8Array {
  const out = Array.from(b);
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const at = out.length ? r.int(out.length) : 0;
    switch (r.int(6)) {
      case 0:
        out[at] = (out[at] ?? 0) ^ (1 << r.int(8));
        break;
      case 1:
        out[at] = r.int(256);
        break;
      case 2:
        out.splice(at, 1 + r.int(8));
        break;
      case 3:
        out.splice(at, 0, ...r.bytes(1 + r.int(8)));
        break;
      case 4:
        out.length = at; // truncate
        break;
      default:
        out.splice(at, 0, ...out.slice(r.int(out.length || 1), r.int(out.length || 1) + 16)); // duplicate a run
    }
  }
  return Uint8Array.from(out);
}

function mutateText(r: ReturnType<typeof rng>, s: string, alphabet: string): string {
  const chars = [...s];
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const at = chars.length ? r.int(chars.length) : 0;
    switch (r.int(4)) {
      case 0:
        chars[at] = r.pick([...alphabet]);
        break;
      case 1:
        chars.splice(at, 1);
        break;
      case 2:
        chars.splice(at, 0, r.pick([...alphabet]));
        break;
      default:
        chars.length = at;
    }
  }
  return chars.join('');
}

/** A random CBOR value, nested a few levels, with the odd tag, to feed the header and claims parsers. */
function randomCbor(r: ReturnType<typeof rng>, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 10)) {
    case 0:
      return r.int(2 ** 31) - 2 ** 30;
    case 1:
      return r.pick(['', 'toilet-1', 'group:toilets', 'EdDSA', 'win', 'uses', 'x'.repeat(r.int(300))]);
    case 2:
      return r.bytes(r.int(40));
    case 3:
      return r.pick([true, false, null, undefined, 1.5, -0, Number.NaN, 2 ** 60]);
    case 4:
      return BigInt(r.int(1000)) * 2n ** 64n;
    case 5:
      return r.int(1e10) / 7;
    case 6:
      return Array.from({ length: r.int(5) }, () => randomCbor(r, depth + 1));
    case 7:
    case 8:
      return new Map(
        Array.from({ length: r.int(6) }, () => [
          r.pick<unknown>([1, 2, 3, 4, 5, 6, 7, 'uses', 'win', -1, 'x']),
          randomCbor(r, depth + 1),
        ]),
      );
    default:
      return new Tag(r.pick([0, 1, 2, 18, 61, 17, 24, 55799]), randomCbor(r, depth + 1));
  }
}

/** A random JSON value for JWT payloads. */
function randomJson(r: ReturnType<typeof rng>, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 7)) {
    case 0:
      return r.int(2 ** 31) - 2 ** 30;
    case 1:
      return r.pick(['', 'toilet-1', 'group:toilets', 'mon-fri', '07:00', '24:00']);
    case 2:
      return r.pick([true, false, null, 1.5, -1, 1e308, 2 ** 53 + 2]);
    case 3:
      return r.int(1e10) / 7;
    case 4:
      return 'x'.repeat(r.int(300));
    case 5:
      return Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [r.pick(['a', 'win', '__proto__', 'exp']), randomJson(r, depth + 1)]),
      );
  }
}

describe('pass decoder fuzz: random and mutated inputs never throw past verifyPass', () => {
  it('survives 100,000+ inputs and never accepts a mutated pass as a different pass', {
    timeout: 300_000,
  }, async () => {
    const r = rng(SEED);
    const now = 1_749_628_800;
    const edSigner = importSigningKey(ed.privateJwk);
    const ecSigner = importSigningKey(ec.privateJwk);
    const spec = {
      aud: ['toilet-1', 'group:toilets'],
      exp: now + 3600,
      sub: 'h',
      uses: 2,
      win: [['mon-fri', '07:00', '19:00']],
    };
    const cwtEd = issueCwt(edSigner, { ...spec, id: 'aa' }).bytes;
    const cwtEc = issueCwt(ecSigner, { ...spec, id: 'bb' }).bytes;
    const jwtEd = (await issueJwt(edSigner, { ...spec, id: 'cc' })).token;
    const jwtEc = (await issueJwt(ecSigner, { ...spec, id: 'dd' })).token;
    const binary = [cwtEd, cwtEc, Buffer.from(RFC8392_SIGNED_CWT, 'hex'), Buffer.from(COSE_EDDSA_SIG_01, 'hex')].map(
      (b) => new Uint8Array(b),
    );
    const originals = new Map<string, unknown>();
    for (const b of binary) {
      const v = check(b);
      if (v.ok) originals.set(v.claims.id, v.claims);
    }
    for (const t of [jwtEd, jwtEc]) {
      const v = check(t);
      if (v.ok) originals.set(v.claims.id, v.claims);
    }
    expect(originals.size).toBe(5);
    const accepted = (v: VerifyResult, input: string | Uint8Array) => {
      // a mutation may survive only if it left the signed content alone (e.g. changed the case of hex)
      if (v.ok) expect(v.claims, describeInput(input)).toEqual(originals.get(v.claims.id));
    };

    // 1. random bytes and random text in every alphabet the text forms use
    for (let i = 0; i < 30_000; i++) {
      check(r.bytes(r.int(i % 100 === 0 ? 3000 : 300)));
      const alphabet = r.pick(ALPHABETS);
      const text = Array.from({ length: r.int(400) }, () => r.pick([...alphabet])).join('');
      check(r.pick(['', 'PT1:', 'eyJ', 'd284']) + text);
    }
    // 2. mutated binary passes (raw, hex, base64url, PT1)
    for (let i = 0; i < 30_000; i++) {
      const m = mutateBytes(r, r.pick(binary));
      const form = r.int(4);
      const input =
        form === 0
          ? m
          : form === 1
            ? Buffer.from(m).toString('hex')
            : form === 2
              ? Buffer.from(m).toString('base64url')
              : `PT1:${base45Encode(m)}`;
      accepted(check(input), input);
    }
    // 3. mutated text passes (JWT and PT1 strings, edited as text)
    const texts = [jwtEd, jwtEc, RFC8037_JWS, `PT1:${base45Encode(cwtEd)}`, `PT1:${base45Encode(cwtEc)}`];
    for (let i = 0; i < 25_000; i++) {
      const t = r.pick(texts);
      const input = mutateText(r, t, t.startsWith('PT1:') ? ALPHABETS[0]! : ALPHABETS[1]!);
      accepted(check(input), input);
    }
    // 4. structure-aware: random CBOR where COSE expects headers and claims, signed so the claims parser is reached
    for (let i = 0; i < 15_000; i++) {
      const key = r.pick([ed, ec]);
      const kind = r.int(5);
      let input: string | Uint8Array;
      if (kind === 0) input = new Uint8Array(encode(randomCbor(r)));
      else if (kind === 1) {
        const prot = new Map<unknown, unknown>([[1, key.alg === 'EdDSA' ? -8 : -7]]);
        if (r.int(3) === 0) prot.set(r.pick([2, 3, 4, 99, 'alg']), randomCbor(r));
        input = forgeCose({
          key,
          protectedMap: prot,
          payload: new Uint8Array(encode(randomCbor(r))),
          signature: r.bytes(64),
        });
      } else if (kind === 2 && i % 10 === 0) {
        // signed random claims (signing is slow: one in ten of these)
        input = forgeCose({ key, payload: new Uint8Array(encode(randomCbor(r))) });
      } else if (kind === 3 && i % 10 === 0) {
        const claims = Object.fromEntries(
          ['aud', 'exp', 'nbf', 'jti', 'uses', 'win', 'sub'].filter(() => r.int(4) > 0).map((k) => [k, randomJson(r)]),
        );
        input = forgeJws({ key, payload: r.int(10) === 0 ? JSON.stringify(randomJson(r)) : claims });
      } else {
        const unprotected = randomCbor(r);
        input = forgeCose({
          key,
          unprotected: unprotected instanceof Map ? unprotected : new Map(),
          payload: r.bytes(r.int(60)),
          signature: r.bytes(r.int(70)),
        });
      }
      check(input);
    }
    expect(checked).toBeGreaterThanOrEqual(100_000);
  });
});
