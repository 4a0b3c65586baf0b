import { createPrivateKey, sign as cryptoSign, type KeyObject, randomBytes } from 'node:crypto';
import { encode } from 'cbor2';
import { importJWK, SignJWT } from 'jose';
import { z } from 'zod';
import { ErrorCode, PortierError } from '../core/errors.js';
import { base45Encode } from './base45.js';
import { COSE_ALG_ID } from './cose.js';
import { jwkThumbprint, type PassAlg } from './keyring.js';
import { sigStructureDirect } from './sig-structure.js';
import { PT1_PREFIX } from './verify.js';
import { parseWindows } from './windows.js';

/** Text forms `token issue` can print: PT1 (QR), compact JWT, base64url or hex of the COSE bytes. */
export const PASS_FORMATS = ['pt1', 'jwt', 'b64', 'hex'] as const;
export type PassFormat = (typeof PASS_FORMATS)[number];

/** An issuer's private key, ready to sign. */
export interface SigningKey {
  kid: string;
  alg: PassAlg;
  key: KeyObject;
  /** The private JWK, for jose. */
  jwk: Record<string, unknown>;
}

const privateJwk = z.union([
  z.object({
    kty: z.literal('OKP'),
    crv: z.literal('Ed25519'),
    x: z.string(),
    d: z.string(),
    kid: z.string().min(1).optional(),
    alg: z.literal('EdDSA').optional(),
  }),
  z.object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: z.string(),
    y: z.string(),
    d: z.string(),
    kid: z.string().min(1).optional(),
    alg: z.literal('ES256').optional(),
  }),
]);

/** Read a private JWK (Ed25519 or P-256); kid defaults to the RFC 7638 thumbprint, as the keyring does. */
export function importSigningKey(raw: unknown): SigningKey {
  const parsed = privateJwk.safeParse(raw);
  if (!parsed.success) {
    throw new PortierError(
      ErrorCode.AccessKeyInvalid,
      'not a private issuer key: expected a JWK with kty OKP/Ed25519 or EC/P-256 and d',
    );
  }
  const j = parsed.data;
  const alg: PassAlg = j.kty === 'OKP' ? 'EdDSA' : 'ES256';
  const kid = j.kid ?? jwkThumbprint(j);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { ...j }, format: 'jwk' });
  } catch (err) {
    throw new PortierError(ErrorCode.AccessKeyInvalid, `private key cannot be imported: ${(err as Error).message}`);
  }
  return { kid, alg, key, jwk: { ...j, kid, alg } };
}

/** What to put in a pass; times in seconds. */
export interface PassSpec {
  aud: string | string[];
  exp: number;
  nbf?: number;
  iat?: number;
  sub?: string;
  iss?: string;
  /** Pass id; default 16 random bytes (hex). For a CWT a hex id is sent as `cti` bytes. */
  id?: string;
  uses?: number;
  win?: string[][];
}

/** Fill defaults and check the spec as the gateway would, so an issuer cannot print a pass no door accepts. */
function complete(spec: PassSpec): PassSpec & { id: string; iat: number } {
  if (spec.win !== undefined) parseWindows(spec.win);
  if (spec.uses !== undefined && (!Number.isInteger(spec.uses) || spec.uses < 1)) {
    throw new PortierError(ErrorCode.AccessMalformed, 'uses must be a positive integer');
  }
  return { ...spec, id: spec.id ?? randomBytes(16).toString('hex'), iat: spec.iat ?? Math.floor(Date.now() / 1000) };
}

/** Sign a pass as a CWT in COSE_Sign1 (tag 18), built with cbor2 and signed with node:crypto. */
export function issueCwt(key: SigningKey, spec: PassSpec): { bytes: Uint8Array; id: string } {
  const s = complete(spec);
  const claims = new Map<number | string, unknown>();
  if (s.iss !== undefined) claims.set(1, s.iss);
  if (s.sub !== undefined) claims.set(2, s.sub);
  claims.set(3, s.aud);
  claims.set(4, s.exp);
  if (s.nbf !== undefined) claims.set(5, s.nbf);
  claims.set(6, s.iat);
  claims.set(7, /^([0-9a-f]{2})+$/.test(s.id) ? new Uint8Array(Buffer.from(s.id, 'hex')) : s.id);
  if (s.uses !== undefined) claims.set('uses', s.uses);
  if (s.win !== undefined) claims.set('win', s.win);
  const protectedBytes = encode(new Map([[1, COSE_ALG_ID[key.alg]]]));
  const payload = encode(claims);
  const toSign = sigStructureDirect(protectedBytes, payload);
  const signature =
    key.alg === 'EdDSA'
      ? cryptoSign(null, toSign, key.key)
      : cryptoSign('sha256', toSign, { key: key.key, dsaEncoding: 'ieee-p1363' });
  const unprotected = new Map([[4, new Uint8Array(Buffer.from(key.kid, 'utf8'))]]);
  const sign1 = [protectedBytes, unprotected, payload, new Uint8Array(signature)];
  // tag 18 (COSE_Sign1): 0xd2 then the array
  const body = encode(sign1);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = 0xd2;
  bytes.set(body, 1);
  return { bytes, id: s.id };
}

/** Sign a pass as a compact JWT with jose (an implementation independent of our verifier). */
export async function issueJwt(key: SigningKey, spec: PassSpec): Promise<{ token: string; id: string }> {
  const s = complete(spec);
  const payload: Record<string, unknown> = { aud: s.aud, exp: s.exp, iat: s.iat, jti: s.id };
  if (s.iss !== undefined) payload.iss = s.iss;
  if (s.sub !== undefined) payload.sub = s.sub;
  if (s.nbf !== undefined) payload.nbf = s.nbf;
  if (s.uses !== undefined) payload.uses = s.uses;
  if (s.win !== undefined) payload.win = s.win;
  const joseKey = await importJWK(key.jwk, key.alg);
  const token = await new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid }).sign(joseKey);
  return { token, id: s.id };
}

/** Issue a pass in one of the text forms. */
export async function issuePass(
  key: SigningKey,
  spec: PassSpec,
  format: PassFormat,
): Promise<{ token: string; id: string }> {
  if (format === 'jwt') return issueJwt(key, spec);
  const { bytes, id } = issueCwt(key, spec);
  const b = Buffer.from(bytes);
  const token =
    format === 'pt1'
      ? PT1_PREFIX + base45Encode(bytes)
      : format === 'hex'
        ? b.toString('hex')
        : b.toString('base64url');
  return { token, id };
}
