import { generateKeyPairSync } from 'node:crypto';
import { importSigningKey, type SigningKey } from '../../../src/access/issue.js';

/** A fresh Ed25519 issuer for one test: the signing key, and its public JWK Set to import into a gateway. */
export function makeIssuer(kid = 'test-issuer'): {
  signing: SigningKey;
  jwks: { keys: Array<Record<string, unknown>> };
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const priv = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const pub = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return {
    signing: importSigningKey({ ...priv, kid, alg: 'EdDSA' }),
    jwks: { keys: [{ ...pub, kid, alg: 'EdDSA', use: 'sig' }] },
  };
}
