import type { Database, Statement } from 'better-sqlite3';
import { type IssuerKey, importIssuerKey, Keyring, parseJwks } from '../access/keyring.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import type { MetaStore } from './meta.js';

/** Meta keys: bumped on every change, so a running gateway notices a change made by the CLI in another process. */
export const META_KEYRING_VERSION = 'access.keyring_version';
export const META_REVOCATION_VERSION = 'access.revocation_version';
/** The last revocation list version received from the cloud, kept apart from the local list version. */
export const META_REVOCATION_CLOUD_VERSION = 'access.revocation_cloud_version';

function bump(meta: MetaStore, key: string): number {
  const next = Number(meta.get(key) ?? '0') + 1;
  meta.set(key, String(next));
  return next;
}

export interface StoredKey {
  kid: string;
  alg: string;
  kty: string;
  addedAt: string;
}

/** The issuer keyring in SQLite (`keys import|list|remove`). */
export class KeyStore {
  constructor(
    private readonly db: Database,
    private readonly meta: MetaStore,
  ) {}

  /**
   * Add or replace the keys of a JWK Set. Refuses private keys and a set with no usable key; unusable entries of
   * an otherwise good set are reported in `skipped`.
   */
  importJwks(
    doc: unknown,
    at = new Date().toISOString(),
  ): { imported: string[]; skipped: Array<{ index: number; reason: string }> } {
    const { keys, skipped } = parseJwks(doc);
    const privateKey = skipped.find((s) => s.reason.includes('private key'));
    if (privateKey) throw new PortierError(ErrorCode.AccessKeyInvalid, privateKey.reason);
    if (keys.length === 0) {
      throw new PortierError(
        ErrorCode.AccessKeyInvalid,
        `no usable key in the set${skipped[0] ? `: ${skipped[0].reason}` : ''}`,
      );
    }
    const upsert = this.db.prepare(
      `INSERT INTO access_keys (kid, alg, jwk, added_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(kid) DO UPDATE SET alg = excluded.alg, jwk = excluded.jwk, added_at = excluded.added_at`,
    );
    this.db.transaction(() => {
      for (const k of keys) upsert.run(k.kid, k.alg, JSON.stringify(k.jwk), at);
      bump(this.meta, META_KEYRING_VERSION);
    })();
    return { imported: keys.map((k) => k.kid), skipped };
  }

  list(): StoredKey[] {
    const rows = this.db.prepare('SELECT kid, alg, jwk, added_at FROM access_keys ORDER BY kid').all() as Array<{
      kid: string;
      alg: string;
      jwk: string;
      added_at: string;
    }>;
    return rows.map((r) => ({
      kid: r.kid,
      alg: r.alg,
      kty: (JSON.parse(r.jwk) as { kty: string }).kty,
      addedAt: r.added_at,
    }));
  }

  remove(kid: string): void {
    this.db.transaction(() => {
      const res = this.db.prepare('DELETE FROM access_keys WHERE kid = ?').run(kid);
      if (res.changes === 0) throw new PortierError(ErrorCode.AccessKeyInvalid, `no issuer key "${kid}"`);
      bump(this.meta, META_KEYRING_VERSION);
    })();
  }

  version(): number {
    return Number(this.meta.get(META_KEYRING_VERSION) ?? '0');
  }

  /** Import every stored key once (a stored key that no longer imports is skipped rather than stopping the door). */
  load(): Keyring {
    const rows = this.db.prepare('SELECT jwk FROM access_keys').all() as Array<{ jwk: string }>;
    const keys: IssuerKey[] = [];
    for (const r of rows) {
      try {
        keys.push(importIssuerKey(JSON.parse(r.jwk)));
      } catch {
        // validated on import; only a hand-edited row lands here
      }
    }
    return new Keyring(keys);
  }
}

export interface Revocation {
  kind: 'pass' | 'sub';
  value: string;
  reason?: string;
  addedAt: string;
}

/**
 * The revocation list: pass ids and subjects that must not open anything any more. Every change raises the list
 * version, which every decision records, so an auditor can tell which list a door used.
 */
export class RevocationStore {
  private readonly hasPass: Statement;
  private readonly hasSub: Statement;

  constructor(
    private readonly db: Database,
    private readonly meta: MetaStore,
  ) {
    this.hasPass = db.prepare("SELECT 1 FROM access_revocations WHERE kind = 'pass' AND value = ?").pluck();
    this.hasSub = db.prepare("SELECT 1 FROM access_revocations WHERE kind = 'sub' AND value = ?").pluck();
  }

  /** Revoke a pass id or a subject; returns the new list version (unchanged if it was already revoked). */
  revoke(kind: 'pass' | 'sub', value: string, reason?: string, at = new Date().toISOString()): number {
    if (!value || value.length > 256) throw new PortierError(ErrorCode.AccessMalformed, `bad ${kind} to revoke`);
    return this.db.transaction(() => {
      const res = this.db
        .prepare('INSERT OR IGNORE INTO access_revocations (kind, value, reason, added_at) VALUES (?, ?, ?, ?)')
        .run(kind, value, reason ?? null, at);
      return res.changes ? bump(this.meta, META_REVOCATION_VERSION) : this.version();
    })();
  }

  /** Lift a revocation; returns the new list version. */
  unrevoke(kind: 'pass' | 'sub', value: string): number {
    return this.db.transaction(() => {
      const res = this.db.prepare('DELETE FROM access_revocations WHERE kind = ? AND value = ?').run(kind, value);
      if (res.changes === 0) throw new PortierError(ErrorCode.AccessMalformed, `${kind} "${value}" is not revoked`);
      return bump(this.meta, META_REVOCATION_VERSION);
    })();
  }

  /**
   * Replace the whole list with one from the cloud. `cloudVersion` must be above the last one applied (a
   * redelivered or reordered update is ignored and returns false).
   */
  replaceFromCloud(
    list: { version: number; passes: string[]; subjects: string[] },
    at = new Date().toISOString(),
  ): boolean {
    return this.db.transaction(() => {
      const last = Number(this.meta.get(META_REVOCATION_CLOUD_VERSION) ?? '-1');
      if (list.version <= last) return false;
      this.db.prepare('DELETE FROM access_revocations').run();
      const ins = this.db.prepare(
        "INSERT OR IGNORE INTO access_revocations (kind, value, reason, added_at) VALUES (?, ?, 'cloud', ?)",
      );
      for (const p of list.passes) ins.run('pass', p, at);
      for (const s of list.subjects) ins.run('sub', s, at);
      this.meta.set(META_REVOCATION_CLOUD_VERSION, String(list.version));
      bump(this.meta, META_REVOCATION_VERSION);
      return true;
    })();
  }

  isRevoked(passId: string, sub: string | undefined): boolean {
    if (this.hasPass.get(passId) !== undefined) return true;
    return sub !== undefined && this.hasSub.get(sub) !== undefined;
  }

  version(): number {
    return Number(this.meta.get(META_REVOCATION_VERSION) ?? '0');
  }

  list(): Revocation[] {
    const rows = this.db
      .prepare('SELECT kind, value, reason, added_at FROM access_revocations ORDER BY added_at, value')
      .all() as Array<{ kind: 'pass' | 'sub'; value: string; reason: string | null; added_at: string }>;
    return rows.map((r) => ({
      kind: r.kind,
      value: r.value,
      addedAt: r.added_at,
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  }
}
