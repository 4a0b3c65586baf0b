import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, PortierError } from '../core/errors.js';

/** The signature algorithms a pass may use (DESIGN.md): EdDSA over Ed25519 (preferred) and ES256 (P-256). */
export const PASS_ALGS = ['EdDSA', 'ES256'] as const;
export type PassAlg = (typeof PASS_ALGS)[number];

/** A public issuer key as JWK (RFC 7517), restricted to the two key types a pass can be signed with. */
export type PublicJwk =
  | { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA' }
  | { kty: 'EC'; crv: 'P-256'; x: string; y: string; kid: string; alg: 'ES256' };

/** One usable issuer key: its id, its pinned algorithm, and the imported key (imported once, verified many times). */
export interface IssuerKey {
  kid: string;
  alg: PassAlg;
  jwk: PublicJwk;
  key: KeyObject;
}

const b64u = (len: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected base64url')
    .refine((s) => Buffer.from(s, 'base64url').length === len, `expected ${len} bytes`);

const common = {
  kid: z.string().min(1).max(128).optional(),
  use: z.literal('sig', { error: 'use must be "sig"' }).optional(),
  key_ops: z
    .array(z.string())
    .refine((ops) => ops.includes('verify'), 'key_ops must include "verify"')
    .optional(),
  d: z.string().optional(),
};
const okpJwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519', { error: 'OKP keys must be crv Ed25519' }),
  x: b64u(32),
  alg: z.literal('EdDSA', { error: 'an Ed25519 key pins alg EdDSA' }).optional(),
  ...common,
});
const ecJwk = z.object({
  kty: z.literal('EC'),
  crv: z.literal('P-256', { error: 'EC keys must be crv P-256' }),
  x: b64u(32),
  y: b64u(32),
  alg: z.literal('ES256', { error: 'a P-256 key pins alg ES256' }).optional(),
  ...common,
});
const jwkSchema = z.discriminatedUnion('kty', [okpJwk, ecJwk], {
  error: 'kty must be OKP (Ed25519) or EC (P-256)',
});
const jwksSchema = z.object({ keys: z.array(z.unknown()).max(256) });

/**
 * The JWK thumbprint (RFC 7638) of a public key: SHA-256 over the required members in lexicographic order. A JWK
 * without `kid` gets its thumbprint as kid, so every key in the ring has a stable name.
 */
export function jwkThumbprint(jwk: { kty: string; crv: string; x: string; y?: string }): string {
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Validate one JWK and import it. The algorithm is pinned: an Ed25519 key verifies only EdDSA, a P-256 key only
 * ES256; a JWK without `alg` gets the one its curve allows (each curve allows exactly one here). A private member
 * `d` is refused unless `allowPrivate` (the gateway keeps public keys only); when allowed it is dropped.
 */
export function importIssuerKey(raw: unknown, opts: { allowPrivate?: boolean } = {}): IssuerKey {
  const parsed = jwkSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new PortierError(ErrorCode.AccessKeyInvalid, `bad issuer key: ${where}${issue?.message ?? 'invalid'}`);
  }
  const j = parsed.data;
  if (j.d !== undefined && !opts.allowPrivate) {
    throw new PortierError(
      ErrorCode.AccessKeyInvalid,
      `key ${j.kid ?? jwkThumbprint(j)} holds a private key (d); import only the public key into a gateway`,
    );
  }
  const kid = j.kid ?? jwkThumbprint(j);
  const jwk: PublicJwk =
    j.kty === 'OKP'
      ? { kty: 'OKP', crv: 'Ed25519', x: j.x, kid, alg: 'EdDSA' }
      : { kty: 'EC', crv: 'P-256', x: j.x, y: j.y, kid, alg: 'ES256' };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  } catch (err) {
    // e.g. a P-256 point that is not on the curve
    throw new PortierError(ErrorCode.AccessKeyInvalid, `key ${kid} cannot be imported: ${(err as Error).message}`);
  }
  return { kid, alg: jwk.alg, jwk, key };
}

/** Parse a JWK Set (RFC 7517 section 5); `skipped` names the keys that were not usable and why. */
export function parseJwks(
  raw: unknown,
  opts: { allowPrivate?: boolean } = {},
): { keys: IssuerKey[]; skipped: Array<{ index: number; reason: string }> } {
  const set = jwksSchema.safeParse(raw);
  if (!set.success) throw new PortierError(ErrorCode.AccessKeyInvalid, 'not a JWK Set: expected {"keys":[...]}');
  const keys: IssuerKey[] = [];
  const skipped: Array<{ index: number; reason: string }> = [];
  const seen = new Set<string>();
  set.data.keys.forEach((jwk, index) => {
    try {
      const key = importIssuerKey(jwk, opts);
      if (seen.has(key.kid)) throw new PortierError(ErrorCode.AccessKeyInvalid, `duplicate kid "${key.kid}"`);
      seen.add(key.kid);
      keys.push(key);
    } catch (err) {
      if (!(err instanceof PortierError)) throw err;
      skipped.push({ index, reason: err.message });
    }
  });
  return { keys, skipped };
}

/**
 * The issuer keys a gateway trusts, found by `kid`. Several keys live at once so an issuer can rotate: sign with
 * the new key while passes signed with the old one stay valid until it is removed. Keys are imported once as
 * KeyObjects, so verifying a pass costs about one raw `crypto.verify`.
 */
export class Keyring {
  private readonly byKid = new Map<string, IssuerKey>();
  private readonly byAlg = new Map<PassAlg, IssuerKey[]>();

  constructor(keys: readonly IssuerKey[] = []) {
    for (const k of keys) {
      this.byKid.set(k.kid, k);
      const list = this.byAlg.get(k.alg) ?? [];
      list.push(k);
      this.byAlg.set(k.alg, list);
    }
  }

  /** Build from a JWK Set document (a file's text or parsed JSON); unusable keys are skipped. */
  static fromJwks(doc: unknown, opts: { allowPrivate?: boolean } = {}): Keyring {
    const value = typeof doc === 'string' ? parseJson(doc) : doc;
    return new Keyring(parseJwks(value, opts).keys);
  }

  get(kid: string): IssuerKey | undefined {
    return this.byKid.get(kid);
  }

  /** Keys pinned to `alg`, for a token that names no kid (tried in turn; the ring is small). */
  withAlg(alg: PassAlg): readonly IssuerKey[] {
    return this.byAlg.get(alg) ?? [];
  }

  get size(): number {
    return this.byKid.size;
  }

  list(): IssuerKey[] {
    return [...this.byKid.values()];
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PortierError(ErrorCode.AccessKeyInvalid, 'not a JWK Set: the file is not JSON');
  }
}
