/**
 * The receiving end of Shelly CoIoT (Gen1): devices send their status as a CoAP NON message with the non-standard
 * code 0.30 (some firmware 0.02 POST) to `/cit/s`, multicast to 224.0.1.187:5683 or unicast to a configured
 * "CoIoT peer" (firmware 1.9.4 and later need the peer), with option 3332 naming the device
 * (`<type>#<mac>#<revision>`), 3412 the validity in seconds and 3420 a serial that changes with each new status.
 * Per Shelly's "CoIoT for Shelly devices" documentation.
 *
 * Pure: the socket is the gateway's (the driver context's UDP listener, one per port for every Shelly); this reads
 * one datagram.
 */
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
