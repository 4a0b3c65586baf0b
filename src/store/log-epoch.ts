import { closeSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { ulid } from 'ulid';
import { MetaStore } from './meta.js';

/**
 * Log epochs (docs/sync.md, "Epochs"). Every event carries the `epoch` of the log it was numbered in, and
 * `(gw, epoch, seq)` never names two events. A database gets a new epoch when it is created (also after a
 * quarantine), and whenever the gateway cannot prove that its log still holds every seq that may have left it: a
 * restored older copy, a WAL cut by a power loss, an unclean stop.
 *
 * The proof is a high-water mark kept OUTSIDE the database, in the state directory (`log-mark.json`, 0600, written
 * atomically and fsynced): no seq above the mark is ever given to an event, and the mark is raised in chunks of
 * MARK_CHUNK before that happens (one fsync per chunk, not per event). A clean stop lowers it to the last seq. At
 * start, a log that ends below the mark of its own epoch, or a mark that names another epoch, starts a new epoch.
 */

/** The mark file in the state directory. Never restore it from a backup: it is what tells a restored log apart. */
export const MARK_FILE = 'log-mark.json';
/** seqs reserved ahead per raise of the mark (one fsync per chunk) */
export const MARK_CHUNK = 10_000;

const META_EPOCH = 'log_epoch';
const META_FIRST_SEQ = 'log_epoch_first_seq';
/** Events stored before epochs existed (no `epoch` in their JSON): `{epoch, below}`, added when they are sent. */
const META_LEGACY = 'log_epoch_legacy';

/** Why a new epoch started (also the `reason` of the `log_epoch_started` alarm). */
export type EpochReason =
  /** a database without an epoch: new, or made by a Portier before epochs */
  | 'new_database'
  /** the previous database failed its integrity check and was moved aside; numbering restarts at 1 */
  | 'database_quarantined'
  /** the mark names another epoch: the database file was replaced (a restored backup, a copied file) */
  | 'database_replaced'
  /** the database has an epoch but the state directory has no mark: nothing proves what left the gateway */
  | 'mark_missing'
  /** after a clean stop the log ends below the mark: a restored older copy of this log */
  | 'log_truncated'
  /** the last run did not stop cleanly, and the log may have lost a tail that had already left (WAL cut) */
  | 'unclean_stop';

/** A new epoch, as the `log_epoch_started` alarm reports it. */
export interface EpochStart {
  epoch: string;
  reason: EpochReason;
  /** first seq numbered in the new epoch */
  first_seq: number;
  /** the epoch the mark file named, if any */
  previous_epoch?: string;
  /** what the mark said may have left the gateway in the previous epoch (seqs up to it) */
  previous_mark?: number;
}

interface MarkRecord {
  v: 1;
  epoch: string;
  /** no seq above it was given to an event of this epoch */
  mark: number;
  /** written by a clean stop: `mark` is then exactly the last seq */
  clean: boolean;
}

/** The mark file of one state directory, raised before any seq above it is given out. */
export class SeqMark {
  private readonly path: string;
  private reserved: number;

  constructor(
    stateDir: string,
    readonly epoch: string,
    reserved: number,
  ) {
    this.path = join(stateDir, MARK_FILE);
    this.reserved = reserved;
  }

  /** Make sure `seq` is at or below the mark, raising it (one fsync) when not. */
  reserve(seq: number): void {
    if (seq <= this.reserved) return;
    const mark = seq + MARK_CHUNK;
    writeMark(this.path, { v: 1, epoch: this.epoch, mark, clean: false });
    this.reserved = mark;
  }

  /** After a clean stop: the log ends exactly at `lastSeq`. */
  closeClean(lastSeq: number): void {
    writeMark(this.path, { v: 1, epoch: this.epoch, mark: lastSeq, clean: true });
    this.reserved = lastSeq;
  }
}

export interface LogEpoch {
  epoch: string;
  /** Set when this open started a new epoch. */
  started?: EpochStart;
  /** The mark to raise before numbering (only for the process that owns the log). */
  mark?: SeqMark;
  /** Events at or above `below` carry the epoch in their JSON; older ones are sent with `epoch` added. */
  legacy?: { epoch: string; below: number };
}

/**
 * Decide the epoch of the log at start and arm the mark (the process that numbers events: the daemon, a test's
 * gateway). Must run before the first event is numbered.
 */
export function openLogEpoch(db: Database, stateDir: string, opts: { quarantined: boolean }): LogEpoch {
  const meta = new MetaStore(db);
  const current = meta.get(META_EPOCH);
  const last = (db.prepare('SELECT MAX(seq) FROM events').pluck().get() as number | null) ?? 0;
  const file = readMark(join(stateDir, MARK_FILE));
  let reason: EpochReason | undefined;
  if (!current) reason = opts.quarantined ? 'database_quarantined' : file ? 'database_replaced' : 'new_database';
  else if (!file) reason = 'mark_missing';
  else if (file.epoch !== current) reason = 'database_replaced';
  else if (last < file.mark) reason = file.clean ? 'log_truncated' : 'unclean_stop';

  let epoch = current ?? '';
  let started: EpochStart | undefined;
  if (reason) {
    epoch = ulid();
    started = { epoch, reason, first_seq: last + 1 };
    if (file) {
      started.previous_epoch = file.epoch;
      started.previous_mark = file.mark;
    }
    db.transaction(() => {
      meta.set(META_EPOCH, epoch);
      meta.set(META_FIRST_SEQ, String(last + 1));
      if (!current && last > 0) meta.set(META_LEGACY, JSON.stringify({ epoch, below: last + 1 }));
    })();
  }
  // Armed before any event: whatever this run numbers is at or below the mark on disk.
  const mark = new SeqMark(stateDir, epoch, 0);
  mark.reserve(last + 1);
  const out: LogEpoch = { epoch, mark, ...legacyOf(meta) };
  if (started) out.started = started;
  return out;
}

/** The epoch as stored, for a process that reads or only borrows the log (CLI commands beside the daemon). */
export function readLogEpoch(db: Database): LogEpoch {
  const meta = new MetaStore(db);
  return { epoch: meta.get(META_EPOCH) ?? '', ...legacyOf(meta) };
}

function legacyOf(meta: MetaStore): Pick<LogEpoch, 'legacy'> {
  const raw = meta.get(META_LEGACY);
  if (!raw) return {};
  const parsed = JSON.parse(raw) as { epoch: string; below: number };
  return { legacy: { epoch: parsed.epoch, below: parsed.below } };
}

function readMark(path: string): MarkRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = JSON.parse(text) as Partial<MarkRecord>;
    if (typeof r.epoch === 'string' && Number.isSafeInteger(r.mark) && typeof r.clean === 'boolean') {
      return { v: 1, epoch: r.epoch, mark: r.mark!, clean: r.clean };
    }
  } catch {
    // A torn or foreign file proves nothing: treated as missing.
  }
  return undefined;
}

/** Every mark file has this many bytes, so that it can be rewritten in place on a full disk without a new block. */
const MARK_BYTES = 160;

/**
 * Write the mark atomically: a temporary file, fsynced, renamed over the old one, and the directory fsynced. On a
 * full disk (no block for the temporary file) the mark is rewritten in place instead: it always has MARK_BYTES
 * bytes, so that needs no new block. A power cut in the middle of that write can tear it; a torn mark reads as
 * missing, which starts a new epoch: safe, never a reused seq.
 */
function writeMark(path: string, record: MarkRecord): void {
  const text = `${JSON.stringify(record).padEnd(MARK_BYTES - 1, ' ')}\n`;
  const tmp = `${path}.tmp`;
  try {
    writeDurably(tmp, 'w', text);
  } catch (err) {
    if (!isOutOfSpace(err)) throw err;
    rmSync(tmp, { force: true });
    writeDurably(path, 'r+', text);
    return;
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

function writeDurably(path: string, flags: 'w' | 'r+', text: string): void {
  const fd = openSync(path, flags, 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isOutOfSpace(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * After `portier restore` put a database back under the mark of `stateDir` (kept from the state it replaced): make
 * sure its first start begins a new epoch. A copy of another epoch (`database_replaced`), one that ends below the
 * mark (`log_truncated`) or a state directory without a mark (`mark_missing`) does so already; a copy that still
 * reaches the mark (taken after the last event, restored at once) gets the mark raised one above its end, which is
 * always safe (no seq above a mark was given out) and reads as `log_truncated`. Returns the reason to expect.
 */
export function markRestored(stateDir: string, restored: { epoch: string; lastSeq: number }): EpochReason {
  const path = join(stateDir, MARK_FILE);
  const file = readMark(path);
  if (!restored.epoch) return file ? 'database_replaced' : 'new_database';
  if (!file) return 'mark_missing';
  if (file.epoch !== restored.epoch) return 'database_replaced';
  if (restored.lastSeq < file.mark) return file.clean ? 'log_truncated' : 'unclean_stop';
  writeMark(path, { v: 1, epoch: file.epoch, mark: restored.lastSeq + 1, clean: true });
  return 'log_truncated';
}
