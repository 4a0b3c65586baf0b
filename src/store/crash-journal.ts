import { createHash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, readFileSync, realpathSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Now } from '../core/clock.js';
import type { EventInput } from '../core/events.js';
import type { AppendOptions } from './event-log-types.js';
import { ensurePrivateDir, openPrivateFile } from './private-files.js';

/**
 * The commit window's crash journal (docs/architecture.md, Storage). Telemetry and state wait in memory for up to
 * `gateway.commit_window_ms`; those no broker would deliver again (what the gateway makes itself, what a serial line
 * said) are also appended here, one JSON line each, with a plain write(2): a write to the page cache survives the
 * process (kill -9, the OOM killer, the watchdog), not a power cut, so there is no fsync, and on tmpfs (systemd's
 * RuntimeDirectory) it never reaches the SD card. Once their commit is confirmed the lines are dropped: the file is
 * truncated, or rewritten (to a temporary file renamed over it) with the lines still waiting.
 *
 * A start replays what a dead process left, in order and with its original times. Each line carries the ULID its
 * event is (or will be) committed under, and the highest seq committed when it was written: an event already in
 * the log (a crash between a commit and the truncation, or during a replay) is found by id among the seqs above
 * that and not written twice.
 */

/** One event waiting in the commit window, as journaled. */
export interface JournalEntry {
  /** The ULID the event is committed under. */
  id: string;
  /** The highest seq committed when it was recorded: the event's own seq is above it. */
  after: number;
  /** When it was recorded (its `ts` and `tq`, however long it waited). */
  at: Now;
  input: EventInput;
  opts: AppendOptions;
}

/** What a journal holds at start: its readable entries, in order, and the lines that could not be read. */
export interface JournalContents {
  entries: JournalEntry[];
  damaged: number;
}

/**
 * Where the journal goes: the configured directory, else systemd's RuntimeDirectory (`$RUNTIME_DIRECTORY`, a tmpfs
 * kept across restarts with RuntimeDirectoryPreserve=yes; the first one when there are several), else the state
 * directory.
 */
export function crashJournalDir(configured: string | undefined, stateDir: string, env = process.env): string {
  return configured ?? runtimeDirectories(env)[0] ?? stateDir;
}

/** systemd's `$RUNTIME_DIRECTORY`: the unit's runtime directories, colon-separated (none outside a unit). */
export function runtimeDirectories(env: NodeJS.ProcessEnv = process.env): string[] {
  return env.RUNTIME_DIRECTORY?.split(':').filter(Boolean) ?? [];
}

/**
 * The journal's file in `dir`, named after the state directory it belongs to: two gateways given the same runtime
 * directory (a test run under a systemd unit) never replay each other's events.
 */
export function crashJournalPath(dir: string, stateDir: string): string {
  let real = stateDir;
  try {
    real = realpathSync(stateDir);
  } catch {
    // Not created yet: its name as given.
  }
  return join(dir, `commit-window-${createHash('sha256').update(real).digest('hex').slice(0, 16)}.journal`);
}

export class CrashJournal {
  private fd: number | undefined;
  /** Bytes of whole lines in the file: a failed write is cut back to it. */
  private size = 0;
  /** Lines written and not yet committed, by event id, in the order written. */
  private readonly waiting = new Map<string, string>();
  private warned = false;
  /** Events replayed into the log at start. */
  replayed = 0;
  /** Journaled events found already committed at start (not written again). */
  alreadyCommitted = 0;
  /** Lines that could not be read at start (a write cut short), skipped. */
  damaged = 0;
  /** Events that could not be journaled (a full or unwritable directory): committed at once instead. */
  failures = 0;

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Entries journaled and not yet committed. */
  get pending(): number {
    return this.waiting.size;
  }

  /** What the file holds now (left by a process that died); a missing or unreadable file holds nothing. */
  read(): JournalContents {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.fail(err);
      return { entries: [], damaged: 0 };
    }
    return parseJournal(text);
  }

  /**
   * What a process that died left, to replay: the readable entries, in order, whose events are not in the log
   * (`idsAfter(seq)`: the ids of the log's events above `seq`), each once. Counts them, the ones already committed
   * and the damaged lines.
   */
  leftovers(idsAfter: (seq: number) => string[]): JournalEntry[] {
    const { entries, damaged } = this.read();
    this.damaged += damaged;
    if (entries.length === 0) return [];
    let floor = Number.POSITIVE_INFINITY;
    for (const e of entries) floor = Math.min(floor, e.after);
    const seen = new Set(idsAfter(floor));
    const fresh: JournalEntry[] = [];
    for (const e of entries) {
      if (seen.has(e.id)) {
        this.alreadyCommitted++;
        continue;
      }
      seen.add(e.id);
      fresh.push(e);
    }
    this.replayed += fresh.length;
    return fresh;
  }

  /**
   * Append `entry` with one write; false when it could not be written (the caller commits it at once instead).
   * Never throws.
   */
  append(entry: JournalEntry): boolean {
    const line = `${JSON.stringify(entry)}\n`;
    try {
      this.fd ??= this.open();
      const bytes = Buffer.from(line);
      const n = writeSync(this.fd, bytes);
      if (n !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      this.size += n;
    } catch (err) {
      this.cutBack();
      this.failures++;
      this.fail(err);
      return false;
    }
    this.waiting.set(entry.id, line);
    return true;
  }

  /** These events are committed (or given up by the disk guard): their lines go. */
  release(ids: Iterable<string>): void {
    if (this.waiting.size === 0) return;
    let released = false;
    for (const id of ids) if (this.waiting.delete(id)) released = true;
    if (!released) return;
    try {
      if (this.waiting.size === 0) this.truncate();
      else this.rewrite();
    } catch (err) {
      // The lines stay in the file; a replay finds their events committed and skips them.
      this.fail(err);
    }
  }

  /** Empty the file (after a replay committed what it held). */
  clear(): void {
    this.waiting.clear();
    try {
      this.fd ??= this.open();
      this.truncate();
    } catch (err) {
      this.fail(err);
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): number {
    ensurePrivateDir(dirname(this.path));
    const fd = openPrivateFile(this.path);
    // Never emptied here: only `clear`, after a replay, and `release` drop lines.
    this.size = fstatSync(fd).size;
    return fd;
  }

  private truncate(): void {
    if (this.fd === undefined) return;
    ftruncateSync(this.fd, 0);
    this.size = 0;
  }

  /** The waiting lines alone, swapped in by a rename: a crash leaves either file whole. */
  private rewrite(): void {
    const text = [...this.waiting.values()].join('');
    const tmp = `${this.path}.tmp`;
    const fd = openPrivateFile(tmp, true);
    try {
      writeSync(fd, text);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    renameSync(tmp, this.path);
    this.close();
    this.fd = fd;
    this.size = Buffer.byteLength(text);
  }

  /** After a failed write: no half line may stay in front of the next one. */
  private cutBack(): void {
    if (this.fd === undefined) return;
    try {
      ftruncateSync(this.fd, this.size);
    } catch {
      // The next read counts the half line as damaged; the ones after it are read as usual.
    }
  }

  /** Warn of the first failure (the later ones are counted by `append` alone). */
  private fail(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    this.log.warn(
      { path: this.path, code, err: (err as Error).message },
      'crash journal cannot be written: events it would hold are committed at once instead (counted in portier_crash_journal_failures_total)',
    );
  }
}

/** The entries of a journal's text, in order; a line that is not a whole entry (a write cut short) is counted. */
export function parseJournal(text: string): JournalContents {
  const entries: JournalEntry[] = [];
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    const entry = entryOf(line);
    if (entry) entries.push(entry);
    else damaged++;
  }
  return { entries, damaged };
}

function entryOf(line: string): JournalEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  const e = v as Partial<JournalEntry> | null;
  const ok =
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.after === 'number' &&
    typeof e.at?.ms === 'number' &&
    typeof e.at.tq === 'string' &&
    typeof e.input?.dev === 'string' &&
    typeof e.input.type === 'string' &&
    typeof e.input.data === 'object' &&
    e.input.data !== null &&
    typeof e.opts === 'object' &&
    e.opts !== null;
  return ok ? (e as JournalEntry) : undefined;
}
