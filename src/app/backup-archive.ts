import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { decode, encode } from 'cbor2';
import { ErrorCode, PortierError } from '../core/errors.js';

/**
 * A Portier backup file (`portier backup`, docs/operations.md "Backups"): one CBOR map (RFC 8949) holding every
 * file with its SHA-256, so a damaged or foreign file is told apart before anything is touched:
 *
 *   { format: "portier-backup", version: 1, created: ISO time, host: hostname,
 *     files: [ { role: "state" | "config", name, mode, sha256: hex, data: bytes }, ... ] }
 *
 * `state` files go into the state directory (portier.db, a complete database from SQLite's online backup, and
 * admin-token); `config` files are the config directory's. Never log-mark.json (docs/sync.md, Epochs).
 */
export const BACKUP_FORMAT = 'portier-backup';
export const BACKUP_VERSION = 1;

export interface ArchivedFile {
  role: 'state' | 'config';
  name: string;
  mode: number;
  data: Uint8Array;
}

export interface BackupArchive {
  created: string;
  host: string;
  files: ArchivedFile[];
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Write the archive to `dest` (which must not exist) with mode 0600 whatever the umask, fsynced, atomically. */
export function writeArchive(dest: string, archive: BackupArchive): number {
  const bytes = encode({
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created: archive.created,
    host: archive.host,
    // a Buffer would encode as a map of its indexes: plain Uint8Array views are byte strings
    files: archive.files.map((f) => ({
      ...f,
      data: new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.byteLength),
      sha256: sha256(f.data),
    })),
  });
  const tmp = `${dest}.partial-${process.pid}`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, dest);
  return bytes.length;
}

const invalid = (path: string, why: string): PortierError =>
  new PortierError(ErrorCode.StoreCorrupt, `${path} is not a usable Portier backup: ${why}`);

/** Read and verify an archive: its shape, its version, every file's SHA-256. Throws a specific error otherwise. */
export function readArchive(path: string): BackupArchive {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new PortierError(ErrorCode.StoreCorrupt, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code}`);
  }
  let doc: unknown;
  try {
    doc = decode(bytes);
  } catch (err) {
    throw invalid(path, `not CBOR (${(err as Error).message})`);
  }
  const top = doc as Record<string, unknown> | null;
  if (typeof top !== 'object' || top === null || top.format !== BACKUP_FORMAT) {
    throw invalid(path, `no "format": "${BACKUP_FORMAT}" (another kind of file)`);
  }
  if (top.version !== BACKUP_VERSION) throw invalid(path, `version ${String(top.version)}, expected ${BACKUP_VERSION}`);
  if (!Array.isArray(top.files)) throw invalid(path, 'no file list');
  const files: ArchivedFile[] = [];
  for (const f of top.files as Array<Record<string, unknown>>) {
    const { role, name, mode, data } = f;
    if ((role !== 'state' && role !== 'config') || typeof name !== 'string' || !(data instanceof Uint8Array)) {
      throw invalid(path, 'a file entry without role, name or data');
    }
    if (name.includes('/') || name === '.' || name === '..') throw invalid(path, `file name "${name}" has a path`);
    if (sha256(data) !== f.sha256) throw invalid(path, `${role} file ${name} is damaged (SHA-256 differs)`);
    files.push({ role, name, mode: typeof mode === 'number' ? mode & 0o777 : 0o600, data });
  }
  if (!files.some((f) => f.role === 'state' && f.name === 'portier.db')) throw invalid(path, 'it holds no portier.db');
  return { created: String(top.created), host: String(top.host), files };
}
