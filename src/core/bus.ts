import type { Logger } from 'pino';

type Listener<T> = (payload: T) => void | Promise<void>;

/**
 * A typed in-process event bus. A listener that throws or rejects is logged and counted, and never stops the
 * others or the emitter: one bad consumer must not take the door down with it.
 */
export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  /** Each event's listeners as an array, taken when they change: emit runs once per event, on/off rarely. */
  private readonly snapshots = new Map<keyof Events, readonly Listener<never>[]>();
  /** Listener failures since start. */
  listenerErrors = 0;

  constructor(private readonly log?: Logger) {}

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    this.snapshots.set(name, [...set]);
    return () => {
      if (set.delete(listener as Listener<never>)) this.snapshots.set(name, [...set]);
    };
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const list = this.snapshots.get(name);
    if (!list) return;
    for (const listener of list) {
      try {
        const result = (listener as Listener<Events[K]>)(payload);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) => this.fail(name, err));
        }
      } catch (err) {
        this.fail(name, err);
      }
    }
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  private fail(name: keyof Events, err: unknown): void {
    this.listenerErrors++;
    this.log?.error({ err, event: String(name) }, 'bus listener failed');
  }
}
