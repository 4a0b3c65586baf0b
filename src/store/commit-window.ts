import type { Now } from '../core/clock.js';
import type { EventInput, PortierEvent } from '../core/events.js';
import type { CrashJournal } from './crash-journal.js';
import type { AppendOptions } from './event-log-types.js';
import type { WriterDelete } from './event-writer.js';

/**
 * An event waiting for its group commit, with the time it was recorded (its `ts`, however long it waits) and the
 * ULID it is committed under (given when it was recorded, so a journal line and the log name it alike).
 */
export interface Queued {
  input: EventInput;
  opts: AppendOptions;
  at?: Now;
  id?: string;
}

/**
 * State changes a person or an operator waits on (a door, a lock, a device coming back or going away): rare, so
 * they close the commit window at once (taking the queue with them) instead of reaching listeners up to a window
 * late. Parking and weather readings, the bulk of the writes, still wait for the window.
 */
const PROMPT_TYPES: ReadonlySet<string> = new Set(['door.state', 'lock.state', 'device.health']);

/** Events queued in a commit window beyond which the window closes at once (a burst commits in big batches). */
const WINDOW_MAX_EVENTS = 1000;

/**
 * The event log's commit window (docs/sync.md, Durability): what is queued for the next group commit, and when that
 * commit runs. Non-critical events wait up to `ms` (0: the next turn of the event loop) so that one commit writes
 * many; a prompt type, a full window or `closeSoon` closes it at the next turn. With a crash journal, each queued
 * event that no broker would deliver again is journaled first, and its line dropped once its commit is confirmed;
 * one that cannot be journaled closes the window at once instead.
 */
export class CommitWindow {
  private pending: Queued[] = [];
  /** Acknowledged outbox rows to delete in the next commit. */
  private deletes: WriterDelete[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** ms a non-critical event may wait in memory for its commit; 0: the next turn. */
  ms = 0;
  journal: CrashJournal | undefined;
  /** > 0 while the handlers of a message the broker would deliver again run (`redelivered`). */
  private redeliverable = 0;

  /** `close` commits what `take` gives it (the event log's group commit). */
  constructor(private readonly close: () => void) {}

  /** Events queued. */
  get size(): number {
    return this.pending.length;
  }

  get empty(): boolean {
    return this.pending.length === 0 && this.deletes.length === 0;
  }

  /**
   * Queue `q`, recorded when `after` was the highest seq committed. Unless it came with a PUBACK held for its commit
   * (`redelivered`), it is journaled first.
   */
  add(q: Queued, after: number): void {
    this.pending.push(q);
    let prompt = PROMPT_TYPES.has(q.input.type);
    if (this.journal && this.redeliverable === 0 && q.id !== undefined && q.at !== undefined) {
      const entry = { id: q.id, after, at: q.at, input: q.input, opts: q.opts };
      if (!this.journal.append(entry)) prompt = true;
    }
    this.schedule(prompt);
  }

  /** Run `handlers`; what they queue is delivered again by a broker after a crash, and is not journaled. */
  redelivered(handlers: () => void): void {
    this.redeliverable++;
    try {
      handlers();
    } finally {
      this.redeliverable--;
    }
  }

  /** Queue without journal or timer (a replay, committed by the caller). */
  restore(q: Queued): void {
    this.pending.push(q);
  }

  addDeletes(ranges: ReadonlyArray<{ lane: number; first: number; last: number }>): void {
    for (const r of ranges) this.deletes.push([r.lane, r.first, r.last]);
    this.schedule();
  }

  /** Commit what is queued at the next turn rather than at the end of the window. */
  closeSoon(): void {
    if (this.pending.length === 0 || this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.close);
  }

  /** End the window (no commit of its own is due any more). */
  reset(): void {
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** What is queued, handed over for a commit; the window starts empty. */
  take(): { batch: Queued[]; deletes: WriterDelete[] } {
    const taken = { batch: this.pending, deletes: this.deletes };
    this.pending = [];
    this.deletes = [];
    return taken;
  }

  /** These events are committed: their journal lines go. */
  committed(events: readonly PortierEvent[]): void {
    if (this.journal && this.journal.pending > 0) this.journal.release(events.map((e) => e.id));
  }

  /** These events will never be committed (the disk guard counted them as lost): their journal lines go too. */
  dropped(batch: readonly Queued[]): void {
    if (this.journal && this.journal.pending > 0) this.journal.release(batch.flatMap((q) => (q.id ? [q.id] : [])));
  }

  /** The group commit of what is queued: after the window, or at the next turn (no window, or a full one). */
  private schedule(prompt = false): void {
    if (prompt || this.ms === 0 || this.pending.length >= WINDOW_MAX_EVENTS) {
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(this.close);
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.close();
    }, this.ms);
    this.timer.unref();
  }
}
