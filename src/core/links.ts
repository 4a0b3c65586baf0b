import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What drivers see of the wires. Each link is a state machine (never an exit): it opens, reports `up`, loses the
 * device, reports `down` with a reason, and reopens with exponential backoff and jitter until stopped.
 */

export type LinkState = 'idle' | 'connecting' | 'up' | 'down' | 'stopped';

export interface StateChange {
  state: LinkState;
  /** Why the link went down, for `device.health` and logs. */
  reason?: string;
}

export interface BackoffSettings {
  /** ms, first retry delay, default 250 */
  initialMs?: number;
  /** ms, cap on the delay between attempts, default 2000 for serial, 10000 for network */
  maxMs?: number;
}

export interface Link {
  readonly state: LinkState;
  /** Register a listener for state changes; returns an unsubscribe function. */
  onState(listener: (change: StateChange) => void): () => void;
  start(): void;
  stop(): Promise<void>;
}

// ---- serial ---------------------------------------------------------------------------------------------------

export type SerialFraming =
  /** Lines ended by `delimiter` (default "\n", a trailing "\r" is stripped); longer lines are dropped whole. */
  | { kind: 'line'; delimiter?: string; maxLength: number }
  /** Frames of exactly `length` bytes. */
  | { kind: 'fixed'; length: number }
  /** Chunks as they arrive; the driver frames them itself. */
  | { kind: 'raw' };

export interface SerialOptions {
  /** Prefer /dev/serial/by-id/... so a replugged adapter keeps its name. */
  path: string;
  baudRate: number;
  framing: SerialFraming;
  /** ms without any byte after which the link is treated as down and reopened; 0 = off */
  idleTimeoutMs?: number;
  backoff?: BackoffSettings;
}

export interface SerialLink extends Link {
  /** One complete frame (framing 'line' gives the line without its delimiter). */
  onFrame(listener: (frame: Buffer) => void): () => void;
  /** A line longer than `maxLength`: dropped, with the length seen so far. */
  onOverflow(listener: (length: number) => void): () => void;
  write(data: Buffer | string): Promise<void>;
}

// ---- mqtt (local broker) ----------------------------------------------------------------------------------------

export interface MqttPublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface MqttLink extends Link {
  /**
   * Subscribe with a topic filter (+ and # allowed); the handler sees only messages that match this filter.
   * `opts.qos` is the maximum QoS asked of the broker for this filter (default 0).
   */
  subscribe(filter: string, handler: (topic: string, payload: Buffer) => void, opts?: { qos?: 0 | 1 | 2 }): () => void;
  publish(topic: string, payload: string | Buffer, opts?: MqttPublishOptions): Promise<void>;
  /**
   * Run `fn`, whose publishes are written to the socket together at the end of this tick (one write instead of
   * several per message): for bursts of small messages.
   */
  corked?(fn: () => void): void;
  /**
   * Write a QoS 0 message now, without waiting for anything or tracking it: for best-effort streams. Says
   * `congested` (and sends nothing) while the socket holds more unsent bytes than the link allows, and `down`
   * when not connected. Throws ConfigInvalid for a topic that cannot be published to.
   */
  sendQos0(topic: string, payload: string | Buffer, retain: boolean): 'sent' | 'congested' | 'down';
}

// ---- gpio -------------------------------------------------------------------------------------------------------

export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type Bit = 0 | 1;

export interface GpioInput {
  read(): Bit;
  /** Called on every edge of the configured kind with the new value. */
  watch(listener: (value: Bit) => void): () => void;
  close(): void;
}

export interface GpioOutput {
  write(value: Bit): void;
  read(): Bit;
  close(): void;
}

export interface GpioBackend {
  readonly name: 'onoff' | 'sim';
  /** `line` is the BCM line number (0-27 on a Pi header); the backend adds the gpiochip base where needed. */
  input(line: number, opts?: { edge?: Edge; debounceMs?: number; activeLow?: boolean }): GpioInput;
  output(line: number, opts?: { initial?: Bit; activeLow?: boolean }): GpioOutput;
  close(): void;
}

// ---- coap -------------------------------------------------------------------------------------------------------

export interface CoapResponse {
  /** e.g. "2.05" */
  code: string;
  payload: Buffer;
}

export interface CoapLink {
  get(url: string, opts?: { timeoutMs?: number }): Promise<CoapResponse>;
  /** Observe a resource (RFC 7641); the listener gets every notification. Returns a function that cancels it. */
  observe(url: string, listener: (res: CoapResponse) => void): Promise<() => Promise<void>>;
  close(): void;
}

// ---- http -------------------------------------------------------------------------------------------------------

/** One request as a device sent it: the raw body text and the query, never parsed further here. */
export interface HttpUpload {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  /** The body as text (form bodies stay unparsed: the codec owns the format). */
  body: string;
  contentType: string | undefined;
  /** The sender's address. */
  remote: string;
}

/** What to answer. */
export interface HttpAnswer {
  status: number;
  body?: string;
}

export interface HttpListenerOptions {
  /** Address to listen on; 0.0.0.0 for a station on the LAN, 127.0.0.1 for tests. */
  host: string;
  /** TCP port, 0-65535 (0: any free port, for tests). */
  port: number;
  /** Paths accepted (exact, e.g. "/data/report/"); anything else is 404. */
  paths: string[];
  /** Methods accepted, default POST and GET (some stations send the same fields as a query). */
  methods?: Array<'POST' | 'GET'>;
  /** bytes, 256-1048576, default 16384: a longer body is refused with 413 */
  bodyLimit?: number;
  backoff?: BackoffSettings;
}

export interface HttpListenerLink extends Link {
  /** The port actually bound (useful with port 0), or 0 while not listening. */
  readonly port: number;
  /** Set the one handler of uploads; it may throw, which answers 500 and is logged. */
  onUpload(handler: (upload: HttpUpload) => HttpAnswer): void;
}

/** A request and its response as node:http gives them, for a driver that serves pages (the pass reader). */
export type HttpRequest = IncomingMessage;
export type HttpResponse = ServerResponse;

export interface HttpServeOptions {
  host: string;
  /** TCP port, 0-65535 (0: any free port, for tests). */
  port: number;
}

/** A listening server of raw requests; slow or idle clients are cut off (the transport sets the timeouts). */
export interface HttpServer {
  /** The port actually bound. */
  readonly port: number;
  /** Report a server error after listening (the driver reports itself down). */
  onError(listener: (err: Error) => void): void;
  /** Close every connection and stop listening. */
  close(): Promise<void>;
}

/** HTTP through the driver context: pushed uploads as a link, or a server of raw requests. */
export interface HttpTransport {
  listen(opts: HttpListenerOptions): HttpListenerLink;
  /** Resolves once listening; rejects with TransportOpenFailed when the port cannot be bound. */
  serve(opts: HttpServeOptions, handler: (req: HttpRequest, res: HttpResponse) => void): Promise<HttpServer>;
}

// ---- udp --------------------------------------------------------------------------------------------------------

export interface UdpListenOptions {
  /** Address to bind, 0.0.0.0 to receive multicast */
  host: string;
  port: number;
  /** A multicast group to join on the default interface (a failure to join is logged; unicast still works). */
  multicastGroup?: string;
  /**
   * A key this listener claims on its port (a Shelly's MAC): a second listener with the same key on the same
   * port is refused with ConfigInvalid.
   */
  claim?: string;
}

/**
 * UDP datagrams through the driver context. One socket serves every listener on a host:port (the port belongs to
 * the gateway, not to a device); each datagram is offered to the listeners until one takes it (returns true).
 */
export interface UdpTransport {
  /** Resolves once the socket listens with a function that stops this listener (the last one closes the socket). */
  listen(opts: UdpListenOptions, onDatagram: (buf: Buffer, remote: string) => boolean): Promise<() => Promise<void>>;
}
