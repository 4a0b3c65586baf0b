import { createRequire } from 'node:module';
import type { Logger } from 'pino';

/**
 * systemd's notify protocol (sd_notify(3)): newline-separated `KEY=VALUE` assignments sent as one datagram to the
 * AF_UNIX socket named by `NOTIFY_SOCKET`. Used with `Type=notify` and `WatchdogSec=` (systemd/portier.service):
 * `READY=1` once the gateway is up, `WATCHDOG=1` while it is healthy, `STOPPING=1` at shutdown, `STATUS=` for
 * `systemctl status`. Everything is a no-op when `NOTIFY_SOCKET` is unset (a bench, a test, the demo).
 *
 * Node has no AF_UNIX datagram sockets of its own, hence the `unix-dgram` addon (as in Zigbee2MQTT).
 */

/** Where `NOTIFY_SOCKET` points. */
export type NotifyTarget = { kind: 'path'; path: string } | { kind: 'abstract'; name: string };

/** The longest filesystem socket path that fits `sun_path` (108 bytes including the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Parse `NOTIFY_SOCKET`: an absolute path, or `@name` for a Linux abstract socket (sd_notify(3)).
 * Returns undefined when the variable is unset or empty.
 */
export function parseNotifySocket(
  value: string | undefined,
): NotifyTarget | { kind: 'unsupported'; value: string } | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.startsWith('/')) return { kind: 'path', path: value };
  if (value.startsWith('@') && value.length > 1) return { kind: 'abstract', name: value.slice(1) };
  return { kind: 'unsupported', value };
}

/** Field names are upper-case ASCII words, as the protocol defines them (READY, STATUS, WATCHDOG_USEC, ...). */
const FIELD_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Encode assignments as one notify message. A newline inside a value would start a new assignment (a STATUS text
 * could then forge `READY=1`), so line breaks in values become spaces.
 */
export function formatNotifyMessage(fields: Record<string, string | number>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (!FIELD_NAME.test(key)) throw new TypeError(`sd_notify field name must be upper-case ASCII, got "${key}"`);
    lines.push(`${key}=${String(value).replace(/[\r\n]+/g, ' ')}`);
  }
  return lines.join('\n');
}

/**
 * ms between watchdog pings: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) recommends. Undefined when the
 * watchdog is off, or when `WATCHDOG_PID` names another process (the variable was inherited by a child).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;
}

export interface SdNotifierOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/**
 * A connection to the service manager's notify socket. Sending never throws: a failed notification is logged and
 * counted, and the gateway keeps running (the watchdog then restarts it if pings stop arriving).
 */
export class SdNotifier {
  /** False when NOTIFY_SOCKET is unset or unusable; every call is then a no-op. */
  readonly enabled: boolean;
  /** Why the notifier is disabled although NOTIFY_SOCKET is set (a short stable code), if it is. */
  readonly problem?: 'abstract_socket_unsupported' | 'socket_path_too_long' | 'unsupported_address' | 'open_failed';
  /** Messages handed to the socket, and messages that failed. */
  sent = 0;
  failed = 0;
  private readonly path: string | undefined;
  private socket: UnixDgramSocket | undefined;
  private readonly log: Logger | undefined;
  private failing = false;

  constructor(opts: SdNotifierOptions = {}) {
    const env = opts.env ?? process.env;
    this.log = opts.log?.child({ component: 'sd-notify' });
    const target = parseNotifySocket(env.NOTIFY_SOCKET);
    let path: string | undefined;
    if (target?.kind === 'path') {
      if (Buffer.byteLength(target.path) > MAX_SOCKET_PATH_BYTES) {
        // unix-dgram would silently truncate it and send to another path.
        this.problem = 'socket_path_too_long';
      } else {
        path = target.path;
      }
    } else if (target?.kind === 'abstract') {
      // unix-dgram copies the address with strncpy(), which stops at the leading NUL of an abstract name: every
      // abstract name would become the same all-zero address. systemd itself uses /run/systemd/notify.
      this.problem = 'abstract_socket_unsupported';
    } else if (target?.kind === 'unsupported') {
      this.problem = 'unsupported_address';
    }
    if (path !== undefined) {
      try {
        const require = createRequire(import.meta.url);
        const dgram = require('unix-dgram') as UnixDgramModule;
        this.socket = dgram.createSocket('unix_dgram');
        this.socket.on('error', (err) => this.onFailure(err));
      } catch (err) {
        this.problem = 'open_failed';
        this.log?.error({ err }, 'cannot open a unix datagram socket for sd_notify');
        path = undefined;
      }
    }
    this.path = path;
    this.enabled = path !== undefined;
    if (this.problem) {
      this.log?.error(
        { notifySocket: env.NOTIFY_SOCKET, reason: this.problem },
        'NOTIFY_SOCKET is set but cannot be used: systemd will not see READY=1 or watchdog pings',
      );
    }
  }

  /** Send assignments; true when the message was handed to the socket. */
  notify(fields: Record<string, string | number>): boolean {
    if (!this.socket || this.path === undefined) return false;
    const buf = Buffer.from(formatNotifyMessage(fields), 'utf8');
    let ok = false;
    // unix-dgram calls back synchronously (its README: "events and callbacks are synchronous").
    this.socket.send(buf, 0, buf.length, this.path, (err) => {
      if (err) this.onFailure(err);
      else ok = true;
    });
    if (ok) {
      this.sent += 1;
      if (this.failing) {
        this.failing = false;
        this.log?.info('sd_notify works again');
      }
    }
    return ok;
  }

  /** Startup finished: systemd moves the unit to "active". */
  ready(status?: string): boolean {
    return this.notify(status === undefined ? { READY: 1 } : { READY: 1, STATUS: status });
  }

  /** Shutdown began. */
  stopping(status?: string): boolean {
    return this.notify(status === undefined ? { STOPPING: 1 } : { STOPPING: 1, STATUS: status });
  }

  /** One-line status for `systemctl status`. */
  status(text: string): boolean {
    return this.notify({ STATUS: text });
  }

  /** Keep-alive ping; only send it while the gateway is healthy (see startWatchdog). */
  watchdog(): boolean {
    return this.notify({ WATCHDOG: 1 });
  }

  /** Ask for more start or stop time (ms from now), e.g. during a long integrity check of the database. */
  extendTimeout(ms: number): boolean {
    return this.notify({ EXTEND_TIMEOUT_USEC: Math.max(0, Math.round(ms * 1000)) });
  }

  close(): void {
    const socket = this.socket;
    this.socket = undefined;
    try {
      socket?.close();
    } catch (err) {
      this.log?.debug({ err }, 'closing the sd_notify socket failed');
    }
  }

  private onFailure(err: Error): void {
    this.failed += 1;
    // Log the first failure of a run loudly and the rest quietly: the watchdog would repeat it every few seconds.
    if (!this.failing) this.log?.warn({ err, notifySocket: this.path }, 'sd_notify failed');
    else this.log?.debug({ err }, 'sd_notify failed again');
    this.failing = true;
  }
}

/** Create the process's notifier from its environment. */
export function createSdNotifier(opts: SdNotifierOptions = {}): SdNotifier {
  return new SdNotifier(opts);
}

/** What a health check answers: a boolean, or a verdict with a reason for `systemctl status`. */
export type HealthVerdict = boolean | { healthy: boolean; reason?: string };

export interface WatchdogOptions {
  notifier: SdNotifier;
  /** Decides whether this period's ping is sent. A throw or a rejection counts as unhealthy. */
  isHealthy: () => HealthVerdict | Promise<HealthVerdict>;
  env?: NodeJS.ProcessEnv;
  /** ms between checks; defaults to half of WATCHDOG_USEC (1-... ms). */
  intervalMs?: number;
  log?: Logger;
  /** Called after every check (for metrics and tests). */
  onTick?: (result: { healthy: boolean; pinged: boolean; reason?: string }) => void;
}

export interface Watchdog {
  /** ms between checks, or undefined when the watchdog is off (no timer runs). */
  readonly intervalMs: number | undefined;
  /** The last verdict (true before the first check). */
  readonly healthy: boolean;
  /** Run one check now and ping when healthy; resolves to whether a ping was sent. */
  tick(): Promise<boolean>;
  stop(): void;
}

/**
 * Ping the systemd watchdog at half of WATCHDOG_USEC, but only while `isHealthy` says so: a gateway whose event
 * loop or store is stuck stops pinging, and systemd restarts it after WatchdogSec. A check still pending when the
 * next one is due counts as unhealthy (a hung check must not keep the process alive).
 */
export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const log = opts.log?.child({ component: 'watchdog' });
  const intervalMs = opts.notifier.enabled ? (opts.intervalMs ?? watchdogIntervalMs(opts.env)) : undefined;
  let healthy = true;
  let pending = false;
  let stopped = false;

  const report = (ok: boolean, pinged: boolean, reason?: string): void => {
    if (ok !== healthy) {
      if (ok) {
        log?.info('healthy again: watchdog pings resume');
        opts.notifier.status('running');
      } else {
        log?.warn({ reason }, 'unhealthy: watchdog pings withheld, systemd will restart the gateway');
        opts.notifier.status(`unhealthy${reason ? `: ${reason}` : ''}`);
      }
    }
    healthy = ok;
    opts.onTick?.(reason === undefined ? { healthy: ok, pinged } : { healthy: ok, pinged, reason });
  };

  const tick = async (): Promise<boolean> => {
    if (stopped) return false;
    if (pending) {
      report(false, false, 'health check still running');
      return false;
    }
    pending = true;
    let verdict: { healthy: boolean; reason?: string };
    try {
      const v = await opts.isHealthy();
      verdict = typeof v === 'boolean' ? { healthy: v } : v;
    } catch (err) {
      verdict = { healthy: false, reason: `health check failed: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      pending = false;
    }
    if (stopped) return false;
    const pinged = verdict.healthy ? opts.notifier.watchdog() : false;
    report(verdict.healthy, pinged, verdict.reason);
    return pinged;
  };

  let timer: NodeJS.Timeout | undefined;
  if (intervalMs !== undefined) {
    void tick();
    timer = setInterval(() => void tick(), intervalMs);
    // The watchdog must never be what keeps a finished process alive.
    timer.unref();
  }

  return {
    intervalMs,
    get healthy() {
      return healthy;
    },
    tick,
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
  };
}
