import type { Logger } from 'pino';
import { reasonOf } from '../core/errors.js';
import type { Link, LinkState, StateChange } from '../core/links.js';
import type { Backoff } from './backoff.js';

/**
 * The state machine every reconnecting link shares: idle → connecting → up → down → connecting … → stopped.
 *
 * A subclass supplies `open()` (acquire the device or connection; resolve once usable, reject with a reason) and
 * `release()` (drop whatever is held; idempotent, never rejects), and calls `lost(reason)` when an open connection
 * ends by itself. This class owns the listeners, the backoff timer and the bookkeeping that makes a late callback
 * from an abandoned attempt harmless (the `epoch` counter), so the four links do not each get that subtly wrong.
 *
 * Nothing here throws into the caller or the event loop: a failed attempt or a throwing listener is logged and the
 * link carries on.
 */
export abstract class ReconnectingLink implements Link {
  private current: LinkState = 'idle';
  private readonly listeners = new Set<(change: StateChange) => void>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Bumped whenever the current attempt or connection is abandoned; callbacks of older epochs are ignored. */
  private epoch = 0;
  private attemptDone: Promise<void> = Promise.resolve();
  private upAt = 0;
  private lastReason: string | undefined;

  protected constructor(
    protected readonly log: Logger,
    private readonly backoff: Backoff,
  ) {}

  get state(): LinkState {
    return this.current;
  }

  onState(listener: (change: StateChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  start(): void {
    if (this.current !== 'idle' && this.current !== 'stopped') return;
    this.backoff.reset();
    this.attempt();
  }

  async stop(): Promise<void> {
    if (this.current === 'stopped') return;
    this.epoch += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setState({ state: 'stopped' });
    await this.safeRelease();
    // An attempt still opening when we released may finish afterwards and hold the device again: wait for it and
    // release once more, so stop() resolves with nothing left open.
    await this.attemptDone;
    await this.safeRelease();
  }

  /** Acquire the device or connection. Resolve once it is usable; reject (with a reason) when it is not. */
  protected abstract open(): Promise<void>;

  /** Drop the device or connection, whatever state it is in. Idempotent; must not reject. */
  protected abstract release(): Promise<void>;

  /** Called by a subclass when an open connection ends by itself (closed, I/O error, watchdog). */
  protected lost(reason: string): void {
    if (this.current !== 'up') return;
    this.goDown(reason);
  }

  private attempt(): void {
    this.epoch += 1;
    const epoch = this.epoch;
    this.setState({ state: 'connecting' });
    let opening: Promise<void>;
    try {
      opening = this.open();
    } catch (err) {
      // A subclass that throws synchronously is a bug, but it must not escape into a timer callback.
      opening = Promise.reject(err);
    }
    this.attemptDone = opening.then(
      () => {
        if (epoch !== this.epoch) return;
        this.upAt = Date.now();
        this.setState({ state: 'up' });
      },
      (err: unknown) => {
        if (epoch !== this.epoch) return;
        this.goDown(reasonOf(err));
      },
    );
  }

  private goDown(reason: string): void {
    // A connection that held for a full backoff cap was healthy: start the next retry fast. One that dropped at
    // once (a flapping device, a broker refusing us) keeps climbing the curve.
    if (this.current === 'up' && Date.now() - this.upAt >= this.backoff.maxMs) this.backoff.reset();
    this.epoch += 1;
    const epoch = this.epoch;
    this.setState({ state: 'down', reason });
    void this.safeRelease().then(() => {
      if (epoch !== this.epoch) return;
      const delay = this.backoff.next();
      this.log.debug({ delayMs: delay }, 'reconnect scheduled');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (epoch === this.epoch) this.attempt();
      }, delay);
    });
  }

  private async safeRelease(): Promise<void> {
    try {
      await this.release();
    } catch (err) {
      this.log.warn({ err }, 'release failed');
    }
  }

  private setState(change: StateChange): void {
    const previous = this.current;
    this.current = change.state;
    if (change.state === 'down') {
      // A device that stays away fails every attempt the same way: say so once, then only at debug.
      const news = previous === 'up' || change.reason !== this.lastReason;
      this.lastReason = change.reason;
      if (news) this.log.warn({ reason: change.reason }, 'link down');
      else this.log.debug({ reason: change.reason }, 'link still down');
    } else if (change.state === 'up') {
      this.lastReason = undefined;
      this.log.info('link up');
    } else {
      this.log.debug({ state: change.state }, 'link state');
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ err }, 'link state listener threw');
      }
    }
  }
}
