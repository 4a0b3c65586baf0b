import { encode } from 'cbor2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duplicateKey } from '../../../src/access/json-keys.js';
import type { ReasonCode } from '../../../src/access/reasons.js';
import { AccessService } from '../../../src/access/service.js';
import { forgeCose, forgeJws, makeKey, openTestStore, type TestStore } from './forge.js';

/** Wednesday 2025-06-11 08:00 UTC. */
const T = Date.UTC(2025, 5, 11, 8, 0, 0);
const NOW = T / 1000;
const LOCK = 'toilet-1';
const key = makeKey('ed-2025', 'EdDSA');

/**
 * JSON text written by hand (JSON.stringify cannot write a name twice), signed with node:crypto by forgeJws: a
 * header or claims set that names a member twice means the last one to JSON.parse and may mean the first to the
 * issuer's or an auditor's parser. RFC 7515 section 5.2 / RFC 7519 section 7.2: reject it.
 */
const header = (body: string) => `{${body}}`;
const claims = (body: string) =>
  `{"iss":"https://passes.example-town.de","sub":"p-7Hc2Qw9xLm3Rt8Vb","exp":${NOW + 3600},"iat":${NOW - 60},${body}}`;

const CASES: Array<{ name: string; header?: string; payload: string; reason: ReasonCode }> = [
  { name: 'control: the same text without duplicates', payload: claims(`"aud":"${LOCK}","jti":"p-1"`), reason: 'ok' },
  {
    name: 'header naming alg twice (none, then EdDSA)',
    header: header(`"alg":"none","alg":"EdDSA","kid":"${key.kid}"`),
    payload: claims(`"aud":"${LOCK}","jti":"p-2"`),
    reason: 'malformed',
  },
  {
    name: 'header naming kid twice',
    header: header(`"alg":"EdDSA","kid":"other","kid":"${key.kid}"`),
    payload: claims(`"aud":"${LOCK}","jti":"p-3"`),
    reason: 'malformed',
  },
  {
    name: 'claims naming aud twice (another lock, then this one)',
    payload: claims(`"aud":"service-room","aud":"${LOCK}","jti":"p-4"`),
    reason: 'malformed',
  },
  {
    name: 'claims naming exp twice, the second written with an escape',
    payload: claims(`"aud":"${LOCK}","jti":"p-5","\\u0065xp":${NOW + 10 * 365 * 86400}`),
    reason: 'malformed',
  },
  {
    name: 'a duplicate inside a nested object',
    payload: claims(`"aud":"${LOCK}","jti":"p-6","x-ext":{"a":1,"b":[{"c":1}],"a":2}`),
    reason: 'malformed',
  },
  {
    name: 'control: the same name in sibling objects and arrays is no duplicate',
    payload: claims(`"aud":["${LOCK}"],"jti":"p-7","x-ext":[{"a":1},{"a":2}],"y":{"a":{"a":3}},"s":"\\"aud\\":1"`),
    reason: 'ok',
  },
];

describe('a JWT whose JSON header or claims name a member twice is malformed, as in the COSE path', () => {
  let t: TestStore;
  let svc: AccessService;
  beforeAll(() => {
    t = openTestStore({ startMs: T });
    svc = new AccessService({ store: t.store, timezone: 'UTC' });
    svc.keys.importJwks({ keys: [key.publicJwk] });
  });
  afterAll(() => t.cleanup());

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const value = forgeJws({
      key,
      headerText: c.header ?? header(`"alg":"EdDSA","kid":"${key.kid}"`),
      payload: c.payload,
    });
    const d = svc.decide({ lock: LOCK, lockGroups: [], credential: { kind: 'pass', value } });
    expect(d.reason).toBe(c.reason);
    expect(d.granted).toBe(c.reason === 'ok');
  });

  it('refuses a CWT whose claims map holds a key twice (cbor-x would keep the last), and takes it without', () => {
    // A definite map head of n entries, then the key/value items (RFC 8949 section 3.1, major type 5), by hand.
    const map = (entries: Array<[unknown, unknown]>) =>
      new Uint8Array(
        Buffer.concat([Buffer.from([0xa0 + entries.length]), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]),
      );
    const base: Array<[unknown, unknown]> = [
      [4, NOW + 3600],
      [6, NOW - 60],
      [7, new Uint8Array([9, 9, 9, 1])],
    ];
    const decide = (payload: Uint8Array) =>
      svc.decide({ lock: LOCK, lockGroups: [], credential: { kind: 'pass', value: forgeCose({ key, payload }) } });
    expect(decide(map([[3, LOCK], ...base])).reason).toBe('ok');
    expect(decide(map([[3, 'service-room'], [3, LOCK], ...base])).reason).toBe('malformed');
  });

  it('names the duplicate, and is not fooled by names inside strings', () => {
    expect(duplicateKey('{"a":{"b":1,"c":"{\\"b\\":2}","b":3}}')).toBe('b');
    expect(duplicateKey('{"a":"\\"a\\"","b":"a"}')).toBeUndefined();
    expect(duplicateKey('[{"a":1},{"a":1}]')).toBeUndefined();
    expect(duplicateKey('{}')).toBeUndefined();
  });
});
