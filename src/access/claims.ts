import { isPortierError } from '../core/errors.js';
import { cborDecode } from './cose.js';
import { duplicateKey } from './json-keys.js';
import { type Decoded, refuse } from './token.js';
import { parseWindows, type WeeklyWindow } from './windows.js';

/** The claims of a pass, the same whether it came as a CWT or a JWT (docs/passes.md). Times in seconds. */
export interface PassClaims {
  iss?: string;
  /** Pseudonymous holder id; never leaves the gateway (decisions carry a keyed hash of it). */
  sub?: string;
  /** Lock ids and `group:NAME` entries the pass opens; at least one. */
  aud: string[];
  /** NumericDate, s. */
  exp: number;
  nbf?: number;
  iat?: number;
  /** Pass id: `jti`, or `cti` as lowercase hex (text if the issuer sent text). */
  id: string;
  /** Openings allowed, 1-1000000 (1 = single use); absent = unlimited. */
  uses?: number;
  /** Weekly windows; absent = any time. */
  win?: WeeklyWindow[];
  /** The `win` claim as sent, for display. */
  winText?: string[][];
}

/** CWT claim keys (RFC 8392 section 3.1 / IANA CWT Claims); `uses` and `win` are private text-keyed claims. */
const CWT_KEYS = new Map<unknown, string>([
  [1, 'iss'],
  [2, 'sub'],
  [3, 'aud'],
  [4, 'exp'],
  [5, 'nbf'],
  [6, 'iat'],
  [7, 'cti'],
  ['uses', 'uses'],
  ['win', 'win'],
]);

/** Seconds up to year 9999: a NumericDate beyond is nonsense, not a long-lived pass. */
const MAX_DATE = 253_402_300_799;
const MAX_USES = 1_000_000;

/** Parse the signed payload of a CWT (a CBOR map) into claims; anything else is `not_a_pass`. */
export function cwtClaims(payload: Uint8Array): Decoded<PassClaims> {
  let map: unknown;
  try {
    map = cborDecode(payload);
  } catch {
    return refuse('not_a_pass', 'payload is not a CBOR claims set');
  }
  if (!(map instanceof Map)) return refuse('not_a_pass', 'payload is not a CBOR map of claims');
  // cbor-x keeps the last of duplicate keys; fewer entries than the map's head declares means a claim came twice.
  const declared = declaredMapSize(payload);
  if (declared !== undefined && declared !== map.size) return refuse('malformed', 'claims name a key twice');
  const named: Record<string, unknown> = {};
  for (const [k, v] of map) {
    const name = CWT_KEYS.get(k);
    if (name) named[name] = v;
  }
  if ('cti' in named) {
    const cti = named.cti;
    if (cti instanceof Uint8Array) named.id = Buffer.from(cti).toString('hex');
    else if (typeof cti === 'string') named.id = cti;
    else return refuse('not_a_pass', 'cti is not a byte or text string');
  }
  return normalize(named);
}

/** The entry count in the head of a definite-length CBOR map (RFC 8949 section 3), or undefined. */
function declaredMapSize(bytes: Uint8Array): number | undefined {
  const first = bytes[0];
  if (first === undefined || first >> 5 !== 5) return undefined;
  const info = first & 0x1f;
  if (info < 24) return info;
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
  if (width === 0 || bytes.length < 1 + width) return undefined; // 8-byte counts and indefinite maps: not a pass's
  let n = 0;
  for (let i = 1; i <= width; i++) n = n * 256 + bytes[i]!;
  return n;
}

/**
 * Parse the signed payload of a JWT (a JSON object) into claims; a name given twice is `malformed` (JSON.parse
 * would keep the last, another reader the first: RFC 7519 section 7.2), anything else that is no claims set is
 * `not_a_pass`.
 */
export function jwtClaims(payload: Uint8Array): Decoded<PassClaims> {
  let obj: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    obj = JSON.parse(text);
  } catch {
    return refuse('not_a_pass', 'payload is not a JSON claims set');
  }
  const dup = duplicateKey(text);
  if (dup !== undefined) return refuse('malformed', `claims name "${dup.slice(0, 20)}" twice`);
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return refuse('not_a_pass', 'payload is not a JSON object of claims');
  }
  const o = obj as Record<string, unknown>;
  const named: Record<string, unknown> = {};
  for (const k of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'uses', 'win'] as const) {
    if (Object.hasOwn(o, k)) named[k] = o[k];
  }
  if (Object.hasOwn(o, 'jti')) {
    if (typeof o.jti !== 'string') return refuse('not_a_pass', 'jti is not a string');
    named.id = o.jti;
  }
  return normalize(named);
}

function isText(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function isDate(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_DATE;
}

/** Check types and required claims: a pass names its locks (`aud`), its end (`exp`) and itself (pass id). */
function normalize(n: Record<string, unknown>): Decoded<PassClaims> {
  const bad = (why: string) => refuse('not_a_pass', why);
  if (n.iss !== undefined && !isText(n.iss, 256)) return bad('iss is not text of 1-256 characters');
  if (n.sub !== undefined && !isText(n.sub, 256)) return bad('sub is not text of 1-256 characters');
  if (n.aud === undefined) return bad('no aud: a pass must name the locks it opens');
  const aud = typeof n.aud === 'string' ? [n.aud] : n.aud;
  if (!Array.isArray(aud) || aud.length === 0 || aud.length > 64 || !aud.every((a) => isText(a, 128))) {
    return bad('aud is not a lock id, a group:NAME, or a list of 1-64 of them');
  }
  if (n.exp === undefined) return bad('no exp: a pass must expire');
  for (const k of ['exp', 'nbf', 'iat'] as const) {
    if (n[k] !== undefined && !isDate(n[k])) return bad(`${k} is not a NumericDate`);
  }
  if (n.id === undefined) return bad('no pass id (cti or jti)');
  if (!isText(n.id, 128)) return bad('pass id is not 1-128 characters');
  if (n.uses !== undefined) {
    const u = n.uses;
    if (typeof u !== 'number' || !Number.isInteger(u) || u < 1 || u > MAX_USES) {
      return bad(`uses is not an integer 1-${MAX_USES}`);
    }
  }
  const claims: PassClaims = { aud: aud as string[], exp: n.exp as number, id: n.id };
  if (n.win !== undefined) {
    try {
      claims.win = parseWindows(n.win);
    } catch (err) {
      if (isPortierError(err)) return bad(err.message);
      throw err;
    }
    claims.winText = n.win as string[][];
  }
  if (n.iss !== undefined) claims.iss = n.iss as string;
  if (n.sub !== undefined) claims.sub = n.sub as string;
  if (n.nbf !== undefined) claims.nbf = n.nbf as number;
  if (n.iat !== undefined) claims.iat = n.iat as number;
  if (n.uses !== undefined) claims.uses = n.uses as number;
  return { ok: true, value: claims };
}

/** Claims as JSON for the CLI and logs, in JWT names; `sub` only when the caller may see it. */
export function claimsJson(c: PassClaims, opts: { withSub?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c.iss !== undefined) out.iss = c.iss;
  if (c.sub !== undefined && opts.withSub !== false) out.sub = c.sub;
  out.aud = c.aud.length === 1 ? c.aud[0] : c.aud;
  out.exp = c.exp;
  if (c.nbf !== undefined) out.nbf = c.nbf;
  if (c.iat !== undefined) out.iat = c.iat;
  out.id = c.id;
  if (c.uses !== undefined) out.uses = c.uses;
  if (c.winText !== undefined) out.win = c.winText;
  return out;
}
