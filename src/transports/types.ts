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
  /**
   * ms, cap while the peer has been away briefly: the ceiling then grows only to a tenth of the absence (up to
   * maxMs), so a restarted peer is found again within seconds. Unset: maxMs applies from the first attempt.
   */
  quickMaxMs?: number;
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
  /**
   * From now on, a filter whose last handler goes away stays subscribed at the broker. Called when the gateway
   * stops: its drivers remove their handlers, but the persistent session must go on queueing their messages
   * until the gateway is back.
   */
  keepSubscriptions(): void;
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
