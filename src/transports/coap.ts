import type { EventEmitter } from 'node:events';
import type { CoapClient as Client, CoapResponse as RawResponse } from 'node-coap-client';
import type { Origin as OriginClass } from 'node-coap-client/build/lib/Origin.js';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../core/errors.js';
import type { CoapLink, CoapResponse } from '../core/links.js';

export interface CoapLinkOptions {
  /** ms, 100-120000, default 10000: how long get() waits when the caller gives no timeout */
  timeoutMs?: number;
  /** ms, 100-120000, default 10000: how long observe() waits for the first notification */
  observeTimeoutMs?: number;
}

/**
 * CoAP over UDP (RFC 7252) with GET and observe (RFC 7641), on node-coap-client.
 *
 * Plain `coap://` only. `coaps://` is refused with a clear error: node-dtls-client 1.x (what node-coap-client uses
 * for DTLS) crashes the whole process when a server sends a PSK identity hint, and a door gateway must not die
 * because a weather station is configured for DTLS.
 *
 * node-coap-client is one static client per process; this link keeps to the origins and observations it started
 * itself, and `close()` forgets only those.
 */
export function createCoapLink(log: Logger, opts: CoapLinkOptions = {}): CoapLink {
  return new UdpCoapLink(log.child({ transport: 'coap' }), opts);
}

interface Observation {
  url: string;
  listeners: Set<(res: CoapResponse) => void>;
}

/**
 * The library never listens for 'error' on its UDP sockets, so a send failing with ENETUNREACH (Wi-Fi gone) would
 * be thrown out of the event loop. Each socket gets one listener that logs instead.
 */
const guarded = new WeakSet<object>();

/** node-coap-client, loaded by the first link that resolves a URL (a gateway without CoAP devices never loads it). */
interface CoapLibrary {
  CoapClient: typeof Client;
  Origin: typeof OriginClass;
}

async function loadCoapLibrary(): Promise<CoapLibrary> {
  const [{ CoapClient }, { Origin }] = await Promise.all([
    import('node-coap-client'),
    import('node-coap-client/build/lib/Origin.js'),
  ]);
  return { CoapClient, Origin };
}

class UdpCoapLink implements CoapLink {
  /** Set by `resolveTarget`, which every request and observation passes first. */
  private lib: CoapLibrary | undefined;
  private readonly observations = new Map<string, Observation>();
  private readonly origins = new Set<string>();
  private closed = false;

  constructor(
    private readonly log: Logger,
    private readonly opts: CoapLinkOptions,
  ) {}

  async get(url: string, opts: { timeoutMs?: number } = {}): Promise<CoapResponse> {
    const target = await this.resolveTarget(url);
    const { CoapClient } = this.lib!;
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const raw = await Promise.race([
        CoapClient.request(target, 'get', undefined, { confirmable: true, retransmit: true, keepAlive: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PortierError(ErrorCode.TransportTimeout, `CoAP GET ${url}: no answer in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return toResponse(raw);
    } catch (err) {
      if (err instanceof PortierError) throw err;
      // The library rejects with bare strings ("Retransmit counter exceeded", "CoapClient was reset").
      throw new PortierError(ErrorCode.TransportClosed, `CoAP GET ${url}: ${reasonOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async observe(url: string, listener: (res: CoapResponse) => void): Promise<() => Promise<void>> {
    const target = await this.resolveTarget(url);
    const key = target.toString();
    const existing = this.observations.get(key);
    if (existing) {
      existing.listeners.add(listener);
      return this.canceller(key, listener);
    }
    const obs: Observation = { url: key, listeners: new Set([listener]) };
    this.observations.set(key, obs);
    const timeoutMs = this.opts.observeTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    let first: ((res: CoapResponse) => void) | undefined;
    const firstSeen = new Promise<CoapResponse>((resolve, reject) => {
      first = resolve;
      timer = setTimeout(
        () => reject(new PortierError(ErrorCode.TransportTimeout, `CoAP observe ${url}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await this.lib!.CoapClient.observe(target, 'get', (raw) => {
        const res = toResponse(raw);
        if (first) {
          first(res);
          first = undefined;
          // The registration's own answer: only a success means notifications will follow.
          if (!res.code.startsWith('2.')) return;
        }
        if (this.observations.get(key) !== obs) return;
        for (const l of [...obs.listeners]) {
          try {
            l(res);
          } catch (err) {
            this.log.error({ err, url }, 'coap observe listener threw');
          }
        }
      });
      const res = await firstSeen;
      if (!res.code.startsWith('2.')) {
        throw new PortierError(ErrorCode.TransportOpenFailed, `CoAP observe ${url}: server answered ${res.code}`);
      }
    } catch (err) {
      this.forget(key);
      if (err instanceof PortierError) throw err;
      throw new PortierError(ErrorCode.TransportOpenFailed, `CoAP observe ${url}: ${reasonOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
    return this.canceller(key, listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const key of [...this.observations.keys()]) this.forget(key);
    // Reset closes the sockets (so the process can exit) and fails what is still pending on them.
    const lib = this.lib;
    if (lib) for (const origin of this.origins) lib.CoapClient.reset(lib.Origin.parse(origin));
    this.origins.clear();
  }

  private canceller(key: string, listener: (res: CoapResponse) => void): () => Promise<void> {
    return async () => {
      const obs = this.observations.get(key);
      if (!obs?.listeners.delete(listener) || obs.listeners.size > 0) return;
      this.forget(key);
    };
  }

  /** Stop observing `key`. The server learns of it from the RST its next notification gets (RFC 7641 §3.6). */
  private forget(key: string): void {
    this.observations.delete(key);
    this.lib?.CoapClient.stopObserving(key);
  }

  /** Check the URL, open (or reuse) the socket for its origin, and guard that socket against 'error' events. */
  private async resolveTarget(url: string): Promise<URL> {
    if (this.closed) throw new PortierError(ErrorCode.TransportClosed, `CoAP link closed (${url})`);
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new PortierError(ErrorCode.ConfigInvalid, `CoAP url "${url}" is not a URL`);
    }
    if (target.protocol === 'coaps:') {
      throw new PortierError(
        ErrorCode.ConfigInvalid,
        `CoAP url "${url}": coaps:// (DTLS) is not supported, because node-dtls-client 1.x crashes the process on a PSK identity hint; use coap:// on a trusted network`,
      );
    }
    if (target.protocol !== 'coap:') {
      throw new PortierError(ErrorCode.ConfigInvalid, `CoAP url "${url}": scheme must be coap://`);
    }
    if (!target.port) target.port = '5683';
    this.lib ??= await loadCoapLibrary();
    const { CoapClient, Origin } = this.lib;
    const result = await CoapClient.tryToConnect(target);
    if (result !== true) {
      throw new PortierError(ErrorCode.TransportOpenFailed, `CoAP ${target.host}: ${reasonOf(result)}`);
    }
    this.origins.add(Origin.fromUrl(target).toString());
    this.guardSockets(CoapClient);
    return target;
  }

  private guardSockets(CoapClient: typeof Client): void {
    // Private in the typings, but the only handle on the library's sockets (see `guarded`).
    const connections = (CoapClient as unknown as { connections?: Map<string, { socket?: EventEmitter }> }).connections;
    for (const { socket } of connections?.values() ?? []) {
      if (!socket || guarded.has(socket)) continue;
      guarded.add(socket);
      socket.on('error', (err: Error) => this.log.warn({ err: err.message }, 'coap socket error'));
    }
  }
}

function toResponse(raw: RawResponse): CoapResponse {
  return { code: raw.code.toString(), payload: raw.payload ?? Buffer.alloc(0) };
}
