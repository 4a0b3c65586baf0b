/**
 * Realistic pass claims (an https issuer, a 40-character pseudonym, four audiences, a validity window and weekly
 * hours) and passes of every size, made by the independent issuer in ./independent-issuer.ts.
 */
import { cbor, coseSign1, cwtClaimsMap, type IndependentKey, type RealisticClaims } from './independent-issuer.js';

/** Monday 2 March 2026 00:00 UTC; AT_MS is 10:00 that day, inside the passes' window and weekly hours. */
export const MONDAY = Date.UTC(2026, 2, 2) / 1000;
export const AT_MS = (MONDAY + 10 * 3600) * 1000;
export const LOCK = 'rathaus-1';

export function realisticClaims(over: Partial<RealisticClaims> = {}): RealisticClaims {
  return {
    iss: 'https://passes.stadt-musterhausen.de/issuer/2026',
    sub: 'c2f1e0d9b8a7968574635241302f1e0d9c8b7a69', // a 40-character pseudonym
    aud: [LOCK, 'toilet-marktplatz-nord', 'group:toilets-altstadt', 'bike-garage-bahnhof'],
    exp: MONDAY + 30 * 86400,
    nbf: MONDAY - 86400,
    iat: MONDAY - 86400,
    cti: Buffer.from('5f1c2a7e9b3d4c6a8e0f1a2b3c4d5e6f', 'hex'),
    uses: 10,
    win: [['mon-fri', '06:00', '22:00']],
    ...over,
  };
}

/** Short claims: a pass small enough (under 140 bytes) for cbor-x to read without its native string extractor. */
export function smallClaims(): RealisticClaims {
  const claims = realisticClaims({ iss: 'i', sub: 's', aud: [LOCK], cti: Uint8Array.of(1, 2, 3, 4) });
  for (const k of ['win', 'uses', 'iat', 'nbf'] as const) delete claims[k];
  return claims;
}

/** The claims as `portier token verify --json` shows them: the same for a pass of any size. */
export function expectedClaimsJson(c: RealisticClaims): Record<string, unknown> {
  const out: Record<string, unknown> = { iss: c.iss, sub: c.sub, aud: c.aud.length === 1 ? c.aud[0] : c.aud };
  out.exp = c.exp;
  if (c.nbf !== undefined) out.nbf = c.nbf;
  if (c.iat !== undefined) out.iat = c.iat;
  out.id = Buffer.from(c.cti).toString('hex');
  if (c.uses !== undefined) out.uses = c.uses;
  if (c.win !== undefined) out.win = c.win;
  return out;
}

export interface SizedPass {
  bytes: Uint8Array;
  claims: RealisticClaims;
}

const NO_SIGNATURE = new Uint8Array(64);

/** Small changes that add 0-8 bytes, to reach the sizes that a longer CBOR head skips. */
const TWEAKS: Array<(c: RealisticClaims) => void> = [
  () => {},
  (c) => {
    c.uses = 10;
  },
  (c) => {
    c.uses = 100;
  },
  (c) => {
    c.uses = 1000;
  },
  (c) => {
    c.iss = 'ii';
  },
];

/**
 * One pass of every COSE size from the smallest (under 140 bytes) up to `upTo` bytes, or those `want` picks: extra
 * audiences (lock ids of up to 100 characters) fill the payload, and the TWEAKS and the optional CWT tag 61 fill
 * the sizes a longer head skips. Both algorithms sign 64 bytes, so a size is known before signing.
 */
export function passesBySize(
  key: IndependentKey,
  upTo: number,
  want: (size: number) => boolean = () => true,
): Map<number, SizedPass> {
  const bySize = new Map<number, SizedPass>();
  for (let fill = 0; ; fill++) {
    const extra: string[] = [];
    for (let left = fill, i = 0; left > 0; left -= 100, i++) {
      extra.push(`lock-${i}-`.concat('abcdefghijklmnopqrstuvwxyz'.repeat(4)).slice(0, Math.min(left, 100)));
    }
    let smallest = Number.POSITIVE_INFINITY;
    for (const tweak of TWEAKS) {
      const claims = smallClaims();
      claims.aud.push(...extra);
      tweak(claims);
      const payload = cbor(cwtClaimsMap(claims));
      for (const cwtTag of [true, false]) {
        const size = coseSign1(key, payload, { cwtTag, signature: NO_SIGNATURE }).length;
        smallest = Math.min(smallest, size);
        if (size <= upTo && want(size) && !bySize.has(size)) {
          bySize.set(size, { bytes: coseSign1(key, payload, { cwtTag }), claims });
        }
      }
    }
    if (smallest > upTo) return bySize;
  }
}
