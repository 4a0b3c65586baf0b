import { Decoder, Tag } from 'cbor-x';
import { decode as strictDecode } from 'cbor2';
import type { PassAlg } from './keyring.js';
import { sigStructure } from './sig-structure.js';
import { type Decoded, refuse, type SignedToken } from './token.js';

/** CBOR tags: COSE_Sign1 (RFC 9052), COSE_Mac0, and CWT (RFC 8392 section 6). */
const TAG_SIGN1 = 18;
const TAG_CWT = 61;

/** COSE header labels (RFC 9052 section 3.1). */
const H_ALG = 1;
const H_CRIT = 2;
const H_CONTENT_TYPE = 3;
const H_KID = 4;

/** COSE algorithm ids (IANA COSE Algorithms registry). */
const COSE_ALGS = new Map<number, PassAlg>([
  [-8, 'EdDSA'],
  [-7, 'ES256'],
]);
export const COSE_ALG_ID: Record<PassAlg, number> = { EdDSA: -8, ES256: -7 };

/**
 * Hostile input, decoded with cbor-x: maps always as Map (claim keys are integers), no records or shared
 * structures, unknown tags (18 COSE_Sign1, 61 CWT) left as inert Tag objects. Decisions made here, on purpose:
 * - cbor-x, not cbor2 (which DESIGN.md names): a cbor2 decode of a small claims map costs 50-90 microseconds, as much
 *   as the Ed25519 check itself, and a CWT needs two, which held CWT verification to about 40 % of raw
 *   crypto.verify; cbor-x decodes the same in about 1 microsecond. Encoding (issuing, the Sig_structure) stays on cbor2.
 * - cbor-x keeps the last of duplicate map keys. The protected header, which holds `alg`, is therefore decoded with
 *   cbor2 refusing duplicates (once per distinct header: every pass of an issuer carries the same bytes). The claims
 *   are covered by the signature, so only the issuer could write a duplicate there, and a duplicate in the unsigned
 *   header can only point at another key, whose signature check then fails.
 * - Depth is bounded by the pass size cap (checked before decoding) and by the stack; a RangeError is a `malformed`.
 * - 64-bit integers decode as numbers (`int64AsNumber`), not bigints: a NumericDate after 2106 (2^32 s) is a uint64
 *   in CBOR, and a bigint would make a pass valid until 2200 `not_a_pass`. Claims are range-checked after.
 */
const decoderOptions = {
  mapsAsObjects: false,
  useRecords: false,
  structuredClone: false,
  useFloat32: 0,
  // cbor-x supports it (decode.js); its typings do not list it, hence the variable rather than a literal
  int64AsNumber: true,
} as const;
const decoder = new Decoder(decoderOptions);

/** Decode CBOR from any byte view. */
export function cborDecode(bytes: Uint8Array): unknown {
  return decoder.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/**
 * Decoded protected headers by their bytes. Every pass of an issuer carries the same few bytes here (`a10127`),
 * and a cbor2 decode costs about as much as the signature check, so good headers are decoded once. Bounded: an
 * attacker sending unique headers only causes misses. The maps are never modified after decoding.
 */
const protectedCache = new Map<string, Map<unknown, unknown>>();
const MAX_PROTECTED = 64;

function decodeProtected(prot: Uint8Array): Map<unknown, unknown> | string {
  if (prot.length === 0) return new Map();
  const key = Buffer.from(prot.buffer, prot.byteOffset, prot.byteLength).toString('latin1');
  const hit = protectedCache.get(key);
  if (hit) return hit;
  let decoded: unknown;
  try {
    const plain = Object.getPrototypeOf(prot) === Uint8Array.prototype ? prot : new Uint8Array(prot);
    decoded = strictDecode(plain, { ignoreGlobalTags: true, preferMap: true, rejectDuplicateKeys: true, maxDepth: 4 });
  } catch (err) {
    return `protected header is not CBOR: ${(err as Error).message}`;
  }
  if (!(decoded instanceof Map)) return 'protected header is not a map';
  if (protectedCache.size >= MAX_PROTECTED) protectedCache.clear();
  protectedCache.set(key, decoded);
  return decoded;
}

/**
 * Take a COSE_Sign1 apart (optionally wrapped in tag 61 CWT and/or tag 18) and check its headers: `alg` present in
 * the protected header and one we allow, no label in both buckets, no `crit` (we understand no extension headers),
 * a byte-string `kid` if any, an attached payload.
 */
export function decodeCoseSign1(bytes: Uint8Array): Decoded<SignedToken> {
  let item: unknown;
  try {
    item = cborDecode(bytes);
  } catch (err) {
    return refuse('malformed', `not CBOR: ${(err as Error).message}`);
  }
  if (item instanceof Tag && Number(item.tag) === TAG_CWT) item = item.value;
  if (item instanceof Tag) {
    if (Number(item.tag) !== TAG_SIGN1) return refuse('malformed', `CBOR tag ${item.tag} is not COSE_Sign1`);
    item = item.value;
  }
  if (!Array.isArray(item) || item.length !== 4) return refuse('malformed', 'not a COSE_Sign1 array of 4');
  const [prot, unprot, payload, signature] = item as unknown[];
  if (!(prot instanceof Uint8Array)) return refuse('malformed', 'protected header is not a byte string');
  if (!(unprot instanceof Map)) return refuse('malformed', 'unprotected header is not a map');
  if (payload === null || payload === undefined) return refuse('malformed', 'detached payload is not accepted');
  if (!(payload instanceof Uint8Array)) return refuse('malformed', 'payload is not a byte string');
  if (!(signature instanceof Uint8Array)) return refuse('malformed', 'signature is not a byte string');

  const protMap = decodeProtected(prot);
  if (typeof protMap === 'string') return refuse('malformed', protMap);
  for (const label of unprot.keys()) {
    if (protMap.has(label)) return refuse('malformed', `header label ${String(label)} is in both header buckets`);
  }
  if (unprot.has(H_CRIT)) return refuse('malformed', 'crit must be in the protected header');
  if (protMap.has(H_CRIT)) {
    const crit = protMap.get(H_CRIT);
    if (!Array.isArray(crit) || crit.length === 0) return refuse('malformed', 'crit must be a non-empty array');
    const understood = new Set<unknown>([H_ALG, H_CONTENT_TYPE, H_KID]);
    const unknown = crit.filter((label) => !understood.has(label));
    if (unknown.length) return refuse('malformed', `unknown critical header ${String(unknown[0])}`);
  }
  const rawKid = protMap.has(H_KID) ? protMap.get(H_KID) : unprot.get(H_KID);
  let kid: string | undefined;
  if (rawKid !== undefined) {
    if (!(rawKid instanceof Uint8Array) || rawKid.length === 0 || rawKid.length > 128) {
      return refuse('malformed', 'kid must be a byte string of 1-128 bytes');
    }
    kid = kidText(rawKid);
  }
  if (!protMap.has(H_ALG)) {
    return refuse('malformed', unprot.has(H_ALG) ? 'alg must be in the protected header' : 'no alg');
  }
  const algId = protMap.get(H_ALG);
  const alg = typeof algId === 'number' ? COSE_ALGS.get(algId) : undefined;
  if (!alg) return refuse('alg_not_allowed', `alg ${String(algId)} is not EdDSA (-8) or ES256 (-7)`);

  const token: SignedToken = {
    format: 'cwt',
    alg,
    signingInput: sigStructure(prot, payload),
    signature,
    payload,
  };
  if (kid !== undefined) token.kid = kid;
  return { ok: true, value: token };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A COSE kid is bytes, a JWK kid is text: printable UTF-8 maps to itself, anything else to lowercase hex. */
export function kidText(bytes: Uint8Array): string {
  try {
    const text = utf8.decode(bytes);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse here
    if (!/[\u0000-\u001f\u007f]/.test(text)) return text;
  } catch {
    // not UTF-8: fall through to hex
  }
  return Buffer.from(bytes).toString('hex');
}
