import type { Logger } from 'pino';
import { LANE_CODES } from '../store/event-log.js';
import type { Outbox } from '../store/outbox.js';
import type { ShedTotals } from '../store/outbox-status.js';
import { type ShedCandidate as Candidate, ShedStore } from '../store/shed-store.js';
import type { Store } from '../store/store.js';

/** How an event left the outbox without reaching the cloud. */
export type ShedPolicy = 'downsampled' | 'dropped' | 'coalesced';

export interface DiskBudgetOptions {
  /** bytes of database pages the event store may use, >= 1 MiB */
  budgetBytes: number;
  /** ms, the first downsampling keeps one telemetry reading per device per this interval */
  downsampleMs: number;
  /** ms an acknowledged event stays in the local log; 0 prunes acknowledged events at once */
  retainAckedMs: number;
  log: Logger;
  /** Per lane code, the highest seq the uplink has taken into a batch in flight (never shed those). */
  takenUpTo?: (lane: number) => number;
  /** Wall clock in ms (for retention and report ages). */
  now?: () => number;
  /**
   * bytes the file system may still give the database before its free-space floor (negative when below it): the
   * disk guard's `headroom`. The budget in force is the smaller of `budgetBytes` and the pages in use plus this, so
   * a small or shared disk is shed by the same policy before it fills.
   */
  headroom?: () => number;
}

/** What one enforcement pass did. */
export interface EnforceResult {
  usedBefore: number;
  usedAfter: number;
  /** acknowledged events pruned from the local log (delivered, so not shed) */
  pruned: number;
  shed: Partial<Record<ShedPolicy, number>>;
  /** still over budget with nothing left to shed but critical events */
  overBudget: boolean;
}

/** Rows examined or deleted per step before yielding to the event loop, so a door is never kept waiting. */
const CHUNK = 5000;
/** Events shed per transaction (a few hundred KiB of WAL at most) */
const SHED_TX_ROWS = 256;
/** Shed down to this share of the budget, so one pass buys room for a while instead of running on every insert. */
const LOW_WATER = 0.9;
/** The downsampling interval grows by this factor per pass while still over budget. */
const COARSER = 6;
const DOWNSAMPLE_PASSES = 3;

const TELEMETRY = LANE_CODES.telemetry;
const STATE = LANE_CODES.state;

const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The disk budget and the written shedding policy (DESIGN.md, Storage and sync). When the database's used pages
 * exceed the budget, in this order until back under 90 % of it:
 *  1. acknowledged events leave the local log, oldest first (the cloud has them);
 *  2. telemetry is downsampled: one reading per device per interval, the interval growing per pass;
 *  3. telemetry is dropped, oldest first;
 *  4. state is coalesced to the latest event per device and type;
 *  5. critical events are never dropped: the gateway stays over budget and says so.
 * Shed events lose their outbox row and their event row (so the pages really come back), and each is counted in
 * `sync_shed` in the same transaction as its deletion. The newest event row is always kept: its seq is where the
 * event log continues numbering.
 */
export class DiskBudget {
  private readonly now: () => number;
  private readonly rows: ShedStore;
  private running: Promise<EnforceResult> | undefined;
  private readonly shedListeners: Array<(lane: string, policy: ShedPolicy, count: number) => void> = [];

  constructor(
    db: Store['db'],
    private readonly outbox: Outbox,
    private readonly opts: DiskBudgetOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.rows = new ShedStore(db);
  }

  get budgetBytes(): number {
    return this.opts.budgetBytes;
  }

  usedBytes(): number {
    return this.rows.usedBytes();
  }

  overBudget(): boolean {
    const used = this.usedBytes();
    return used > this.limit(used);
  }

  /** bytes the database may use now: the configured budget, or less when the disk itself is short of room. */
  limit(used = this.usedBytes()): number {
    const room = this.opts.headroom?.();
    return room === undefined ? this.opts.budgetBytes : Math.min(this.opts.budgetBytes, Math.max(0, used + room));
  }

  /** Called for every shed step with the lane name, the policy and how many events it shed. */
  onShed(listener: (lane: string, policy: ShedPolicy, count: number) => void): void {
    this.shedListeners.push(listener);
  }

  /** Cumulative shed counts from the database (they survive restarts). */
  totals(): ShedTotals {
    return this.rows.totals();
  }

  /** Bring the store under budget if it is over (one pass at a time; a second caller shares the running one). */
  enforce(): Promise<EnforceResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Prune acknowledged events older than the retention, oldest first; returns how many. */
  async pruneExpired(): Promise<number> {
    const cutoff = new Date(this.now() - this.opts.retainAckedMs).toISOString();
    return this.pruneAcked(() => false, cutoff);
  }

  private async pass(): Promise<EnforceResult> {
    // Acknowledged rows waiting for the log's next commit are deleted first, not counted or shed again.
    this.outbox.settle();
    const usedBefore = this.usedBytes();
    const result: EnforceResult = { usedBefore, usedAfter: usedBefore, pruned: 0, shed: {}, overBudget: false };
    const budget = this.limit(usedBefore);
    if (usedBefore <= budget) return result;
    const target = Math.floor(budget * LOW_WATER);
    const under = () => this.usedBytes() <= target;

    result.pruned = await this.pruneAcked(under);
    let interval = this.opts.downsampleMs;
    for (let i = 0; i < DOWNSAMPLE_PASSES && !under(); i++, interval *= COARSER) {
      this.count(result, 'downsampled', await this.downsample(interval, under));
    }
    if (!under()) this.count(result, 'dropped', await this.dropOldestTelemetry(under));
    if (!under()) this.count(result, 'coalesced', await this.coalesceState(under));
    this.rows.giveBack();
    result.usedAfter = this.usedBytes();
    result.overBudget = result.usedAfter > budget;
    if (result.overBudget) {
      this.opts.log.error(
        { usedBytes: result.usedAfter, budgetBytes: budget },
        'disk budget exceeded by events that are never shed (critical); keeping them',
      );
    }
    return result;
  }

  private count(result: EnforceResult, policy: ShedPolicy, n: number): void {
    if (n > 0) result.shed[policy] = (result.shed[policy] ?? 0) + n;
  }

  /** Delete acknowledged (or local-only) events, oldest first, until `enough()` or none is left. */
  private async pruneAcked(enough: () => boolean, beforeTs?: string): Promise<number> {
    let from = 0;
    let pruned = 0;
    while (!enough()) {
      const rows = this.rows.acked(from, CHUNK);
      if (rows.length === 0) break;
      const victims = beforeTs === undefined ? rows : rows.filter((r) => r.ts < beforeTs);
      pruned += this.rows.deleteEvents(victims.map((r) => r.seq));
      from = rows.at(-1)!.seq;
      if (beforeTs !== undefined && victims.length < rows.length) break;
      await yieldTurn();
    }
    return pruned;
  }

  /** Keep the first telemetry reading per device and `intervalMs` bucket; shed the rest of each bucket. */
  private async downsample(intervalMs: number, enough: () => boolean): Promise<number> {
    const kept = new Set<string>();
    let shed = 0;
    await this.scanLane(TELEMETRY, 'ASC', (rows) => {
      const victims: Candidate[] = [];
      for (const r of rows) {
        const key = `${r.dev}\u0000${r.type}\u0000${Math.floor(Date.parse(r.ts) / intervalMs)}`;
        if (kept.has(key)) victims.push(r);
        else kept.add(key);
      }
      shed += this.shed(TELEMETRY, 'downsampled', victims);
      return enough();
    });
    return shed;
  }

  private async dropOldestTelemetry(enough: () => boolean): Promise<number> {
    let shed = 0;
    // Small slices, measured after each, so the drop stops close to the low-water mark.
    await this.scanLane(
      TELEMETRY,
      'ASC',
      (rows) => {
        shed += this.shed(TELEMETRY, 'dropped', rows);
        return enough();
      },
      500,
    );
    return shed;
  }

  /** Keep the newest state event per device and type; shed the older ones. */
  private async coalesceState(enough: () => boolean): Promise<number> {
    const seen = new Set<string>();
    let shed = 0;
    await this.scanLane(STATE, 'DESC', (rows) => {
      const victims: Candidate[] = [];
      for (const r of rows) {
        const key = `${r.dev}\u0000${r.type}`;
        if (seen.has(key)) victims.push(r);
        else seen.add(key);
      }
      shed += this.shed(STATE, 'coalesced', victims);
      return enough();
    });
    return shed;
  }

  /**
   * Walk a lane's waiting rows (not those in flight) in chunks, yielding between chunks; `step` returns true to stop.
   */
  private async scanLane(
    lane: number,
    order: 'ASC' | 'DESC',
    step: (rows: Candidate[]) => boolean,
    chunk = CHUNK,
  ): Promise<void> {
    let cursor = order === 'ASC' ? 0 : Number.MAX_SAFE_INTEGER;
    for (;;) {
      const taken = this.opts.takenUpTo?.(lane) ?? 0;
      const rows = this.rows.waiting(lane, order, cursor, taken, chunk);
      if (rows.length === 0) return;
      cursor = rows.at(-1)!.seq;
      if (step(rows)) return;
      await yieldTurn();
    }
  }

  /** Delete shed events (outbox row and event row) and count them, in one transaction. */
  private shed(lane: number, policy: ShedPolicy, victims: readonly Candidate[]): number {
    let count = 0;
    // Small transactions: each needs WAL room for the pages it touches, and on a nearly full disk that is all there
    // is (the WAL is reused after each checkpoint instead of growing by a whole chunk's pages).
    for (let i = 0; i < victims.length; i += SHED_TX_ROWS)
      count += this.shedSlice(lane, policy, victims.slice(i, i + SHED_TX_ROWS));
    return count;
  }

  private shedSlice(lane: number, policy: ShedPolicy, victims: readonly Candidate[]): number {
    if (victims.length === 0) return 0;
    const { count, bytes } = this.rows.shed(lane, policy, victims);
    if (count === 0) return 0;
    this.outbox.removed(lane, count, bytes);
    const name = Object.keys(LANE_CODES)[lane] ?? String(lane);
    for (const l of this.shedListeners) l(name, policy, count);
    return count;
  }
}
