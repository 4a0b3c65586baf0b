import type { PassAlg } from './keyring.js';
import type { PassReason } from './reasons.js';

/** A signed token taken apart, header checked, signature not yet verified. */
export interface SignedToken {
  format: 'cwt' | 'jwt';
  alg: PassAlg;
  /** Key id from the header; absent when the token names none. */
  kid?: string;
  /** The exact bytes the signature covers (COSE Sig_structure, or the JWS signing input). */
  signingInput: Uint8Array;
  signature: Uint8Array;
  /** The signed payload: CBOR claims for a CWT, JSON claims for a JWT (not parsed until the signature holds). */
  payload: Uint8Array;
}

/** Why a token was refused, with a short detail for logs (never the token itself). */
export interface Refusal {
  reason: PassReason;
  detail: string;
}

export type Decoded<T> = { ok: true; value: T } | ({ ok: false } & Refusal);

export function refuse(reason: PassReason, detail: string): { ok: false } & Refusal {
  return { ok: false, reason, detail };
}
