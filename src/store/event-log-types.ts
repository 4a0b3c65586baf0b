import type { EventInput, Lane, PortierEvent } from '../core/events.js';

/** The event log's vocabulary, shared with its readers, the sync service and the disk guard (src/store/event-log.ts). */

export const LANE_CODES: Record<Lane, number> = { critical: 0, state: 1, telemetry: 2 };

/** The lanes by code, in drain order (critical first). */
export const LANES_BY_CODE: readonly Lane[] = ['critical', 'state', 'telemetry'];

/** One row put into the outbox by a commit: what the sync service needs to account for it without a query. */
export interface OutboxAppend {
  seq: number;
  /** Lane code (LANE_CODES). */
  lane: number;
  /** UTF-8 bytes of the stored event JSON, as it will be sent. */
  bytes: number;
}

export interface AppendOptions {
  /** Commit with synchronous=FULL before returning (access decisions, audit). Default for the critical lane. */
  durable?: boolean;
  /** Override the type's default lane. */
  lane?: Lane;
  /** Keep the event out of the outbox (local-only records). */
  localOnly?: boolean;
}

/** What the event log needs of the disk guard (src/store/disk-guard.ts implements it). */
export interface SpaceGuard {
  /** False when a non-critical event is to be kept off the disk now (the guard counted or held it). */
  admit(input: EventInput, opts: AppendOptions, lane: Lane): boolean;
  /** A commit failed on a full disk: make room (the reserve only for what must be written). */
  relieve(cause: unknown, forCritical: boolean): void;
  /** Non-critical events that could not be written even then. */
  lost(events: ReadonlyArray<{ input: EventInput; opts: AppendOptions }>): void;
}

/** The JSON each committed event was stored as, for consumers that send it on (no second JSON.stringify). */
const stored = new WeakMap<PortierEvent, string>();

/** The event as JSON: exactly the stored text for a committed event, else serialized now. */
export function eventJson(e: PortierEvent): string {
  return stored.get(e) ?? JSON.stringify(e);
}

/** Remember the text `e` was stored as (the event log, at commit). */
export function rememberJson(e: PortierEvent, json: string): void {
  stored.set(e, json);
}
