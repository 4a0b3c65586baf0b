import { encode } from 'cbor2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base45Encode } from '../../../src/access/base45.js';
import { importSigningKey, issueCwt, issueJwt, type PassSpec } from '../../../src/access/issue.js';
import type { ReasonCode } from '../../../src/access/reasons.js';
import { AccessService } from '../../../src/access/service.js';
import { cwtPayload, forgeCose, forgeJws, makeKey, openTestStore, type TestStore } from './forge.js';

/** Wednesday 2025-06-11 10:00 in Berlin (08:00 UTC, CEST). */
const T = Date.UTC(2025, 5, 11, 8, 0, 0);
const NOW = T / 1000;
const LOCK = 'toilet-1';

const ed = makeKey('ed-2025', 'EdDSA');
const ec = makeKey('ec-2025', 'ES256');
const stranger = makeKey('ed-2025', 'EdDSA'); // same kid as a trusted key, different key
const edSigner = importSigningKey(ed.privateJwk);
const ecSigner = importSigningKey(ec.privateJwk);

const spec = (over: Partial<PassSpec> = {}): PassSpec => ({
  aud: LOCK,
  exp: NOW + 3600,
  iat: NOW - 60,
  sub: 'holder-42',
  ...over,
});
const pt1 = (bytes: Uint8Array) => `PT1:${base45Encode(bytes)}`;
const cwt = (over: Partial<PassSpec> = {}) => pt1(issueCwt(edSigner, spec(over)).bytes);
const claims = (over: Record<string, unknown> = {}) => ({
  aud: LOCK,
  exp: NOW + 3600,
  iat: NOW - 60,
  cti: new Uint8Array([1, 2, 3, 4]),
  ...over,
});
const b64 = (s: string) => Buffer.from(s).toString('base64url');

interface Case {
  name: string;
  token: () => string | Uint8Array | Promise<string | Uint8Array>;
  reason: ReasonCode;
  lock?: string;
  groups?: string[];
  /** Presented this many times before the checked attempt (replay). */
  presentedBefore?: number;
  setup?: (svc: AccessService) => void;
}

const CASES: Case[] = [
  // controls: a good pass opens, so every denial below is about the defect it names
  { name: 'control: EdDSA CWT as PT1', token: () => cwt(), reason: 'ok' },
  { name: 'control: ES256 JWT (jose)', token: async () => (await issueJwt(ecSigner, spec())).token, reason: 'ok' },
  {
    name: 'control: tag 61 around tag 18',
    token: () => forgeCose({ key: ed, payload: cwtPayload(claims()), tags: [61, 18] }),
    reason: 'ok',
  },
  { name: 'control: group audience', token: () => cwt({ aud: 'group:toilets' }), groups: ['toilets'], reason: 'ok' },
  // malformed, oversized, truncated
  { name: 'empty text', token: () => '', reason: 'malformed' },
  { name: 'random text', token: () => 'hello door, open up', reason: 'malformed' },
  { name: 'JSON instead of a token', token: () => '{"aud":"toilet-1"}', reason: 'malformed' },
  { name: 'oversized text (5000 chars)', token: () => `PT1:${'A'.repeat(4996)}`, reason: 'malformed' },
  { name: 'oversized binary (3000 bytes)', token: () => new Uint8Array(3000).fill(0xd2), reason: 'malformed' },
  { name: 'truncated PT1 (half)', token: () => cwt().slice(0, 60), reason: 'malformed' },
  {
    name: 'truncated hex (last byte gone)',
    token: () => Buffer.from(issueCwt(edSigner, spec()).bytes.subarray(0, -1)).toString('hex'),
    reason: 'malformed',
  },
  {
    name: 'PT1 with a character outside base45',
    token: () => `${cwt().slice(0, 20)}~${cwt().slice(21)}`,
    reason: 'malformed',
  },
  {
    name: 'JWT header not JSON',
    token: () => forgeJws({ key: ed, headerText: 'not json', payload: claims() }),
    reason: 'malformed',
  },
  {
    name: 'COSE detached payload (nil)',
    token: () => forgeCose({ key: ed, payload: null }),
    reason: 'malformed',
  },
  {
    name: 'COSE_Sign (tag 98) instead of COSE_Sign1',
    token: () => forgeCose({ key: ed, payload: cwtPayload(claims()), tags: [98] }),
    reason: 'malformed',
  },
  {
    name: 'COSE alg only in the unprotected header',
    token: () =>
      forgeCose({
        key: ed,
        protectedMap: new Map(),
        unprotected: new Map<unknown, unknown>([
          [1, -8],
          [4, new Uint8Array(Buffer.from(ed.kid))],
        ]),
        payload: cwtPayload(claims()),
      }),
    reason: 'malformed',
  },
  {
    name: 'COSE unknown crit header',
    token: () =>
      forgeCose({
        key: ed,
        protectedMap: new Map<unknown, unknown>([
          [1, -8],
          [2, [99]],
          [99, 'must understand'],
        ]),
        payload: cwtPayload(claims()),
      }),
    reason: 'malformed',
  },
  {
    name: 'COSE duplicate alg in the protected header',
    token: () =>
      forgeCose({
        key: ed,
        protectedBytes: new Uint8Array([0xa2, 0x01, 0x27, 0x01, 0x26]), // {1: -8, 1: -7}
        payload: cwtPayload(claims()),
      }),
    reason: 'malformed',
  },
  {
    name: 'JWS crit b64 (RFC 7797)',
    token: () =>
      forgeJws({ key: ed, header: { alg: 'EdDSA', kid: ed.kid, b64: false, crit: ['b64'] }, payload: claims() }),
    reason: 'malformed',
  },
  // algorithms
  {
    name: 'alg none JWT, no signature',
    token: () => `${b64('{"alg":"none"}')}.${b64(JSON.stringify(claims()))}.`,
    reason: 'alg_not_allowed',
  },
  {
    name: 'alg none JWT with a kid and a signature',
    token: () => forgeJws({ key: ed, header: { alg: 'none', kid: ed.kid }, payload: claims() }),
    reason: 'alg_not_allowed',
  },
  {
    name: 'HS256 with the public key as HMAC secret (key confusion)',
    token: () => forgeJws({ key: ed, header: { alg: 'HS256', kid: ed.kid }, payload: claims(), signature: 'AAAA' }),
    reason: 'alg_not_allowed',
  },
  {
    name: 'COSE alg HMAC 256/256 (5)',
    token: () =>
      forgeCose({
        key: ed,
        protectedMap: new Map([[1, 5]]),
        payload: cwtPayload(claims()),
        signature: new Uint8Array(32),
      }),
    reason: 'alg_not_allowed',
  },
  {
    name: 'ES256 token naming the EdDSA-pinned kid',
    token: () => forgeJws({ key: ec, header: { alg: 'ES256', kid: ed.kid }, payload: claims() }),
    reason: 'alg_not_allowed',
  },
  // keys and signatures
  {
    name: 'unknown kid',
    token: () => forgeCose({ key: { ...ed, kid: 'ed-2019' }, payload: cwtPayload(claims()) }),
    reason: 'unknown_key',
  },
  {
    name: 'trusted kid, signed by a stranger key',
    token: () => forgeCose({ key: ed, signWith: stranger, payload: cwtPayload(claims()) }),
    reason: 'bad_signature',
  },
  {
    name: 'no kid, signed by a stranger key',
    token: () => forgeJws({ key: ed, header: { alg: 'EdDSA' }, signWith: stranger, payload: claims() }),
    reason: 'bad_signature',
  },
  {
    name: 'CWT payload changed after signing (aud)',
    token: () => {
      const good = issueCwt(edSigner, spec({ aud: 'service-room' })).bytes;
      const i = Buffer.from(good).indexOf(Buffer.from('service-room'));
      const forged = Buffer.from(good);
      forged.write('toilet-1-aa', i); // same length: the structure stays valid
      return forged.toString('hex');
    },
    reason: 'bad_signature',
  },
  {
    name: 'JWT payload swapped (longer exp)',
    token: async () => {
      const [h, , s] = (await issueJwt(edSigner, spec())).token.split('.');
      return `${h}.${b64(JSON.stringify(claims({ exp: NOW + 10 * 365 * 86400, jti: 'x' })))}.${s}`;
    },
    reason: 'bad_signature',
  },
  {
    name: 'signature truncated to 63 bytes',
    token: () => {
      const full = forgeCose({ key: ed, payload: cwtPayload(claims()) });
      return forgeCose({ key: ed, payload: cwtPayload(claims()), signature: full.subarray(full.length - 64, -1) });
    },
    reason: 'bad_signature',
  },
  // claims
  {
    name: 'signed CBOR array, not a claims map',
    token: () => forgeCose({ key: ed, payload: new Uint8Array(encode([1, 2])) }),
    reason: 'not_a_pass',
  },
  {
    name: 'no aud',
    token: () => forgeCose({ key: ed, payload: cwtPayload(claims({ aud: undefined })) }),
    reason: 'not_a_pass',
  },
  { name: 'no exp', token: () => forgeJws({ key: ed, payload: { aud: LOCK, jti: 'p1' } }), reason: 'not_a_pass' },
  {
    name: 'exp as text',
    token: () => forgeJws({ key: ec, payload: { aud: LOCK, jti: 'p2', exp: 'tomorrow' } }),
    reason: 'not_a_pass',
  },
  {
    name: 'uses 0',
    token: () => forgeCose({ key: ed, payload: cwtPayload(claims({ uses: 0 })) }),
    reason: 'not_a_pass',
  },
  {
    name: 'win not a window',
    token: () => forgeCose({ key: ed, payload: cwtPayload(claims({ win: [['someday', '7', '19']] })) }),
    reason: 'not_a_pass',
  },
  // policy
  { name: 'wrong lock', token: () => cwt({ aud: 'bike-garage' }), reason: 'wrong_lock' },
  {
    name: 'group the lock is not in',
    token: () => cwt({ aud: 'group:staff' }),
    groups: ['toilets'],
    reason: 'wrong_lock',
  },
  { name: 'early (nbf in an hour)', token: () => cwt({ nbf: NOW + 3600, exp: NOW + 7200 }), reason: 'not_yet_valid' },
  { name: 'expired an hour ago', token: () => cwt({ exp: NOW - 3600, iat: NOW - 7200 }), reason: 'expired' },
  {
    name: 'revoked by pass id',
    token: () => cwt({ id: 'feedc0de' }),
    setup: (svc) => svc.revocations.revoke('pass', 'feedc0de'),
    reason: 'revoked',
  },
  {
    name: 'revoked by subject',
    token: () => cwt({ sub: 'lost-phone' }),
    setup: (svc) => svc.revocations.revoke('sub', 'lost-phone'),
    reason: 'revoked',
  },
  {
    name: 'outside its weekend window',
    token: () => cwt({ win: [['sat-sun', '00:00', '24:00']] }),
    reason: 'outside_window',
  },
  {
    name: 'single use, replayed',
    token: () => cwt({ id: 'once-1', uses: 1 }),
    presentedBefore: 1,
    reason: 'uses_exhausted',
  },
  {
    name: 'single use JWT replayed as a second encoding',
    token: async () => (await issueJwt(edSigner, spec({ id: 'once-2', uses: 1 }))).token,
    setup: (svc) => {
      svc.decide({ lock: LOCK, credential: { kind: 'pass', value: cwt({ id: 'once-2', uses: 1 }) } });
    },
    reason: 'uses_exhausted',
  },
  {
    name: 'three uses, fourth time',
    token: () => cwt({ id: 'thrice', uses: 3 }),
    presentedBefore: 3,
    reason: 'uses_exhausted',
  },
];

describe('access decision table: every forged, tampered or out-of-policy pass is denied with its reason', () => {
  let t: TestStore;
  let svc: AccessService;

  beforeAll(() => {
    t = openTestStore({ startMs: T });
    svc = new AccessService({ store: t.store, timezone: 'Europe/Berlin' });
    svc.keys.importJwks({ keys: [ed.publicJwk, ec.publicJwk] });
  });
  afterAll(() => t.cleanup());

  it('has at least 30 denial cases', () => {
    expect(CASES.filter((c) => c.reason !== 'ok').length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    c.setup?.(svc);
    const value = await c.token();
    const req = { lock: c.lock ?? LOCK, lockGroups: c.groups ?? [], credential: { kind: 'pass' as const, value } };
    for (let i = 0; i < (c.presentedBefore ?? 0); i++) expect(svc.decide(req).granted).toBe(true);
    const d = svc.decide(req);
    expect(d.reason).toBe(c.reason);
    expect(d.granted).toBe(c.reason === 'ok');
    expect(d.event).toMatchObject({ type: 'access.decision', dev: req.lock, data: { reason: c.reason } });
  });
});
