/**
 * The count of one parking zone: which member bays are occupied, free or unknown (never heard since start, or
 * reported stale), kept incrementally so a zone of thousands of bays costs O(1) per bay event.
 *
 * Free spaces are counted conservatively: capacity minus occupied minus unknown, so a sign never promises a space
 * the gateway cannot vouch for.
 */

export type BayState = 'occupied' | 'free' | 'unknown';

/** What a zone reports: DESIGN.md's `parking.zone` (plus `unknown` when some bays cannot be vouched for). */
export interface ZoneSnapshot {
  zone: string;
  capacity: number;
  occupied: number;
  free: number;
  /** Member bays without a current state (not heard since start, or stale). */
  unknown: number;
}

export class ZoneCounter {
  private readonly bays = new Map<string, BayState>();
  private occupiedCount = 0;
  private unknownCount = 0;

  /**
   * @param zone the zone's id
   * @param capacity spaces in the zone, ≥ 1
   * @param listed bays configured as members, unknown until they report
   */
  constructor(
    readonly zone: string,
    readonly capacity: number,
    listed: readonly string[] = [],
  ) {
    for (const bay of listed) this.place(bay, 'unknown');
  }

  /** True when the bay is a member (listed, or joined by reporting with this zone's name). */
  has(bay: string): boolean {
    return this.bays.has(bay);
  }

  /** Record a bay's accepted state; a bay not seen before joins the zone. Returns true when the counts changed. */
  set(bay: string, occupied: boolean): boolean {
    return this.place(bay, occupied ? 'occupied' : 'free');
  }

  /** A member bay whose sensor went stale or away: its state is unknown until it reports again. */
  lose(bay: string): boolean {
    if (!this.bays.has(bay)) return false;
    return this.place(bay, 'unknown');
  }

  /** A member bay's state; undefined for a bay that is not a member. */
  state(bay: string): BayState | undefined {
    return this.bays.get(bay);
  }

  /** Every member bay with its state (what a restart restores). */
  entries(): Array<[string, BayState]> {
    return [...this.bays];
  }

  /** Put a bay back in a state it had before a restart; returns true when the counts changed. */
  restore(bay: string, state: BayState): boolean {
    return this.place(bay, state);
  }

  snapshot(): ZoneSnapshot {
    const free = Math.max(0, this.capacity - this.occupiedCount - this.unknownCount);
    return { zone: this.zone, capacity: this.capacity, occupied: this.occupiedCount, free, unknown: this.unknownCount };
  }

  private place(bay: string, next: BayState): boolean {
    const prev = this.bays.get(bay);
    if (prev === next) return false;
    if (prev === 'occupied') this.occupiedCount--;
    else if (prev === 'unknown') this.unknownCount--;
    if (next === 'occupied') this.occupiedCount++;
    else if (next === 'unknown') this.unknownCount++;
    this.bays.set(bay, next);
    return true;
  }
}
