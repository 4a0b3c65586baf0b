import { KeyStore, RevocationStore } from '../store/access-store.js';
import { ApiError } from './api-errors.js';
import {
  errorSchema,
  keysImportBody,
  keysImportResponse,
  keysResponse,
  kidParams,
  okResponse,
  passCheckBody,
  passCheckResponse,
  revocationsResponse,
  revocationVersionResponse,
  revokeBody,
  revokeParams,
} from './api-schemas.js';
import type { AdminContext } from './context.js';
import { type AnyRoute, defineRoute } from './route.js';

const E400 = { description: 'Invalid request', schema: errorSchema };
const E404 = { description: 'Not found', schema: errorSchema };

/**
 * Access control for operators: check a pass or PIN without using it, and manage the issuer keyring and the
 * revocation list (the same stores as `portier keys|revoke`; the access service notices changes by version).
 */
export function accessRoutes(ctx: AdminContext): AnyRoute[] {
  const { store } = ctx.gateway;
  const keys = new KeyStore(store.db, store.meta);
  const revocations = new RevocationStore(store.db, store.meta);
  const log = ctx.log.child({ component: 'admin-access' });
  return [
    defineRoute({
      method: 'POST',
      url: '/api/passes/check',
      summary: 'What a lock would decide for a pass or PIN now, as a dry run: nothing recorded, no use consumed',
      tag: 'access',
      auth: 'bearer',
      body: passCheckBody,
      responses: { 200: { description: 'The decision it would make', schema: passCheckResponse }, 400: E400 },
      handler: ({ body }) => {
        const lockConfig = ctx.gateway.store.devices.get(body.lock)?.config ?? {};
        const groups = Array.isArray(lockConfig.groups) ? (lockConfig.groups as unknown[]).map(String) : [];
        const timeUnknown = lockConfig.time_unknown === 'allow' ? 'allow' : 'deny';
        const result = ctx.passes.check({ ...body, lockGroups: groups, timeUnknown });
        // Never the credential itself: only what was decided about it.
        log.info({ lock: body.lock, credential: result.credential, reason: result.reason }, 'pass checked (dry run)');
        return result;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/keys',
      summary: 'Issuer public keys in the keyring',
      tag: 'access',
      auth: 'bearer',
      responses: { 200: { description: 'The keys', schema: keysResponse } },
      handler: () => ({
        keys: keys.list().map((k) => ({ kid: k.kid, alg: k.alg, kty: k.kty, added_at: k.addedAt })),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/keys',
      summary: 'Import issuer public keys (a JWK Set); a key with the same kid is replaced; private keys refused',
      tag: 'access',
      auth: 'bearer',
      body: keysImportBody,
      responses: { 200: { description: 'Imported', schema: keysImportResponse }, 400: E400 },
      handler: ({ body }) => {
        const res = keys.importJwks(body);
        log.info({ imported: res.imported, skipped: res.skipped.length }, 'issuer keys imported');
        return res;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/keys/:kid',
      summary: 'Remove an issuer key; passes signed with it stop opening',
      tag: 'access',
      auth: 'bearer',
      params: kidParams,
      responses: { 200: { description: 'Removed', schema: okResponse }, 404: E404 },
      handler: ({ params }) => {
        if (!keys.list().some((k) => k.kid === params.kid)) {
          throw new ApiError(404, 'not_found', `no issuer key "${params.kid}"`);
        }
        keys.remove(params.kid);
        log.info({ kid: params.kid }, 'issuer key removed');
        return { ok: true as const };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/revocations',
      summary: 'The revocation list and its version',
      tag: 'access',
      auth: 'bearer',
      responses: { 200: { description: 'The list', schema: revocationsResponse } },
      handler: () => ({
        version: revocations.version(),
        revocations: revocations.list().map((r) => ({
          kind: r.kind,
          value: r.value,
          added_at: r.addedAt,
          ...(r.reason ? { reason: r.reason } : {}),
        })),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/revocations',
      summary: 'Revoke a pass id or a subject; returns the new list version',
      tag: 'access',
      auth: 'bearer',
      body: revokeBody,
      responses: { 200: { description: 'Revoked', schema: revocationVersionResponse }, 400: E400 },
      handler: ({ body }) => {
        const version = revocations.revoke(body.kind, body.value, body.reason);
        log.info({ kind: body.kind, version }, 'revoked');
        return { version };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/revocations/:kind/:value',
      summary: 'Lift a revocation',
      tag: 'access',
      auth: 'bearer',
      params: revokeParams,
      responses: { 200: { description: 'Lifted', schema: revocationVersionResponse }, 404: E404 },
      handler: ({ params }) => {
        const listed =
          params.kind === 'pass'
            ? revocations.isRevoked(params.value, undefined)
            : revocations.isRevoked('', params.value);
        if (!listed) throw new ApiError(404, 'not_found', `${params.kind} is not revoked`);
        const version = revocations.unrevoke(params.kind, params.value);
        log.info({ kind: params.kind, version }, 'revocation lifted');
        return { version };
      },
    }),
  ];
}
