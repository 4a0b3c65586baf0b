export type DoorState = 'closed' | 'open' | 'held_open' | 'forced';
export type DoorAlarm = 'door_forced' | 'door_held_open';

export interface DoorWatchOptions {
  /** ms the door may stand open before `held_open` */
  heldOpenMs: number;
  /** Whether the strike is locked right now (an opening while locked is `forced`). */
  isLocked(): boolean;
  /** While true (cleaning, emergency release), an open door is expected: no forced or held-open alarm. */
  expectOpen?(): boolean;
  onState(state: DoorState): void;
  onAlarm(alarm: DoorAlarm): void;
}

/**
 * The door as its contact reports it: closed, open, forced (opened while the strike was locked) and held open (open
 * past `heldOpenMs`). Forced and held-open raise an alarm each; a door expected open raises neither.
 */
export class DoorWatch {
  private current: DoorState = 'closed';
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: DoorWatchOptions) {}

  get state(): DoorState {
    return this.current;
  }

  get closed(): boolean {
    return this.current === 'closed';
  }

  /** The contact's reading at start, without alarms (a door found open at boot was not forced just now). */
  initial(closed: boolean): void {
    this.current = closed ? 'closed' : 'open';
    if (!closed) this.armHeld();
  }

  /** A new contact reading. */
  contact(closed: boolean): void {
    if (closed) {
      clearTimeout(this.heldTimer);
      this.set('closed');
      return;
    }
    if (this.current !== 'closed') return;
    const forced = this.o.isLocked() && !this.o.expectOpen?.();
    this.set(forced ? 'forced' : 'open');
    this.armHeld();
  }

  stop(): void {
    clearTimeout(this.heldTimer);
  }

  private armHeld(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = setTimeout(() => {
      if (this.o.expectOpen?.()) {
        // Cleaning or an emergency: look again later, the door may still be open when it ends.
        this.armHeld();
        return;
      }
      this.set('held_open');
    }, this.o.heldOpenMs);
  }

  private set(next: DoorState): void {
    if (next === this.current) return;
    this.current = next;
    this.o.onState(next);
    if (next === 'forced') this.o.onAlarm('door_forced');
    if (next === 'held_open') this.o.onAlarm('door_held_open');
  }
}
