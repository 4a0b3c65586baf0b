/**
 * The receiving end of Shelly CoIoT (Gen1): devices send their status as a CoAP NON message with the non-standard
 * code 0.30 (some firmware 0.02 POST) to `/cit/s`, multicast to 224.0.1.187:5683 or unicast to a configured
 * "CoIoT peer" (firmware 1.9.4 and later need the peer), with option 3332 naming the device
 * (`<type>#<mac>#<revision>`), 3412 the validity in seconds and 3420 a serial that changes with each new status.
 * Per Shelly's "CoIoT for Shelly devices" documentation.
 *
 * One UDP socket serves every Shelly on a port: the port belongs to the process, not to a device, so sockets are
 * shared per host:port (reference-counted) and each datagram is routed to the driver of its device id.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { ErrorCode, PortierError, reasonOf } from '../../../src/core/errors.js';
import { CoapOption, decodeCoap, optionValue, readUint, uriPath } from '../../../src/transports/coap-message.js';

export const COIOT_MULTICAST = '224.0.1.187';
export const COIOT_PORT = 5683;
/** CoIoT's status code 0.30 (30), and 0.02 POST which some firmware uses */
const STATUS_CODES = new Set([30, 2]);

/** One status as received. */
export interface CoiotStatus {
  /** e.g. SHHT-1 */
  deviceType: string;
  /** 12 uppercase hex digits */
  mac: string;
  revision: string;
  /** s the status stays valid, when sent */
  validity?: number;
  /** changes with each new status, when sent */
  serial?: number;
  payload: Buffer;
  remote: string;
}

interface Shared {
  socket: Socket;
  ready: Promise<void>;
  handlers: Map<string, (s: CoiotStatus) => void>;
  /** Datagrams that were not a CoIoT status of a known device, since open. */
  dropped: number;
}

const sockets = new Map<string, Shared>();

export interface CoiotListenOptions {
  /** Address to bind, 0.0.0.0 to receive multicast */
  host: string;
  port: number;
  /** Join 224.0.1.187 on the default interface */
  multicast: boolean;
}

/** Parse `SHHT-1#A4CF12F454A3#2`. */
export function parseDeviceId(text: string): { deviceType: string; mac: string; revision: string } | undefined {
  const m = /^([A-Za-z0-9-]+)#([0-9A-Fa-f]{12})#(\d+)$/.exec(text);
  return m ? { deviceType: m[1]!, mac: m[2]!.toUpperCase(), revision: m[3]! } : undefined;
}

/** Read a datagram as a CoIoT status; undefined when it is not one (wrong code, path or no device id). */
export function readCoiotStatus(buf: Buffer, remote: string): CoiotStatus | undefined {
  const msg = decodeCoap(buf);
  if (!STATUS_CODES.has(msg.code) || uriPath(msg) !== '/cit/s') return undefined;
  const idOpt = optionValue(msg, CoapOption.CoiotDeviceId);
  const id = idOpt ? parseDeviceId(idOpt.toString('latin1')) : undefined;
  if (!id) return undefined;
  const status: CoiotStatus = { ...id, payload: msg.payload, remote };
  const validity = optionValue(msg, CoapOption.CoiotValidity);
  const serial = optionValue(msg, CoapOption.CoiotSerial);
  if (validity) status.validity = readUint(validity);
  if (serial) status.serial = readUint(serial);
  return status;
}

/**
 * Receive the statuses of the device with this MAC. Resolves once the socket listens; the returned function stops
 * listening (and closes the socket when it was the last user). Throws TransportOpenFailed when the port cannot be
 * bound, ConfigInvalid when the MAC is already taken on this port.
 */
export async function listenCoiot(
  opts: CoiotListenOptions,
  mac: string,
  onStatus: (s: CoiotStatus) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  const key = `${opts.host}:${opts.port}`;
  let shared = sockets.get(key);
  if (!shared) {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    const s: Shared = { socket, ready: Promise.resolve(), handlers: new Map(), dropped: 0 };
    socket.on('message', (buf, rinfo) => {
      let status: CoiotStatus | undefined;
      try {
        status = readCoiotStatus(buf, rinfo.address);
      } catch (err) {
        log.debug({ err: reasonOf(err), from: rinfo.address }, 'not a CoAP datagram');
      }
      const handler = status && s.handlers.get(status.mac);
      if (!status || !handler) {
        s.dropped++;
        return;
      }
      try {
        handler(status);
      } catch (err) {
        log.error({ err }, 'coiot handler threw');
      }
    });
    s.ready = new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', reject);
        socket.on('error', (err) => log.warn({ err: err.message }, 'coiot socket error'));
        if (opts.multicast) {
          try {
            socket.addMembership(COIOT_MULTICAST);
          } catch (err) {
            // No multicast route (a container, no network yet): unicast from a configured CoIoT peer still works.
            log.warn({ err: reasonOf(err) }, 'could not join the CoIoT multicast group');
          }
        }
        resolve();
      });
    });
    sockets.set(key, s);
    shared = s;
  }
  try {
    await shared.ready;
  } catch (err) {
    if (sockets.get(key) === shared) sockets.delete(key);
    shared.socket.close();
    throw new PortierError(ErrorCode.TransportOpenFailed, `CoIoT ${key}: ${reasonOf(err)}`);
  }
  const upper = mac.toUpperCase();
  if (shared.handlers.has(upper)) {
    throw new PortierError(ErrorCode.ConfigInvalid, `Shelly ${upper} is already driven by another device`);
  }
  shared.handlers.set(upper, onStatus);
  const s = shared;
  return async () => {
    if (s.handlers.get(upper) !== onStatus) return;
    s.handlers.delete(upper);
    if (s.handlers.size > 0) return;
    if (sockets.get(key) === s) sockets.delete(key);
    await new Promise<void>((resolve) => s.socket.close(() => resolve()));
  };
}
