import { sign as cryptoSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'cbor2';
import { silentLogger } from '../../../src/core/logger.js';
import { openStore, type Store } from '../../../src/store/store.js';

/** Test keys: an issuer key pair of each algorithm, as private and public JWKs. */
export interface TestKey {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  privateKey: KeyObject;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

export function makeKey(kid: string, alg: 'EdDSA' | 'ES256'): TestKey {
  const { privateKey, publicKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg };
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg };
  return { kid, alg, privateKey, privateJwk, publicJwk };
}

/** Sign raw bytes the way the algorithm does (ES256 as raw r||s, as COSE and JOSE both want). */
export function rawSign(key: TestKey, data: Uint8Array): Uint8Array {
  const sig =
    key.alg === 'EdDSA'
      ? cryptoSign(null, data, key.privateKey)
      : cryptoSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return new Uint8Array(sig);
}

const u8 = (b: Uint8Array) => new Uint8Array(b);

/**
 * Build a COSE_Sign1 by hand so a test can break any part of it: headers, payload, signature, tags. The signature
 * covers the Sig_structure of the protected bytes and payload given (built independently of src/access/cose.ts).
 */
export function forgeCose(opts: {
  key: TestKey;
  protectedMap?: Map<unknown, unknown>;
  protectedBytes?: Uint8Array;
  unprotected?: Map<unknown, unknown>;
  payload: Uint8Array | null;
  signWith?: TestKey;
  signature?: Uint8Array;
  tags?: number[];
}): Uint8Array {
  const prot =
    opts.protectedBytes ?? u8(encode(opts.protectedMap ?? new Map([[1, opts.key.alg === 'EdDSA' ? -8 : -7]])));
  const unprot = opts.unprotected ?? new Map([[4, u8(Buffer.from(opts.key.kid))]]);
  const toSign = u8(encode(['Signature1', prot, new Uint8Array(0), opts.payload ?? new Uint8Array(0)]));
  const signature = opts.signature ?? rawSign(opts.signWith ?? opts.key, toSign);
  let bytes: Uint8Array = u8(encode([prot, unprot, opts.payload, signature]));
  for (const tag of [...(opts.tags ?? [18])].reverse()) bytes = prefixTag(tag, bytes);
  return bytes;
}

function prefixTag(tag: number, body: Uint8Array): Uint8Array {
  const head = tag < 24 ? [0xc0 | tag] : tag < 256 ? [0xd8, tag] : [0xd9, tag >> 8, tag & 0xff];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** CWT claims as a CBOR map (RFC 8392 keys) from JWT-style names. */
export function cwtPayload(claims: Record<string, unknown>): Uint8Array {
  const keys: Record<string, number | string> = {
    iss: 1,
    sub: 2,
    aud: 3,
    exp: 4,
    nbf: 5,
    iat: 6,
    cti: 7,
    uses: 'uses',
    win: 'win',
  };
  const m = new Map<unknown, unknown>();
  for (const [k, v] of Object.entries(claims)) m.set(keys[k] ?? k, v);
  return u8(encode(m));
}

const b64u = (s: string | Uint8Array) => Buffer.from(s).toString('base64url');

/** Build a compact JWS by hand (header and payload as given, signed over their base64url). */
export function forgeJws(opts: {
  key: TestKey;
  header?: Record<string, unknown>;
  headerText?: string;
  payload: Record<string, unknown> | string;
  signWith?: TestKey;
  signature?: string;
}): string {
  const header = opts.headerText ?? JSON.stringify(opts.header ?? { alg: opts.key.alg, kid: opts.key.kid });
  const payload = typeof opts.payload === 'string' ? opts.payload : JSON.stringify(opts.payload);
  const input = `${b64u(header)}.${b64u(payload)}`;
  const sig = opts.signature ?? b64u(rawSign(opts.signWith ?? opts.key, Buffer.from(input)));
  return `${input}.${sig}`;
}

/** A real store in a fresh temp dir, with a wall clock the test sets. */
export interface TestStore {
  store: Store;
  dir: string;
  wall: { ms: number };
  reopen(): Store;
  cleanup(): void;
}

export function openTestStore(opts: { startMs: number; synced?: boolean; dir?: string }): TestStore {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'portier-access-'));
  const wall = { ms: opts.startMs };
  const open = () =>
    openStore({
      stateDir: dir,
      gatewayId: 'gw-test',
      log: silentLogger(),
      clock: { wall: () => wall.ms, isSynced: () => opts.synced ?? true, hasRtc: () => false },
    });
  const t: TestStore = {
    store: open(),
    dir,
    wall,
    reopen() {
      t.store = open();
      return t.store;
    },
    cleanup() {
      try {
        t.store.close();
      } catch {
        // already closed
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
