import { chmodSync, closeSync, constants, fchmodSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * Files that hold secrets (the database with its PIN secrets and subject key, the admin token, broker passwords)
 * are the gateway user's alone: directories 0700, files 0600, whatever the umask of whoever started the process
 * (systemd's UMask, a shell's 022, the demo). Modes are set explicitly, since a umask can only narrow them.
 */

/** Bits that give group or others any access. */
const OPEN_TO_OTHERS = 0o077;

/**
 * Create `dir` (and missing parents) with mode 0700. An existing directory of ours that group or others may enter
 * is narrowed to 0700, with a warning; one owned by another user is left as it is (we could not change it).
 */
export function ensurePrivateDir(dir: string, log?: Logger): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & OPEN_TO_OTHERS) === 0) return;
  if (process.getuid && st.uid !== process.getuid()) {
    log?.warn({ dir, mode: modeText(st.mode) }, 'state directory is open to others and not ours to narrow');
    return;
  }
  chmodSync(dir, 0o700);
  log?.warn({ dir, was: modeText(st.mode) }, 'state directory was open to others: mode set to 0700');
}

/** Narrow an existing file of ours to 0600 (a database written by an older version under umask 022); no-op if missing. */
export function narrowToOwner(path: string, log?: Logger): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return;
  }
  if ((mode & OPEN_TO_OTHERS) === 0) return;
  chmodSync(path, mode & 0o700);
  log?.warn({ path, was: modeText(mode) }, 'file was readable by others: mode narrowed to the owner');
}

/** Create `path` empty with mode 0600 if it does not exist (never through a symlink). */
export function touchPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

/** Write a new file with mode 0600; fails if it exists (O_EXCL), never writes through a symlink. */
export function writePrivateFile(path: string, text: string): void {
  writeNewFile(path, text, 0o600);
}

/**
 * Write a new file with exactly `mode` (a public key to hand out is 0644 even under the CLI's umask 077); fails if
 * it exists (O_EXCL), never writes through a symlink.
 */
export function writeNewFile(path: string, text: string, mode: number): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Open `path` for appending (`empty`: emptied first), created with mode 0600 and narrowed to it if it exists, never
 * through a symlink; returns the descriptor. Every write goes to the end, even after the file was truncated.
 */
export function openPrivateFile(path: string, empty = false): number {
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    constants.O_APPEND |
    (empty ? constants.O_TRUNC : 0);
  const fd = openSync(path, flags, 0o600);
  try {
    fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}
