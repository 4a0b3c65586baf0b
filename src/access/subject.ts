import { createHmac, randomBytes } from 'node:crypto';
import type { MetaStore } from '../store/meta.js';

const META_SUBJECT_KEY = 'access.subject_key';

/**
 * Pseudonymous subjects for decision events: HMAC-SHA-256 of the pass's `sub`, keyed by a secret that this gateway
 * makes once and keeps in the store's meta table. The cloud can count a holder's openings at one gateway but
 * cannot recover the `sub`, and two gateways give the same holder unlinkable pseudonyms.
 */
export class SubjectHasher {
  private readonly key: Buffer;

  constructor(meta: MetaStore) {
    const stored = meta.get(META_SUBJECT_KEY);
    if (stored && /^[0-9a-f]{64}$/.test(stored)) this.key = Buffer.from(stored, 'hex');
    else {
      this.key = randomBytes(32);
      meta.set(META_SUBJECT_KEY, this.key.toString('hex'));
    }
  }

  /** 128 bits of the HMAC as base64url (22 characters). */
  pseudonym(sub: string): string {
    return createHmac('sha256', this.key).update(sub, 'utf8').digest().subarray(0, 16).toString('base64url');
  }
}
