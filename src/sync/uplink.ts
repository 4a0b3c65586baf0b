import type { IClientPublishOptions } from 'mqtt';
import type { Logger } from 'pino';
import type { Outbox } from '../store/outbox.js';
import { type Batch, type BatchLimits, batchHead, takeBatch } from './batch.js';
import type { CloudConnection, CloudSession } from './connection.js';
import type { CloudTopics } from './topics.js';
import { AdaptiveWindow } from './window.js';

export interface CloudUplinkOptions {
  connection: CloudConnection;
  outbox: Outbox;
  topics: CloudTopics;
  gatewayId: string;
  limits: BatchLimits;
  /** ms a partial batch may wait for companions, 0-60000 (critical events never wait) */
  maxAgeMs: number;
  /** batches awaiting PUBACK at most, 1-256 */
  maxInflight: number;
  /** ms without PUBACK before the connection is dropped and everything unacknowledged is sent again */
  ackTimeoutMs: number;
  log: Logger;
}

/** What the uplink has done since start. */
export interface UplinkCounters {
  batchesSent: number;
  batchesAcked: number;
  eventsSent: number;
  eventsAcked: number;
  /** batches the broker refused with an MQTT 5 reason code (they stay in the outbox) */
  batchesRefused: number;
  /** times the connection was dropped because a PUBACK did not come in time */
  ackTimeouts: number;
}

interface InFlight {
  batch: Batch;
  sentAt: number;
  generation: number;
}

/** Bytes an MQTT PUBLISH needs beyond its payload (fixed header, topic, packet id, properties), generously. */
const PACKET_OVERHEAD = 1024;

/**
 * Drains the outbox to the cloud: batches in drain order (critical first, oldest first), each one JSON document
 * published with QoS 1 on `up/events`; a batch's outbox rows are deleted only when its PUBACK arrives. Up to
 * `window.size` batches await their PUBACK at once, the window adapting to the acknowledgement latency. When the
 * connection drops, everything not yet acknowledged is simply still in the outbox and goes out again, oldest
 * first, after the reconnect: the first seconds of an outage cannot be lost, only sent twice under the same ids.
 */
export class CloudUplink {
  readonly window: AdaptiveWindow;
  readonly counters: UplinkCounters = {
    batchesSent: 0,
    batchesAcked: 0,
    eventsSent: 0,
    eventsAcked: 0,
    batchesRefused: 0,
    ackTimeouts: 0,
  };
  private readonly head: string;
  /** Per lane, the highest seq already taken into a batch on this connection. */
  private cursors = [0, 0, 0];
  private readonly inflight = new Map<number, InFlight>();
  private inflightEvents = [0, 0, 0];
  private batchNo = 0;
  private session: CloudSession | undefined;
  private pumpScheduled = false;
  private partialSince: number | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly ackListeners: Array<(batch: Batch, latencyMs: number) => void> = [];

  constructor(private readonly opts: CloudUplinkOptions) {
    this.head = batchHead(opts.gatewayId);
    this.window = new AdaptiveWindow(opts.maxInflight);
    opts.connection.onUp((s) => this.connected(s));
    opts.connection.onDown(() => this.disconnected());
  }

  /** Something was appended to the outbox: look for a batch soon (never synchronously inside the commit). */
  notify(): void {
    this.schedulePump();
  }

  /** Called after each acknowledged batch with its latency (ms). */
  onAck(listener: (batch: Batch, latencyMs: number) => void): void {
    this.ackListeners.push(listener);
  }

  /** Batches awaiting their PUBACK. */
  get inflightBatches(): number {
    return this.inflight.size;
  }

  /** The highest seq of a lane taken into a batch on the live connection (0 while down): never shed those. */
  takenUpTo(lane: number): number {
    return this.session ? (this.cursors[lane] ?? 0) : 0;
  }

  /** True when nothing is waiting and nothing is in flight. */
  idle(): boolean {
    return this.inflight.size === 0 && this.opts.outbox.total() === 0;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.ageTimer);
    clearInterval(this.ackTimer);
    this.session = undefined;
  }

  private connected(s: CloudSession): void {
    if (this.stopped) return;
    this.session = s;
    this.resetFlight();
    this.window.reset();
    this.window.capTo(s.receiveMaximum);
    // The in-memory counts decide whether to look for a batch at all; make sure they do not hide a backlog.
    if (this.opts.outbox.total() === 0 && this.opts.outbox.anyWaiting()) this.opts.outbox.recount();
    clearInterval(this.ackTimer);
    this.ackTimer = setInterval(() => this.checkAckTimeout(), Math.max(250, Math.floor(this.opts.ackTimeoutMs / 4)));
    this.ackTimer.unref();
    this.schedulePump();
  }

  private disconnected(): void {
    this.session = undefined;
    clearInterval(this.ackTimer);
    this.resetFlight();
  }

  /** Forget what was in flight: it is all still in the outbox and is taken again from the oldest. */
  private resetFlight(): void {
    this.inflight.clear();
    this.inflightEvents = [0, 0, 0];
    this.cursors = [0, 0, 0];
    this.partialSince = undefined;
    clearTimeout(this.ageTimer);
    this.ageTimer = undefined;
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump(false);
    });
  }

  private pump(ageExpired: boolean): void {
    const s = this.session;
    if (!s || this.stopped) return;
    const limits = this.limitsFor(s);
    while (this.inflight.size < this.window.size) {
      if (!ageExpired && this.shouldWait(limits)) return;
      const before = [...this.cursors];
      const batch = takeBatch(this.opts.outbox, this.cursors, limits, this.head);
      if (!batch) {
        // Nothing to take and nothing in flight, yet the counts say something waits: they drifted (someone
        // else deleted rows); count again so `idle()` and the metrics tell the truth.
        if (this.inflight.size === 0 && this.opts.outbox.total() > 0) this.opts.outbox.recount();
        return;
      }
      if (!batch.full && !batch.critical && !ageExpired && !this.partialDue()) {
        this.cursors = before;
        return;
      }
      if (!batch.full) this.partialSince = undefined;
      ageExpired = false;
      this.publish(s, batch);
    }
  }

  /**
   * Whether to hold off without reading the table: the in-memory counts say too little is waiting for a full batch,
   * none of it critical, and the oldest has not waited its `maxAgeMs` yet.
   */
  private shouldWait(limits: BatchLimits): boolean {
    const { outbox } = this.opts;
    let events = 0;
    let bytes = 0;
    for (let lane = 0; lane < 3; lane++) {
      const b = outbox.lane(lane);
      const waiting = b.count - (this.inflightEvents[lane] ?? 0);
      if (lane === 0 && waiting > 0) return false;
      events += waiting;
      bytes += (b.bytes * waiting) / Math.max(1, b.count);
    }
    // Nothing waiting by the counts; the counts are checked against the table at every connect.
    if (events <= 0) return true;
    if (events >= limits.maxEvents || bytes >= limits.maxBytes) return false;
    return !this.partialDue();
  }

  /** Start the age clock of a partial batch on first sight; true once it has waited `maxAgeMs`. */
  private partialDue(): boolean {
    if (this.opts.maxAgeMs === 0) return true;
    const now = performance.now();
    if (this.partialSince === undefined) {
      this.partialSince = now;
      clearTimeout(this.ageTimer);
      this.ageTimer = setTimeout(() => {
        this.ageTimer = undefined;
        this.pump(true);
      }, this.opts.maxAgeMs);
      return false;
    }
    return now - this.partialSince >= this.opts.maxAgeMs;
  }

  private limitsFor(s: CloudSession): BatchLimits {
    const cap = s.maxPacketSize ? Math.max(1024, s.maxPacketSize - PACKET_OVERHEAD) : Number.POSITIVE_INFINITY;
    return { maxEvents: this.opts.limits.maxEvents, maxBytes: Math.min(this.opts.limits.maxBytes, cap) };
  }

  private publish(s: CloudSession, batch: Batch): void {
    const id = ++this.batchNo;
    const entry: InFlight = { batch, sentAt: performance.now(), generation: s.generation };
    this.inflight.set(id, entry);
    batch.perLane.forEach((l, lane) => {
      this.inflightEvents[lane] = (this.inflightEvents[lane] ?? 0) + l.count;
    });
    this.counters.batchesSent++;
    this.counters.eventsSent += batch.count;
    const options: IClientPublishOptions = { qos: 1 };
    if (s.version === 5) options.properties = { payloadFormatIndicator: true, contentType: 'application/json' };
    s.client.publish(this.opts.topics.events, batch.payload, options, (err) => this.acked(id, entry, err));
  }

  private acked(id: number, entry: InFlight, err: Error | undefined): void {
    // A callback from a connection that is gone: its rows are being sent again on the new one.
    if (this.session?.generation !== entry.generation || this.inflight.get(id) !== entry) return;
    this.inflight.delete(id);
    entry.batch.perLane.forEach((l, lane) => {
      this.inflightEvents[lane] = Math.max(0, (this.inflightEvents[lane] ?? 0) - l.count);
    });
    if (err) {
      // The broker refused the batch (MQTT 5 reason code, e.g. quota or ACL): keep the rows and start over on a
      // fresh connection after the backoff rather than skipping ahead of them.
      this.counters.batchesRefused++;
      this.opts.log.warn({ err: err.message, events: entry.batch.count }, 'cloud broker refused a batch');
      this.opts.connection.drop(`batch refused: ${err.message}`);
      return;
    }
    const latency = performance.now() - entry.sentAt;
    this.opts.outbox.acknowledge(entry.batch.ranges, entry.batch.perLane);
    this.counters.batchesAcked++;
    this.counters.eventsAcked += entry.batch.count;
    this.window.acked(latency);
    for (const l of this.ackListeners) l(entry.batch, latency);
    this.schedulePump();
  }

  private checkAckTimeout(): void {
    const now = performance.now();
    for (const entry of this.inflight.values()) {
      if (now - entry.sentAt > this.opts.ackTimeoutMs) {
        this.counters.ackTimeouts++;
        this.window.lost();
        this.opts.connection.drop(`no PUBACK within ${this.opts.ackTimeoutMs} ms`);
        return;
      }
    }
  }
}
