import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  CoapOption,
  type CoapOptionValue,
  CoapType,
  codeNumber,
  decodeCoap,
  encodeCoap,
  optionValue,
  readUint,
  uintOption,
  uriPath,
} from '../src/transports/coap-message.js';

/** A resource the server serves: its current representation and content format. */
export interface CoapResource {
  payload: Buffer;
  /** RFC 7252 content format, e.g. 50 application/json, 110 application/senml+json */
  contentFormat: number;
}

interface Observer {
  address: string;
  port: number;
  token: Buffer;
  path: string;
  /** message id of the last notification, so an RST for it ends the observation */
  lastMid: number;
}

const GET = 1;

/**
 * A small CoAP server on UDP, written from RFC 7252 and RFC 7641 for device stubs: answers the empty-CON ping with
 * RST (as every CoAP endpoint must; node-coap-client pings before its first request), serves GET on its resources
 * (piggybacked in the ACK for CON, a separate NON for NON), registers observers (Observe 0) and deregisters them
 * (Observe 1, or an RST for a notification), and sends each change to every observer as a CON notification with
 * a rising Observe sequence number. Unknown paths get 4.04, other methods 4.05.
 */
export class CoapResourceServer {
  private socket: Socket | undefined;
  private readonly resources = new Map<string, CoapResource>();
  private readonly observers = new Map<string, Observer>();
  private mid = Math.floor(Math.random() * 0xffff);
  private seq = 1;
  /** Requests seen, by method code and path, for tests. */
  readonly requests: Array<{ code: number; path: string; observe?: number }> = [];

  constructor(private readonly host = '127.0.0.1') {}

  /** Bind (port 0: any free port) and return the port. */
  async start(port = 0): Promise<number> {
    const socket = createSocket('udp4');
    socket.on('message', (buf, rinfo) => this.onMessage(buf, rinfo));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(port, this.host, () => resolve()));
    this.socket = socket;
    return socket.address().port;
  }

  get port(): number {
    return this.socket?.address().port ?? 0;
  }

  get observerCount(): number {
    return this.observers.size;
  }

  /** Set a resource's representation and notify its observers. */
  set(path: string, payload: Buffer | string, contentFormat = 50): void {
    const res: CoapResource = { payload: Buffer.from(payload), contentFormat };
    this.resources.set(path, res);
    this.seq = (this.seq + 1) & 0xffffff;
    for (const obs of this.observers.values()) {
      if (obs.path !== path) continue;
      obs.lastMid = this.nextMid();
      this.send(obs.address, obs.port, CoapType.CON, codeNumber('2.05'), obs.lastMid, obs.token, res, this.seq);
    }
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    this.observers.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private nextMid(): number {
    this.mid = (this.mid + 1) & 0xffff;
    return this.mid;
  }

  private onMessage(buf: Buffer, rinfo: RemoteInfo): void {
    let msg: ReturnType<typeof decodeCoap>;
    try {
      msg = decodeCoap(buf);
    } catch {
      return;
    }
    if (msg.type === CoapType.RST) {
      for (const [key, obs] of this.observers) if (obs.lastMid === msg.messageId) this.observers.delete(key);
      return;
    }
    if (msg.code === 0) {
      // An empty CON is a ping: answer RST (RFC 7252 §4.3).
      if (msg.type === CoapType.CON) this.raw(rinfo, CoapType.RST, 0, msg.messageId, Buffer.alloc(0), []);
      return;
    }
    if (msg.type === CoapType.ACK) return;
    const path = uriPath(msg);
    const observeOpt = optionValue(msg, CoapOption.Observe);
    const observe = observeOpt === undefined ? undefined : readUint(observeOpt);
    this.requests.push(observe === undefined ? { code: msg.code, path } : { code: msg.code, path, observe });
    const con = msg.type === CoapType.CON;
    const type = con ? CoapType.ACK : CoapType.NON;
    const mid = con ? msg.messageId : this.nextMid();
    const res = this.resources.get(path);
    if (msg.code !== GET) {
      this.raw(rinfo, type, codeNumber('4.05'), mid, msg.token, []);
      return;
    }
    if (!res) {
      this.raw(rinfo, type, codeNumber('4.04'), mid, msg.token, []);
      return;
    }
    const key = `${rinfo.address}:${rinfo.port}:${msg.token.toString('hex')}`;
    if (observe === 0) {
      this.observers.set(key, { address: rinfo.address, port: rinfo.port, token: msg.token, path, lastMid: -1 });
      this.send(rinfo.address, rinfo.port, type, codeNumber('2.05'), mid, msg.token, res, this.seq);
      return;
    }
    if (observe === 1) this.observers.delete(key);
    this.send(rinfo.address, rinfo.port, type, codeNumber('2.05'), mid, msg.token, res);
  }

  private send(
    address: string,
    port: number,
    type: number,
    code: number,
    mid: number,
    token: Buffer,
    res: CoapResource,
    observeSeq?: number,
  ): void {
    const options: CoapOptionValue[] = [{ number: CoapOption.ContentFormat, value: uintOption(res.contentFormat) }];
    if (observeSeq !== undefined) options.push({ number: CoapOption.Observe, value: uintOption(observeSeq) });
    this.raw({ address, port }, type, code, mid, token, options, res.payload);
  }

  private raw(
    to: { address: string; port: number },
    type: number,
    code: number,
    mid: number,
    token: Buffer,
    options: CoapOptionValue[],
    payload: Buffer = Buffer.alloc(0),
  ): void {
    const bytes = encodeCoap({
      type: type as 0 | 1 | 2 | 3,
      code,
      messageId: mid,
      token,
      options,
      payload,
    });
    this.socket?.send(bytes, to.port, to.address);
  }
}
