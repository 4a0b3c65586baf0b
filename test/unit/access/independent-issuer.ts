/**
 * An issuer that shares no code with Portier or its CBOR libraries: a tiny CBOR encoder written from RFC 8949
 * section 3, COSE_Sign1 from RFC 9052 sections 4.2 and 4.4, CWT claims and tag 61 from RFC 8392 sections 3 and 6,
 * compact JWS/JWT from RFC 7515 section 7.1 and RFC 7519, base45 from RFC 9285 section 4. Signatures come from
 * node:crypto through forge.ts (Ed25519 per RFC 8037, ES256 as raw r||s per RFC 9053 section 2.1, RFC 7518 3.4).
 * A town's pass system is not this project's code; passes from it must verify the same at every size.
 */
import { makeKey, rawSign, type TestKey } from './forge.js';

/** What the encoder writes: integers, text, bytes, arrays, maps (in the order given) and tags. */
export type Cbor = number | string | Uint8Array | Cbor[] | Map<Cbor, Cbor> | CborTag;
export interface CborTag {
  tag: number;
  value: Cbor;
}

const be32 = (x: number) => [x >>> 24, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];

/** RFC 8949 section 3.1: a head is the major type in the top 3 bits and the argument in the low 5 (or after). */
function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >>> 8, n & 0xff];
  if (n < 0x1_0000_0000) return [m | 26, ...be32(n)];
  return [m | 27, ...be32(Math.floor(n / 0x1_0000_0000)), ...be32(n >>> 0)];
}

function parts(v: Cbor, out: Uint8Array[]): void {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error('this encoder writes integers only');
    out.push(Uint8Array.from(v >= 0 ? head(0, v) : head(1, -1 - v)));
  } else if (typeof v === 'string') {
    const bytes = Buffer.from(v, 'utf8');
    out.push(Uint8Array.from(head(3, bytes.length)), bytes);
  } else if (v instanceof Uint8Array) {
    out.push(Uint8Array.from(head(2, v.length)), v);
  } else if (Array.isArray(v)) {
    out.push(Uint8Array.from(head(4, v.length)));
    for (const item of v) parts(item, out);
  } else if (v instanceof Map) {
    out.push(Uint8Array.from(head(5, v.size)));
    for (const [k, item] of v) {
      parts(k, out);
      parts(item, out);
    }
  } else {
    out.push(Uint8Array.from(head(6, v.tag)));
    parts(v.value, out);
  }
}

/** Encode one CBOR data item (definite lengths, preferred serialization of heads). */
export function cbor(v: Cbor): Uint8Array {
  const out: Uint8Array[] = [];
  parts(v, out);
  return new Uint8Array(Buffer.concat(out));
}

/** Issuer keys from node:crypto (no CBOR involved), shared with the other pass tests. */
export type IndependentKey = TestKey;
export const independentKey = makeKey;

/** Pass claims by their JWT names (RFC 7519); `cti` is bytes in a CWT and its hex is the JWT `jti`. */
export interface RealisticClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  nbf?: number;
  iat?: number;
  cti: Uint8Array;
  uses?: number;
  win?: string[][];
}

/** RFC 8392 section 3.1 keys 1-7; `uses` and `win` are the project's text-keyed claims (docs/passes.md). */
export function cwtClaimsMap(c: RealisticClaims): Map<Cbor, Cbor> {
  const m = new Map<Cbor, Cbor>([
    [1, c.iss],
    [2, c.sub],
    [3, c.aud],
    [4, c.exp],
  ]);
  if (c.nbf !== undefined) m.set(5, c.nbf);
  if (c.iat !== undefined) m.set(6, c.iat);
  m.set(7, c.cti);
  if (c.uses !== undefined) m.set('uses', c.uses);
  if (c.win !== undefined) m.set('win', c.win);
  return m;
}

const COSE_ALG = { EdDSA: -8, ES256: -7 } as const;

/**
 * A COSE_Sign1 (RFC 9052 section 4.2) over `payload`: alg in the protected header, kid unprotected, signed over
 * the Sig_structure ["Signature1", protected, external_aad = h'', payload] (section 4.4). Tagged 18, and 61 on
 * the outside unless `cwtTag` is false (RFC 8392 section 6). A test may sign with another key or give the signature.
 */
export function coseSign1(
  key: IndependentKey,
  payload: Uint8Array,
  opts: { cwtTag?: boolean; alg?: number; kid?: string; signWith?: IndependentKey; signature?: Uint8Array } = {},
): Uint8Array {
  const prot = cbor(new Map<Cbor, Cbor>([[1, opts.alg ?? COSE_ALG[key.alg]]]));
  const toSign = cbor(['Signature1', prot, new Uint8Array(0), payload]);
  const signature = opts.signature ?? rawSign(opts.signWith ?? key, toSign);
  const unprot = new Map<Cbor, Cbor>([[4, Buffer.from(opts.kid ?? key.kid)]]);
  const sign1: Cbor = { tag: 18, value: [prot, unprot, payload, signature] };
  return cbor(opts.cwtTag === false ? sign1 : { tag: 61, value: sign1 });
}

/** A CWT from the claims. */
export function independentCwt(key: IndependentKey, claims: RealisticClaims): Uint8Array {
  return coseSign1(key, cbor(cwtClaimsMap(claims)));
}

const b64u = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

/** A compact JWS (RFC 7515 section 7.1) whose payload is the JWT claims set (RFC 7519). */
export function independentJwt(
  key: IndependentKey,
  claims: RealisticClaims,
  opts: { alg?: string; kid?: string } = {},
): string {
  const { cti, ...rest } = claims;
  const header = b64u(JSON.stringify({ alg: opts.alg ?? key.alg, kid: opts.kid ?? key.kid, typ: 'JWT' }));
  const body = b64u(JSON.stringify({ ...rest, jti: Buffer.from(cti).toString('hex') }));
  const input = `${header}.${body}`;
  return `${input}.${b64u(rawSign(key, Buffer.from(input)))}`;
}

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

/** RFC 9285 section 4: each two bytes (a*256+b) become three base45 digits, least significant first. */
export function base45(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i]! * 256 + bytes[i + 1]!;
    out += B45[n % 45]! + B45[Math.floor(n / 45) % 45]! + B45[Math.floor(n / 2025)]!;
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1]!;
    out += B45[n % 45]! + B45[Math.floor(n / 45)]!;
  }
  return out;
}

/** The text forms a gateway reads (docs/passes.md): hex and base64url of the bytes, and `PT1:` + base45. */
export const passText = {
  hex: (b: Uint8Array) => Buffer.from(b).toString('hex'),
  base64url: (b: Uint8Array) => b64u(b),
  pt1: (b: Uint8Array) => `PT1:${base45(b)}`,
};
