import { closeSync, constants, fchmodSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The daemon marks the state directory it runs on with `daemon.pid` (0600, its pid), written at start and removed
 * when it exits. `portier restore` refuses while that pid is alive. A pid file left by a crash names a dead process
 * (or, rarely, a reused pid: then restore refuses until the file is removed by hand, the safe side).
 */
export const PID_FILE = 'daemon.pid';

/** Write this process's pid into `stateDir`; the returned function (also run at exit) removes it. */
export function markDaemonRunning(stateDir: string): () => void {
  const path = join(stateDir, PID_FILE);
  rmSync(path, { force: true });
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  const release = (): void => {
    if (runningDaemon(stateDir) === process.pid) rmSync(path, { force: true });
  };
  process.once('exit', release);
  return release;
}

/** The pid of a live daemon on `stateDir`, or undefined. */
export function runningDaemon(stateDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(stateDir, PID_FILE), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, but another user's (the portier user's daemon seen by an operator's shell).
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
