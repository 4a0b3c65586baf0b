import { realpath } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SerialPort } from 'serialport';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { SerialLink, SerialOptions } from '../core/links.js';
import { Backoff, SERIAL_BACKOFF } from './backoff.js';
import { createFramer, type Framer } from './framing.js';
import { ReconnectingLink } from './link.js';

/**
 * A serial port as a link: opens `path` (resolving /dev/serial/by-id symlinks at every attempt, since a replugged
 * adapter may come back as another ttyUSB), frames what arrives, and treats a close, an I/O error or a silent
 * device (`idleTimeoutMs`) as `down`, then reopens with backoff (capped at 2 s by default).
 *
 * Never calls `SerialPort.list()`: it shells out to udevadm, which a minimal Pi image or a container lacks.
 */
export function createSerialLink(opts: SerialOptions, log: Logger): SerialLink {
  return new SerialPortLink(opts, log);
}

class SerialPortLink extends ReconnectingLink implements SerialLink {
  private port: SerialPort | undefined;
  private readonly framer: Framer;
  private readonly frameListeners = new Set<(frame: Buffer) => void>();
  private readonly overflowListeners = new Set<(length: number) => void>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: SerialOptions,
    log: Logger,
  ) {
    super(log.child({ transport: 'serial', path: opts.path }), new Backoff(opts.backoff, SERIAL_BACKOFF));
    if (!opts.path) throw new PortierError(ErrorCode.ConfigInvalid, 'serial path is empty');
    if (!Number.isInteger(opts.baudRate) || opts.baudRate <= 0) {
      throw new PortierError(
        ErrorCode.ConfigInvalid,
        `serial baudRate must be a positive integer, got ${opts.baudRate}`,
      );
    }
    const idle = opts.idleTimeoutMs ?? 0;
    if (!Number.isFinite(idle) || idle < 0) {
      throw new PortierError(ErrorCode.ConfigInvalid, `serial idleTimeoutMs must be >= 0, got ${idle}`);
    }
    this.framer = createFramer(opts.framing, {
      frame: (frame) => this.emit(this.frameListeners, frame),
      overflow: (length) => {
        this.log.warn(
          { length, maxLength: opts.framing.kind === 'line' ? opts.framing.maxLength : undefined },
          'line too long, dropped',
        );
        this.emit(this.overflowListeners, length);
      },
    });
  }

  onFrame(listener: (frame: Buffer) => void): () => void {
    this.frameListeners.add(listener);
    return () => {
      this.frameListeners.delete(listener);
    };
  }

  onOverflow(listener: (length: number) => void): () => void {
    this.overflowListeners.add(listener);
    return () => {
      this.overflowListeners.delete(listener);
    };
  }

  async write(data: Buffer | string): Promise<void> {
    const port = this.port;
    if (this.state !== 'up' || !port) {
      throw new PortierError(ErrorCode.TransportClosed, `serial ${this.opts.path} is ${this.state}`, {
        path: this.opts.path,
      });
    }
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => {
        if (err) return reject(writeFailed(this.opts.path, err));
        // drain() waits for tcdrain(), so a resolved write has left the gateway, not just Node's buffer.
        port.drain((e) => (e ? reject(writeFailed(this.opts.path, e)) : resolve()));
      });
    });
  }

  protected async open(): Promise<void> {
    let device: string;
    try {
      device = await realpath(this.opts.path);
    } catch (err) {
      throw new PortierError(ErrorCode.TransportOpenFailed, `serial ${this.opts.path}: ${shortReason(err)}`, {
        path: this.opts.path,
      });
    }
    // Loaded by the first serial link that opens (at its device's start): a gateway without serial devices never
    // loads serialport and its bindings.
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({ path: device, baudRate: this.opts.baudRate, autoOpen: false });
    // Bound to this port object: events of a port we already gave up on must not touch the current one.
    port.on('data', (chunk: Buffer) => {
      if (port !== this.port) return;
      this.watchdog?.refresh();
      this.log.trace({ bytes: chunk.length }, 'serial data');
      this.framer.push(chunk);
    });
    port.on('error', (err: Error) => {
      if (port === this.port) this.lost(`serial error: ${err.message}`);
    });
    port.on('close', (err?: Error | null) => {
      if (port === this.port) this.lost(err ? `serial closed: ${err.message}` : 'serial closed');
    });
    this.port = port;
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      throw new PortierError(ErrorCode.TransportOpenFailed, `serial ${device}: ${shortReason(err)}`, {
        path: this.opts.path,
      });
    }
    if (port !== this.port) {
      // Released (stopped) while the open was under way: release() could not close a port that was not open yet.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      throw new PortierError(ErrorCode.TransportClosed, `serial ${this.opts.path}: released while opening`);
    }
    this.framer.reset();
    this.armWatchdog();
    this.log.debug({ device }, 'serial open');
  }

  protected async release(): Promise<void> {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const port = this.port;
    this.port = undefined;
    this.framer.reset();
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private armWatchdog(): void {
    const idle = this.opts.idleTimeoutMs ?? 0;
    if (idle <= 0) return;
    this.watchdog = setTimeout(() => {
      this.watchdog = undefined;
      this.lost(`no data for ${idle} ms`);
    }, idle);
  }

  private emit<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (err) {
        this.log.error({ err }, 'serial listener threw');
      }
    }
  }
}

function writeFailed(path: string, err: unknown): PortierError {
  return new PortierError(
    ErrorCode.TransportClosed,
    `serial ${path}: write failed: ${reasonOf(err)}`,
    { path },
    {
      cause: err,
    },
  );
}

/** "ENOENT: no such file or directory, realpath '/x'" → "no such file or directory". */
function shortReason(err: unknown): string {
  const message = reasonOf(err);
  const m = /^E[A-Z]+: ([^,]+)/.exec(message);
  return m?.[1] ?? message;
}
