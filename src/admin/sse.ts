import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { EventBus } from '../core/bus.js';
import type { GatewaySignals } from '../core/driver.js';
import type { PortierEvent } from '../core/events.js';
import { eventJson } from '../store/event-log.js';
import type { EventQuery } from '../store/event-query.js';

/** bytes a slow client may have waiting in its socket before it is dropped (it reconnects and resumes by id) */
const MAX_BUFFERED_BYTES = 1_048_576;
/** ms between comment lines that keep proxies and phones from closing an idle stream */
const HEARTBEAT_MS = 15_000;
/** events replayed at most after a reconnect with Last-Event-ID */
const MAX_REPLAY = 1000;
/** concurrent streams; a dashboard holds one per open tab */
const MAX_CLIENTS = 32;

interface Client {
  res: ServerResponse;
  dev?: string;
  type?: string;
}

/**
 * Server-Sent Events (WHATWG HTML, "Server-sent events") of committed events. Each event is sent with its `seq` as
 * the SSE id, so a client that reconnects with `Last-Event-ID` gets what it missed from the event log first. A
 * client that cannot keep up is dropped rather than buffered without bound: the gateway's memory is for doors.
 */
export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly off: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  /** Clients dropped for being too slow, since start. */
  dropped = 0;

  constructor(
    private readonly events: EventQuery,
    bus: EventBus<GatewaySignals>,
    private readonly log: Logger,
  ) {
    this.off = bus.on('event', (e) => this.broadcast(e));
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) this.write(c, ': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** True when another stream may be opened. */
  hasRoom(): boolean {
    return this.clients.size < MAX_CLIENTS;
  }

  /**
   * Take over a response: send the stream's headers, what was missed since `lastEventId`, then every new event.
   * The replay is read in the same turn of the event loop as the client is added, so nothing falls between.
   */
  open(
    res: ServerResponse,
    opts: { dev?: string; type?: string; lastEventId?: number; headers: Record<string, string> },
  ) {
    res.writeHead(200, {
      ...opts.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = {
      res,
      ...(opts.dev ? { dev: opts.dev } : {}),
      ...(opts.type ? { type: opts.type } : {}),
    };
    this.write(client, 'retry: 2000\n\n');
    if (opts.lastEventId !== undefined) {
      for (const body of this.events.bodiesAfter(opts.lastEventId, MAX_REPLAY)) {
        this.send(client, JSON.parse(body) as PortierEvent, body);
      }
    }
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
  }

  /** End every stream (server shutdown): clients see the end and reconnect to the next daemon. */
  closeAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  close(): void {
    this.off();
    clearInterval(this.heartbeat);
    this.closeAll();
  }

  private broadcast(e: PortierEvent): void {
    if (this.clients.size === 0) return;
    const body = eventJson(e);
    for (const c of this.clients) this.send(c, e, body);
  }

  private send(c: Client, e: PortierEvent, body: string): void {
    if (c.dev !== undefined && e.dev !== c.dev) return;
    if (c.type !== undefined && e.type !== c.type) return;
    this.write(c, `id: ${e.seq}\nevent: event\ndata: ${body}\n\n`);
  }

  private write(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) {
      this.clients.delete(c);
      return;
    }
    if (c.res.writableLength > MAX_BUFFERED_BYTES) {
      this.dropped++;
      this.clients.delete(c);
      this.log.warn({ buffered: c.res.writableLength }, 'event stream client too slow: dropped (it may resume)');
      c.res.destroy();
      return;
    }
    c.res.write(text);
  }
}
