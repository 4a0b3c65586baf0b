import { verify as cryptoVerify } from 'node:crypto';
import { base45Decode } from './base45.js';
import { cwtClaims, jwtClaims, type PassClaims } from './claims.js';
import { decodeCoseSign1 } from './cose.js';
import { decodeCompactJws, looksLikeCompactJws } from './jws.js';
import type { IssuerKey, Keyring } from './keyring.js';
import { type Decoded, type Refusal, refuse, type SignedToken } from './token.js';

/** Characters of pass text accepted before anything is parsed (a QR code holds at most 4296). */
export const MAX_PASS_CHARS = 4096;
/** Bytes of a binary pass accepted before anything is parsed. */
export const MAX_PASS_BYTES = 2048;

/** The prefix of the QR text form: `PT1:` + base45 of the COSE bytes. */
export const PT1_PREFIX = 'PT1:';

/** A pass whose signature holds and whose claims are a pass; policy (lock, time, uses) is checked after. */
export interface VerifiedPass {
  format: 'cwt' | 'jwt';
  kid: string;
  alg: SignedToken['alg'];
  claims: PassClaims;
}

export type VerifyResult = ({ ok: true } & VerifiedPass) | ({ ok: false; signatureValid: boolean } & Refusal);

/**
 * Turn typed or scanned text into a signed token: `PT1:`+base45, a compact JWT, hex, or base64url of the COSE
 * bytes (tried in that order). Whitespace around the text (a scanner's CR LF) is ignored.
 */
export function decodePassText(input: string | Uint8Array): Decoded<SignedToken> {
  if (typeof input !== 'string') {
    if (input.length > MAX_PASS_BYTES) return refuse('malformed', `pass over ${MAX_PASS_BYTES} bytes`);
    if (input.length === 0) return refuse('malformed', 'empty pass');
    return decodeCoseSign1(input);
  }
  if (input.length > MAX_PASS_CHARS) return refuse('malformed', `pass over ${MAX_PASS_CHARS} characters`);
  const text = input.trim();
  if (text.length === 0) return refuse('malformed', 'empty pass');
  if (text.startsWith(PT1_PREFIX)) {
    const bytes = base45Decode(text.slice(PT1_PREFIX.length));
    if (!bytes) return refuse('malformed', 'PT1 text is not valid base45');
    return decodeCoseSign1(bytes);
  }
  if (looksLikeCompactJws(text)) return decodeCompactJws(text);
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) {
    const fromHex = decodeCoseSign1(Buffer.from(text, 'hex'));
    // a base64url text can consist of hex digits only; if hex does not give COSE, try base64url too
    if (fromHex.ok || fromHex.reason !== 'malformed') return fromHex;
  }
  if (/^[A-Za-z0-9_-]+={0,2}$/.test(text) && text.replace(/=+$/, '').length % 4 !== 1) {
    return decodeCoseSign1(Buffer.from(text, 'base64url'));
  }
  return refuse('malformed', 'not PT1, a JWT, hex or base64url');
}

/** Check a signature with a KeyObject imported once; ES256 signatures are raw r||s in both COSE and JOSE. */
export function signatureHolds(key: IssuerKey, token: SignedToken): boolean {
  if (token.signature.length !== 64) return false;
  try {
    return key.alg === 'EdDSA'
      ? cryptoVerify(null, token.signingInput, key.key, token.signature)
      : cryptoVerify('sha256', token.signingInput, { key: key.key, dsaEncoding: 'ieee-p1363' }, token.signature);
  } catch {
    return false;
  }
}

/**
 * Decode and verify a pass in the DESIGN.md order: size cap, structure, header, key, signature, claims. Never
 * throws: every input, however hostile, ends as a result with a reason code.
 */
export function verifyPass(input: string | Uint8Array, keyring: Keyring): VerifyResult {
  try {
    return verifyInner(input, keyring);
  } catch (err) {
    // A decoder bug must deny, not crash the reader; the fuzz test keeps this path empty.
    return {
      ok: false,
      signatureValid: false,
      reason: 'malformed',
      detail: `decoder error: ${(err as Error).message}`,
    };
  }
}

function verifyInner(input: string | Uint8Array, keyring: Keyring): VerifyResult {
  const decoded = decodePassText(input);
  if (!decoded.ok) return { ok: false, signatureValid: false, reason: decoded.reason, detail: decoded.detail };
  const token = decoded.value;
  let key: IssuerKey | undefined;
  if (token.kid !== undefined) {
    key = keyring.get(token.kid);
    if (!key) return denied('unknown_key', `no issuer key "${token.kid.slice(0, 40)}"`);
    if (key.alg !== token.alg) return denied('alg_not_allowed', `key ${key.kid} is pinned to ${key.alg}`);
    if (!signatureHolds(key, token)) return denied('bad_signature', `signature does not verify with ${key.kid}`);
  } else {
    // No kid: try the keys pinned to this alg (the ring holds a handful). RFC 8037's example JWS names no kid.
    const candidates = keyring.withAlg(token.alg);
    if (candidates.length === 0) return denied('unknown_key', `no kid and no ${token.alg} key`);
    key = candidates.find((k) => signatureHolds(k, token));
    if (!key) return denied('bad_signature', `no ${token.alg} key verifies the signature`);
  }
  const claims = token.format === 'cwt' ? cwtClaims(token.payload) : jwtClaims(token.payload);
  if (!claims.ok) return { ok: false, signatureValid: true, reason: claims.reason, detail: claims.detail };
  return { ok: true, format: token.format, kid: key.kid, alg: key.alg, claims: claims.value };
}

function denied(reason: Refusal['reason'], detail: string): VerifyResult {
  return { ok: false, signatureValid: false, reason, detail };
}
