import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ErrorCode, PortierError } from '../core/errors.js';
import { ensurePrivateDir } from '../store/private-files.js';

/**
 * The local admin API's bearer token: 32 random bytes, base64url, in `<state_dir>/admin-token` with mode 0600.
 * Generated on first start, read back on every later one, so an operator on the Pi can `sudo cat` it; never logged.
 */

export const ADMIN_TOKEN_FILE = 'admin-token';
/** random bytes in a generated token (256 bits) */
export const ADMIN_TOKEN_BYTES = 32;
/** Accepted tokens: base64url, 32-512 characters (an operator may put a longer one of their own). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,512}$/;
const TMP_PREFIX = `${ADMIN_TOKEN_FILE}.tmp-`;

export interface AdminToken {
  /** The secret itself: compare with tokensEqual(), never log it. */
  token: string;
  path: string;
  /** True when this call generated the token. */
  created: boolean;
  /** Set when the file was readable by others and its mode was narrowed to 0600 (the old mode, e.g. 0o644). */
  fixedMode?: number;
}

/** A new token: ADMIN_TOKEN_BYTES from the CSPRNG, base64url without padding (43 characters). */
export function generateAdminToken(): string {
  return randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
}

/**
 * Read the admin token from the state directory, generating it on first start. A file open to group or others is
 * narrowed to 0600 (and reported in `fixedMode`); a symlink, a non-file, or malformed contents are refused with a
 * PortierError, since a token someone else may have read or planted must not be trusted silently.
 */
export function loadOrCreateAdminToken(stateDir: string, log?: Logger): AdminToken {
  const path = join(stateDir, ADMIN_TOKEN_FILE);
  const existing = readToken(path, log);
  if (existing) return existing;
  ensurePrivateDir(stateDir, log);
  removeStaleTemps(stateDir);
  const token = generateAdminToken();
  // Write a temp file completely, then link it into place: a crash never leaves a half-written token, and link()
  // fails if another process created the token first (then theirs wins and is read back).
  const tmp = writeTemp(stateDir, token);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  const written = readToken(path, log);
  if (!written) throw new PortierError(ErrorCode.ConfigInvalid, `admin token at ${path} vanished while starting`);
  if (written.token !== token) return written;
  log?.info({ path }, 'generated the admin API token (read it with: sudo cat the file)');
  return { ...written, created: true };
}

/**
 * Replace the token with a new one (e.g. after it leaked). Atomic: readers see the old or the new token, never
 * a partial one. Clients holding the old token are refused from the next request on.
 */
export function rotateAdminToken(stateDir: string, log?: Logger): AdminToken {
  ensurePrivateDir(stateDir, log);
  const path = join(stateDir, ADMIN_TOKEN_FILE);
  const token = generateAdminToken();
  const tmp = writeTemp(stateDir, token);
  renameSync(tmp, path);
  log?.warn({ path }, 'admin API token rotated');
  return { token, path, created: true };
}

function writeTemp(stateDir: string, token: string): string {
  const tmp = join(stateDir, `${TMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  // O_EXCL: never write through a file or symlink that is already there. Mode 0600 before any byte is written.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask can only narrow the mode; this makes it exact
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Remove temp files left by a process that died while creating the token; another live starter's are kept. */
function removeStaleTemps(stateDir: string): void {
  for (const name of readdirSync(stateDir)) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const pid = Number(name.slice(TMP_PREFIX.length).split('-')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) continue;
    try {
      unlinkSync(join(stateDir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Read the token file if there is one; undefined when it does not exist. */
function readToken(path: string, log?: Logger): AdminToken | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      throw new PortierError(ErrorCode.ConfigInvalid, `admin token ${path} is a symlink; refusing to follow it`, {
        reason: 'admin_token_symlink',
        path,
      });
    }
    throw new PortierError(ErrorCode.ConfigInvalid, `cannot open admin token ${path}: ${code ?? String(err)}`, {
      reason: 'admin_token_unreadable',
      path,
    });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new PortierError(ErrorCode.ConfigInvalid, `admin token ${path} is not a regular file`, {
        reason: 'admin_token_not_a_file',
        path,
      });
    }
    const mode = st.mode & 0o777;
    let fixedMode: number | undefined;
    if ((mode & 0o077) !== 0) {
      try {
        fchmodSync(fd, 0o600);
      } catch (err) {
        throw new PortierError(
          ErrorCode.ConfigInvalid,
          `admin token ${path} has mode 0${mode.toString(8)} and cannot be narrowed to 0600 (owned by someone else?)`,
          { reason: 'admin_token_mode', path },
          { cause: err },
        );
      }
      fixedMode = mode;
      log?.warn(
        { path, mode: `0${mode.toString(8)}` },
        'admin token file was readable by others: mode set to 0600; rotate the token if others could log in',
      );
    }
    const token = readFileSync(fd, 'utf8').trim();
    if (!TOKEN_SHAPE.test(token)) {
      throw new PortierError(
        ErrorCode.ConfigInvalid,
        `admin token ${path} is malformed (expected 32-512 base64url characters); delete it to generate a new one`,
        { reason: 'admin_token_malformed', path },
      );
    }
    return fixedMode === undefined ? { token, path, created: false } : { token, path, created: false, fixedMode };
  } finally {
    closeSync(fd);
  }
}

/**
 * Compare a presented token with the expected one in time independent of where they differ and of their lengths:
 * both are hashed to 32 bytes first, because timingSafeEqual needs equal lengths and an early length check would
 * tell an attacker the token's length.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Check an HTTP `Authorization` header for `Bearer <token>` (RFC 6750, section 2.1; the scheme name is
 * case-insensitive per RFC 9110, section 11.1). False for a missing header, another scheme or a wrong token.
 */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  if (header === undefined) return false;
  const m = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!m) return false;
  return tokensEqual(m[1]!, expected);
}
