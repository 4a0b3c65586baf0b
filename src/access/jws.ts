import { decodeProtectedHeader } from 'jose';
import { duplicateKey } from './json-keys.js';
import { PASS_ALGS, type PassAlg } from './keyring.js';
import { type Decoded, refuse, type SignedToken } from './token.js';

/**
 * Three base64url segments (RFC 7515 section 7.1). Payload and signature may be empty here so that an unsecured
 * `alg: none` token reaches the header check and is refused as `alg_not_allowed`, not as `malformed`.
 */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** True when the text has the shape of a compact JWS (and so must not be read as base64url or hex). */
export function looksLikeCompactJws(text: string): boolean {
  return COMPACT.test(text);
}

/**
 * Take a compact JWS apart and check its protected header: no name twice, `alg` present and one we allow (never
 * `none`), `kid` text if any, and no `crit` (RFC 7515 section 4.1.11: a recipient must refuse critical extensions it does not
 * understand, and we understand none, b64 included). jose parses the header; the signature is checked by the caller
 * with node:crypto and a cached KeyObject.
 */
export function decodeCompactJws(text: string): Decoded<SignedToken> {
  if (!COMPACT.test(text)) return refuse('malformed', 'not a compact JWS (three base64url segments)');
  const [h, p, s] = text.split('.') as [string, string, string];
  if (h.length % 4 === 1 || p.length % 4 === 1 || s.length % 4 === 1) {
    return refuse('malformed', 'a segment has an impossible base64url length');
  }
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(text) as Record<string, unknown>;
  } catch (err) {
    return refuse('malformed', `bad JWS header: ${(err as Error).message}`);
  }
  // jose's JSON.parse keeps the last of duplicate names: `{"alg":"none","alg":"EdDSA"}` must not pass for EdDSA.
  const dup = duplicateKey(Buffer.from(h, 'base64url').toString('utf8'));
  if (dup !== undefined) return refuse('malformed', `header names "${dup.slice(0, 20)}" twice`);
  if (!('alg' in header)) return refuse('malformed', 'no alg');
  if (typeof header.alg !== 'string') return refuse('malformed', 'alg is not a string');
  if ('crit' in header) {
    const crit = header.crit;
    if (!Array.isArray(crit) || crit.length === 0) return refuse('malformed', 'crit must be a non-empty array');
    return refuse('malformed', `unknown critical header ${String(crit[0]).slice(0, 20)}`);
  }
  if ('b64' in header) return refuse('malformed', 'b64 is only valid with crit, which we refuse');
  let kid: string | undefined;
  if ('kid' in header) {
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 128) {
      return refuse('malformed', 'kid must be text of 1-128 characters');
    }
    kid = header.kid;
  }
  if (!(PASS_ALGS as readonly string[]).includes(header.alg)) {
    return refuse('alg_not_allowed', `alg ${header.alg.slice(0, 20)} is not EdDSA or ES256`);
  }
  const token: SignedToken = {
    format: 'jwt',
    alg: header.alg as PassAlg,
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(s, 'base64url'),
    payload: Buffer.from(p, 'base64url'),
  };
  if (kid !== undefined) token.kid = kid;
  return { ok: true, value: token };
}
