import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../admin/auth.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import { backupDatabase, inspectDatabase } from '../store/backup.js';
import { crashJournalPath } from '../store/crash-journal.js';
import { DB_FILE } from '../store/database.js';
import { type EpochReason, MARK_FILE, markRestored } from '../store/log-epoch.js';
import { type ArchivedFile, readArchive, writeArchive } from './backup-archive.js';
import { runningDaemon } from './daemon-lock.js';

/** Config files above this size are not a gateway's config (a firmware image left in /etc/portier): skipped. */
const MAX_CONFIG_FILE = 1 << 20;

export interface BackupResult {
  file: string;
  bytes: number;
  files: Array<{ role: string; name: string; bytes: number }>;
}

/**
 * `portier backup`: the database by SQLite's online backup (the daemon keeps running), the admin token, and the
 * regular files of the config directory, into one archive file of mode 0600 (backup-archive.ts).
 */
export async function createBackup(opts: {
  stateDir: string;
  configDir?: string;
  dest: string;
}): Promise<BackupResult> {
  if (existsSync(opts.dest)) throw new PortierError(ErrorCode.StoreCorrupt, `${opts.dest} exists: give a new file`);
  const work = mkdtempSync(join(dirname(opts.dest), '.portier-backup-'));
  try {
    const copy = join(work, DB_FILE);
    await backupDatabase(opts.stateDir, copy);
    const files: ArchivedFile[] = [{ role: 'state', name: DB_FILE, mode: 0o600, data: readFileSync(copy) }];
    const token = join(opts.stateDir, ADMIN_TOKEN_FILE);
    if (existsSync(token))
      files.push({ role: 'state', name: ADMIN_TOKEN_FILE, mode: 0o600, data: readFileSync(token) });
    if (opts.configDir) {
      for (const name of readdirSync(opts.configDir).sort()) {
        const st = statSync(join(opts.configDir, name));
        if (!st.isFile() || st.size > MAX_CONFIG_FILE) continue;
        files.push({ role: 'config', name, mode: st.mode & 0o777, data: readFileSync(join(opts.configDir, name)) });
      }
    }
    const bytes = writeArchive(opts.dest, { created: new Date().toISOString(), host: hostname(), files });
    return { file: opts.dest, bytes, files: files.map((f) => ({ role: f.role, name: f.name, bytes: f.data.length })) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface RestoreResult {
  stateDir: string;
  /** where the state directory it replaced was moved (kept, never deleted) */
  keptAside?: string;
  configKeptAside: string[];
  /** the replaced state's crash journals (events its daemon had not committed), moved to where the state was kept */
  journalsKeptAside: string[];
  created: string;
  /** why the daemon's next start begins a new log epoch (the `log_epoch_started` alarm) */
  epochReason: EpochReason;
}

/**
 * `portier restore`: verify the archive and its database first (a damaged or foreign file changes nothing), refuse
 * while a daemon runs on the state directory, move the old state directory aside with a timestamp, and put the
 * backup's state files in a new one, owned as the old one was. The old directory's log-mark.json is kept in the new
 * one (never the backup's: there is none), so the next start records `log_epoch_started` (docs/sync.md, Epochs).
 * Config files are restored only into `configDir` when given; files they replace are renamed, not deleted.
 *
 * The replaced state's crash journal (events its daemon had not yet committed when it stopped or died, in one of
 * `journalDirs`: /run/portier under systemd) belongs to that state, not to the backup's: it goes aside with the old
 * state, so the next start does not replay it into the restored log.
 */
export function restoreBackup(opts: {
  file: string;
  stateDir: string;
  configDir?: string;
  journalDirs?: readonly string[];
  now?: Date;
}): RestoreResult {
  const archive = readArchive(opts.file);
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const parent = dirname(opts.stateDir);
  mkdirSync(parent, { recursive: true });
  const work = mkdtempSync(join(parent, '.portier-restore-'));
  try {
    const db = archive.files.find((f) => f.role === 'state' && f.name === DB_FILE)!;
    writeFileSync(join(work, DB_FILE), db.data, { mode: 0o600 });
    const summary = inspectDatabase(join(work, DB_FILE));
    if (summary.check !== 'ok') {
      throw new PortierError(ErrorCode.StoreCorrupt, `${opts.file}: its database fails the check: ${summary.check}`);
    }
    const pid = runningDaemon(opts.stateDir);
    if (pid !== undefined) {
      throw new PortierError(
        ErrorCode.StoreNotOwner,
        `a Portier daemon (pid ${pid}) runs on ${opts.stateDir}: stop it first (sudo systemctl stop portier)`,
      );
    }
    for (const f of archive.files) {
      if (f.role === 'state' && f.name !== DB_FILE) writeFileSync(join(work, f.name), f.data, { mode: 0o600 });
    }
    const result: RestoreResult = {
      stateDir: opts.stateDir,
      configKeptAside: [],
      journalsKeptAside: [],
      created: archive.created,
      epochReason: 'mark_missing',
    };
    let owner: { uid: number; gid: number } | undefined;
    if (existsSync(opts.stateDir)) {
      const st = statSync(opts.stateDir);
      owner = { uid: st.uid, gid: st.gid };
      result.keptAside = `${opts.stateDir}.before-restore-${stamp}`;
      const journals = (opts.journalDirs ?? []).map((d) => crashJournalPath(d, opts.stateDir));
      renameSync(opts.stateDir, result.keptAside);
      result.journalsKeptAside = moveJournals(journals, result.keptAside);
      const mark = join(result.keptAside, MARK_FILE);
      if (existsSync(mark)) copyFileSync(mark, join(work, MARK_FILE));
    }
    renameSync(work, opts.stateDir);
    if (owner) chownTree(opts.stateDir, owner);
    result.epochReason = markRestored(opts.stateDir, summary);
    if (opts.configDir) result.configKeptAside = restoreConfig(archive.files, opts.configDir, stamp, owner);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Move each existing journal file into `dir` (across file systems: /run is a tmpfs), returning the new paths. */
function moveJournals(files: readonly string[], dir: string): string[] {
  const moved: string[] = [];
  for (const file of new Set(files)) {
    if (!existsSync(file)) continue;
    const to = join(dir, basename(file));
    copyFileSync(file, to);
    chmodSync(to, 0o600);
    rmSync(file);
    moved.push(to);
  }
  return moved;
}

function restoreConfig(
  files: ArchivedFile[],
  dir: string,
  stamp: string,
  owner: { uid: number; gid: number } | undefined,
): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const kept: string[] = [];
  for (const f of files.filter((x) => x.role === 'config')) {
    const path = join(dir, f.name);
    if (existsSync(path)) {
      if (readFileSync(path).equals(f.data)) continue;
      kept.push(`${path}.before-restore-${stamp}`);
      renameSync(path, kept.at(-1)!);
    }
    writeFileSync(path, f.data, { mode: f.mode });
    if (owner && process.getuid?.() === 0) chownSync(path, 0, owner.gid);
  }
  return kept;
}

function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  if (process.getuid?.() !== 0) return;
  chownSync(dir, owner.uid, owner.gid);
  for (const name of readdirSync(dir)) chownSync(join(dir, name), owner.uid, owner.gid);
}
