import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { UdpListenOptions, UdpTransport } from '../core/links.js';

interface Listener {
  claim: string | undefined;
  onDatagram: (buf: Buffer, remote: string) => boolean;
}

interface Shared {
  socket: Socket;
  ready: Promise<void>;
  listeners: Listener[];
  /** Datagrams no listener took, since open. */
  dropped: number;
}

/**
 * The UDP sockets of one gateway, shared per host:port and reference-counted (a Shelly CoIoT port serves every
 * Shelly). Owned by the gateway and closed with it; nothing at module level, so two gateways in one process (tests)
 * never see each other's sockets.
 */
export class UdpListeners implements UdpTransport {
  private readonly sockets = new Map<string, Shared>();

  constructor(private readonly log: Logger) {}

  async listen(
    opts: UdpListenOptions,
    onDatagram: (buf: Buffer, remote: string) => boolean,
  ): Promise<() => Promise<void>> {
    const key = `${opts.host}:${opts.port}`;
    const shared = this.sockets.get(key) ?? this.open(key, opts);
    try {
      await shared.ready;
    } catch (err) {
      if (this.sockets.get(key) === shared) this.sockets.delete(key);
      shared.socket.close();
      throw new PortierError(ErrorCode.TransportOpenFailed, `UDP ${key}: ${reasonOf(err)}`);
    }
    if (opts.claim !== undefined && shared.listeners.some((l) => l.claim === opts.claim)) {
      throw new PortierError(ErrorCode.ConfigInvalid, `${opts.claim} is already taken on UDP ${key}`);
    }
    const listener: Listener = { claim: opts.claim, onDatagram };
    shared.listeners.push(listener);
    return async () => {
      const i = shared.listeners.indexOf(listener);
      if (i < 0) return;
      shared.listeners.splice(i, 1);
      if (shared.listeners.length > 0) return;
      if (this.sockets.get(key) === shared) this.sockets.delete(key);
      await new Promise<void>((resolve) => shared.socket.close(() => resolve()));
    };
  }

  /** Datagrams on host:port that no listener took, since the socket opened (0 when it is not open). */
  dropped(host: string, port: number): number {
    return this.sockets.get(`${host}:${port}`)?.dropped ?? 0;
  }

  /** Close every socket (the gateway stops). */
  close(): void {
    for (const s of this.sockets.values()) s.socket.close();
    this.sockets.clear();
  }

  private open(key: string, opts: UdpListenOptions): Shared {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    const s: Shared = { socket, ready: Promise.resolve(), listeners: [], dropped: 0 };
    socket.on('message', (buf, rinfo) => {
      for (const l of s.listeners) {
        try {
          if (l.onDatagram(buf, rinfo.address)) return;
        } catch (err) {
          this.log.error({ err, port: opts.port }, 'UDP listener threw');
          return;
        }
      }
      s.dropped++;
    });
    s.ready = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log.warn({ err: err.message, port: opts.port }, 'UDP socket error'));
        if (opts.multicastGroup) {
          try {
            socket.addMembership(opts.multicastGroup);
          } catch (err) {
            // No multicast route (a container, no network yet): unicast from a configured peer still works.
            this.log.warn({ err: reasonOf(err), group: opts.multicastGroup }, 'could not join the multicast group');
          }
        }
        resolve();
      });
    });
    this.sockets.set(key, s);
    return s;
  }
}
