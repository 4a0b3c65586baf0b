import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';

/** A small tmpfs mounted for one test file: a disk that really fills. Needs root (CI and the dev machine are). */
export interface SmallDisk {
  dir: string;
  /** Unmount (lazily, so a process still holding a file there cannot keep it mounted). */
  unmount(): void;
}

/** Mount a tmpfs of `size` (e.g. "16m") on `dir`, or say why not (not root, no mount permission). */
export function mountSmallDisk(dir: string, size: string): SmallDisk | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: `not root (uid ${process.getuid?.()}): cannot mount a tmpfs` };
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    return { reason: `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    },
  };
}

/**
 * Fill the file system holding `path` to the last block with one file, as another program would (a runaway log);
 * returns the bytes written. Delete the file to give the space back.
 */
export function fillDisk(path: string): number {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const fd = openSync(path, 'a');
  let written = 0;
  try {
    for (let size = chunk.length; size >= 512; ) {
      try {
        written += writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
        size /= 2;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

export function removeFiller(path: string): void {
  unlinkSync(path);
}
