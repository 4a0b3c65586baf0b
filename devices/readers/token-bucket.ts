/**
 * Token buckets per client key (an IP address): each holds up to `capacity` tokens, refilled at `perMinute`; a
 * request takes one or is refused with the wait until the next token. Pure (the caller gives the time). At most
 * `maxKeys` clients are remembered, least recently seen forgotten first, so a flood from many addresses cannot grow
 * memory without bound.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    /** tokens a new or rested client has, >= 1 */
    readonly capacity: number,
    /** tokens added per minute, > 0 */
    readonly perMinute: number,
    readonly maxKeys = 4096,
  ) {}

  /** Take a token for `key` at `nowMs`; when none is left, the ms until one is. */
  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const perMs = this.perMinute / 60_000;
    const prev = this.buckets.get(key);
    const tokens = prev ? Math.min(this.capacity, prev.tokens + Math.max(0, nowMs - prev.at) * perMs) : this.capacity;
    // Re-inserting moves the key to the end: the Map's order is least recently seen first.
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: nowMs });
      return { ok: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: nowMs });
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }
}
