import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ADMIN_TOKEN_FILE,
  bearerMatches,
  loadOrCreateAdminToken,
  rotateAdminToken,
  tokensEqual,
} from '../../../src/admin/auth.js';
import { isPortierError } from '../../../src/core/errors.js';
import { createLogger } from '../../../src/core/logger.js';

let dir: string;
let logText: string[];
let log: ReturnType<typeof createLogger>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portier-auth-'));
  logText = [];
  log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, cb) {
        logText.push(String(chunk));
        cb();
      },
    }),
  });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const modeOf = (path: string): number => statSync(path).mode & 0o777;

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return isPortierError(err) ? err.context.reason : err;
  }
  return 'no error';
}

describe('loadOrCreateAdminToken', () => {
  it('generates 32 random bytes as base64url into <state_dir>/admin-token with mode 0600 on first start', () => {
    const t = loadOrCreateAdminToken(dir, log);
    expect(t.created).toBe(true);
    expect(t.path).toBe(join(dir, ADMIN_TOKEN_FILE));
    expect(t.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(t.token, 'base64url')).toHaveLength(32);
    expect(readFileSync(t.path, 'utf8')).toBe(`${t.token}\n`);
    expect(modeOf(t.path)).toBe(0o600);
  });

  it('writes mode 0600 even under a permissive umask', () => {
    const old = process.umask(0);
    try {
      const t = loadOrCreateAdminToken(dir);
      expect(modeOf(t.path)).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('creates the state directory when it does not exist yet', () => {
    const nested = join(dir, 'var', 'lib', 'portier');
    const t = loadOrCreateAdminToken(nested);
    expect(t.path).toBe(join(nested, ADMIN_TOKEN_FILE));
    expect(existsSync(t.path)).toBe(true);
  });

  it('reads the same token back on the next start', () => {
    const first = loadOrCreateAdminToken(dir);
    const second = loadOrCreateAdminToken(dir, log);
    expect(second).toEqual({ token: first.token, path: first.path, created: false });
  });

  it('gives every gateway its own token', () => {
    const other = mkdtempSync(join(tmpdir(), 'portier-auth-'));
    try {
      expect(loadOrCreateAdminToken(dir).token).not.toBe(loadOrCreateAdminToken(other).token);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('narrows a file readable by others to 0600, keeps the token, and warns without logging it', () => {
    const first = loadOrCreateAdminToken(dir);
    chmodSync(first.path, 0o644);
    const again = loadOrCreateAdminToken(dir, log);
    expect(again).toEqual({ token: first.token, path: first.path, created: false, fixedMode: 0o644 });
    expect(modeOf(first.path)).toBe(0o600);
    const lines = logText.join('');
    expect(lines).toMatch(/mode set to 0600/);
    expect(lines).toMatch(/"mode":"0644"/);
    expect(lines).not.toContain(first.token);
  });

  it('narrows a group-readable file too (0640)', () => {
    const first = loadOrCreateAdminToken(dir);
    chmodSync(first.path, 0o640);
    expect(loadOrCreateAdminToken(dir).fixedMode).toBe(0o640);
    expect(modeOf(first.path)).toBe(0o600);
  });

  it('never writes the token to the log when generating it', () => {
    const t = loadOrCreateAdminToken(dir, log);
    expect(logText.join('')).toMatch(/generated the admin API token/);
    expect(logText.join('')).not.toContain(t.token);
  });

  it('accepts a token an operator put there themselves, if it is long enough', () => {
    const own = 'operator-chosen_token-0123456789abcdefXYZ';
    writeFileSync(join(dir, ADMIN_TOKEN_FILE), `${own}\n`, { mode: 0o600 });
    expect(loadOrCreateAdminToken(dir).token).toBe(own);
  });

  it('refuses malformed contents (empty, short, or not base64url) instead of replacing them', () => {
    const path = join(dir, ADMIN_TOKEN_FILE);
    for (const bad of ['', 'short', 'has spaces in it and is otherwise long enough!!']) {
      writeFileSync(path, bad, { mode: 0o600 });
      expect(reasonOf(() => loadOrCreateAdminToken(dir))).toBe('admin_token_malformed');
      expect(readFileSync(path, 'utf8')).toBe(bad);
    }
  });

  it('refuses to follow a symlink planted at the token path', () => {
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'A'.repeat(43), { mode: 0o644 });
    symlinkSync(target, join(dir, ADMIN_TOKEN_FILE));
    expect(reasonOf(() => loadOrCreateAdminToken(dir))).toBe('admin_token_symlink');
    expect(modeOf(target)).toBe(0o644);
  });

  it('refuses a directory at the token path', () => {
    mkdirSync(join(dir, ADMIN_TOKEN_FILE));
    expect(reasonOf(() => loadOrCreateAdminToken(dir))).toBe('admin_token_not_a_file');
  });

  it('removes temp files left by a process that died during a first start, but not those of a live one', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid; // a pid that has exited
    const live = `${ADMIN_TOKEN_FILE}.tmp-${process.ppid}-cafebabe`;
    writeFileSync(join(dir, `${ADMIN_TOKEN_FILE}.tmp-${dead}-deadbeef`), 'half');
    writeFileSync(join(dir, live), 'in progress');
    loadOrCreateAdminToken(dir);
    expect(readdirSync(dir).sort()).toEqual([ADMIN_TOKEN_FILE, live].sort());
  });
});

describe('rotateAdminToken', () => {
  it('replaces the token atomically with a new one of mode 0600 that the next start reads', () => {
    const old = loadOrCreateAdminToken(dir);
    const rotated = rotateAdminToken(dir, log);
    expect(rotated.token).not.toBe(old.token);
    expect(modeOf(rotated.path)).toBe(0o600);
    expect(loadOrCreateAdminToken(dir).token).toBe(rotated.token);
    expect(readdirSync(dir)).toEqual([ADMIN_TOKEN_FILE]);
    expect(logText.join('')).not.toContain(rotated.token);
  });
});

describe('tokensEqual', () => {
  const token = 'q2Jc7Qm0y4yq3vQy2mX3m0hH3eQmF1VZr9b7m2xk5tA';
  it('is true only for the identical string', () => {
    expect(tokensEqual(token, token)).toBe(true);
    expect(tokensEqual(`${token.slice(0, -1)}B`, token)).toBe(false);
    expect(tokensEqual(token.slice(0, -1), token)).toBe(false);
    expect(tokensEqual(`${token}x`, token)).toBe(false);
    expect(tokensEqual('', token)).toBe(false);
    expect(tokensEqual(token.toLowerCase(), token)).toBe(false);
  });
});

describe('bearerMatches', () => {
  const token = 'q2Jc7Qm0y4yq3vQy2mX3m0hH3eQmF1VZr9b7m2xk5tA';
  it('accepts "Bearer <token>" with the scheme in any case', () => {
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`BEARER  ${token}`, token)).toBe(true);
  });

  it('refuses a missing header, another scheme, a bare scheme, a wrong or padded-out token', () => {
    expect(bearerMatches(undefined, token)).toBe(false);
    expect(bearerMatches(`Basic ${token}`, token)).toBe(false);
    expect(bearerMatches('Bearer', token)).toBe(false);
    expect(bearerMatches('Bearer ', token)).toBe(false);
    expect(bearerMatches(`Bearer ${token}x`, token)).toBe(false);
    expect(bearerMatches(`Bearer ${token} extra`, token)).toBe(false);
    expect(bearerMatches(token, token)).toBe(false);
  });
});
