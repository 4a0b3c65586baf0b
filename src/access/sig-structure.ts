import { encode } from 'cbor2';

/**
 * The COSE Sig_structure for COSE_Sign1 (RFC 9052 section 4.4) with empty external AAD:
 *
 *   ["Signature1", body_protected: bstr, external_aad: h'', payload: bstr]
 *
 * Every byte comes from cbor2 (deterministic encoding). cbor2 costs tens of microseconds per call, as much as the
 * signature check it feeds, so the parts that repeat are encoded once and reused: everything up to the payload
 * depends only on the protected header (the same few bytes in every pass of an issuer), and the payload's bstr head
 * only on its length. The payload itself is appended as it is.
 */

/** Distinct protected headers remembered; an attacker sending unique ones only costs cache misses. */
const MAX_PREFIXES = 64;
const prefixes = new Map<string, Uint8Array>();
/** bstr heads by payload length (bounded by the pass size cap, so by at most a few thousand entries). */
const heads = new Map<number, Uint8Array>();
const MAX_HEADS = 4096;
const EMPTY = new Uint8Array(0);

function plain(b: Uint8Array): Uint8Array {
  // cbor2 encodes a Node Buffer as an object, not a byte string: hand it a plain Uint8Array view
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** ["Signature1", protected, h''] as the first three items of a four-item array. */
function prefixFor(protectedBytes: Uint8Array): Uint8Array {
  const key = Buffer.from(protectedBytes.buffer, protectedBytes.byteOffset, protectedBytes.byteLength).toString(
    'latin1',
  );
  let prefix = prefixes.get(key);
  if (!prefix) {
    // encode with an empty fourth item and drop its one byte (0x40): what remains is the array head and three items
    const whole = encode(['Signature1', new Uint8Array(plain(protectedBytes)), EMPTY, EMPTY]);
    prefix = whole.subarray(0, whole.length - 1);
    if (prefixes.size >= MAX_PREFIXES) prefixes.clear();
    prefixes.set(key, prefix);
  }
  return prefix;
}

/** The bstr head (major type 2 and length) of a byte string of `len` bytes. */
function headFor(len: number): Uint8Array {
  let head = heads.get(len);
  if (!head) {
    const whole = encode(new Uint8Array(len));
    head = whole.subarray(0, whole.length - len);
    if (heads.size >= MAX_HEADS) heads.clear();
    heads.set(len, head);
  }
  return head;
}

export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  const prefix = prefixFor(protectedBytes);
  const head = headFor(payload.length);
  const out = new Uint8Array(prefix.length + head.length + payload.length);
  out.set(prefix, 0);
  out.set(head, prefix.length);
  out.set(payload, prefix.length + head.length);
  return out;
}

/** The same structure in one cbor2 call, for tests that check the reuse above against it. */
export function sigStructureDirect(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encode(['Signature1', new Uint8Array(plain(protectedBytes)), EMPTY, new Uint8Array(plain(payload))]);
}
