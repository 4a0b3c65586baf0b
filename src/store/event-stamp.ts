import { monotonicFactory } from 'ulid';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PortierError } from '../core/errors.js';
import { laneOf, type PortierEvent } from '../core/events.js';
import type { Queued } from './commit-window.js';
import { LANE_CODES, type OutboxAppend, rememberJson } from './event-log-types.js';
import type { WriterRow } from './event-writer.js';
import type { LogEpoch } from './log-epoch.js';

/** A batch ready to commit: its events in seq order, the outbox rows they add, and the rows to insert. */
export interface Stamped {
  events: PortierEvent[];
  appended: OutboxAppend[];
  rows: WriterRow[];
}

/**
 * Numbering for the event log (event-log.ts): each event's ULID, seq, epoch, time and stored JSON. Ids come from
 * one monotonic ULID factory, asked in record order, so ids sort as seqs do within a millisecond.
 */
export class EventStamper {
  private readonly ulid = monotonicFactory();

  constructor(
    private readonly gw: string,
    private readonly clock: Clock,
    private readonly epoch: LogEpoch,
  ) {}

  /** A new event id for an event recorded at `ms`. */
  id(ms: number): string {
    return this.ulid(ms);
  }

  /**
   * The events of `batch` with seqs from `firstSeq`, ids, times and stored JSON, and the rows to insert; `measure`:
   * also the outbox rows' sizes.
   */
  stamp(batch: readonly Queued[], firstSeq: number, measure: boolean): Stamped {
    const events: PortierEvent[] = [];
    const appended: OutboxAppend[] = [];
    const rows: WriterRow[] = [];
    if (batch.length === 0) return { events, appended, rows };
    const { mark, epoch } = this.epoch;
    if (!mark) {
      throw new PortierError(
        ErrorCode.StoreNotOwner,
        'this process does not own the event log: it may not number events',
      );
    }
    // Before any of these seqs exists anywhere: a log that later ends below them starts a new epoch.
    mark.reserve(firstSeq + batch.length - 1);
    let seq = firstSeq;
    // A burst stamps many events within one millisecond: its ISO text is made once.
    let isoMs = Number.NaN;
    let iso = '';
    for (const { input, opts, at, id } of batch) {
      const now = at ?? this.clock.now();
      if (now.ms !== isoMs) {
        isoMs = now.ms;
        iso = new Date(now.ms).toISOString();
      }
      const event: PortierEvent = {
        id: id ?? this.ulid(now.ms),
        seq,
        epoch,
        gw: this.gw,
        dev: input.dev,
        type: input.type,
        ts: iso,
        tq: now.tq,
        data: input.data,
      };
      const body = JSON.stringify(event);
      rememberJson(event, body);
      let lane = -1;
      if (!opts.localOnly) {
        lane = LANE_CODES[opts.lane ?? laneOf(input.type)];
        if (measure) appended.push({ seq, lane, bytes: Buffer.byteLength(body) });
      }
      rows.push([seq, event.id, event.dev, event.type, event.ts, body, lane]);
      events.push(event);
      seq++;
    }
    return { events, appended, rows };
  }
}
