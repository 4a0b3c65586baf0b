import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * The file system under the state directory: its real free space (statfs), and the reserve file that holds space
 * for the commits that must never fail (access decisions, alarms). Deleting the reserve is how a full disk makes
 * room for one more decision; it is written again, with real blocks (not a sparse file), when space returns.
 */

/** The reserve file's name in the state directory. */
export const RESERVE_FILE = 'portier.reserve';

/** bytes written per call while filling the reserve */
const CHUNK = 64 * 1024;

/** True for the errors a full disk gives: SQLite's SQLITE_FULL (also when it grows its shared-memory file), ENOSPC. */
export function isDiskFull(err: unknown): boolean {
  if (err instanceof PortierError) return err.code === ErrorCode.StoreFull;
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE' || code === 'ENOSPC';
}

/** bytes an unprivileged process may still write on the file system holding `dir` (statfs `bavail × bsize`). */
export function freeBytesAt(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** bytes of the reserve file in `stateDir` (0 when there is none). */
export function reserveSize(stateDir: string): number {
  try {
    return statSync(join(stateDir, RESERVE_FILE)).size;
  } catch {
    return 0;
  }
}

/** Delete the reserve file; returns the bytes given back to the file system (0 when there was none). */
export function releaseReserve(stateDir: string): number {
  const size = reserveSize(stateDir);
  if (size === 0 && !existsSync(join(stateDir, RESERVE_FILE))) return 0;
  unlinkSync(join(stateDir, RESERVE_FILE));
  return size;
}

/**
 * Write the reserve file with `bytes` of zeros (real blocks, synced), under a temporary name renamed at the end, so
 * a reserve that did not fit leaves nothing behind. Returns false when the disk had no room for it.
 */
export function createReserve(stateDir: string, bytes: number): boolean {
  const tmp = join(stateDir, `${RESERVE_FILE}.tmp`);
  const zeros = Buffer.alloc(Math.min(CHUNK, bytes));
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w', 0o600);
    for (let left = bytes; left > 0; left -= zeros.length) {
      writeSync(fd, zeros, 0, Math.min(zeros.length, left));
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, join(stateDir, RESERVE_FILE));
    return true;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    if (isDiskFull(err)) return false;
    throw err;
  }
}
