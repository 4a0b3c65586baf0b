/**
 * A LoRaWAN device codec is a table of FPorts, each with the payload sizes its vendor documents and a decoder
 * for that message. This helper turns the table into a {@link Codec}: it checks the port, bounds the payload
 * (so every message type has its own `truncated`/`oversized`), then calls the port's decoder.
 */
import {
  type Codec,
  compact,
  type DecodedEvent,
  type DecodeOptions,
  decodeError,
  readBytes,
  requirePort,
} from '../../codec-kit.js';

/** One FPort's message: its documented size range and its decoder (which may still throw). */
export interface PortMessage {
  /** bytes, at least */
  min: number;
  /** bytes, at most */
  max: number;
  decode(bytes: Buffer, opts: DecodeOptions): DecodedEvent;
}

export interface LoraCodecSpec {
  name: string;
  description: string;
  ports: Readonly<Record<number, PortMessage>>;
}

/** The largest LoRaWAN application payload (EU868 DR5-DR7, LoRaWAN Regional Parameters): a hard input bound. */
export const LORAWAN_MAX_PAYLOAD = 242;

export function defineLoraCodec(spec: LoraCodecSpec): Codec {
  const ports = Object.keys(spec.ports).map(Number);
  return {
    name: spec.name,
    kind: 'parking',
    input: 'hex',
    description: spec.description,
    ports,
    decode(input, opts = {}) {
      const fport = requirePort(spec.name, ports, opts);
      const msg = spec.ports[fport]!;
      const bytes = readBytes(spec.name, input, msg.min, msg.max);
      return msg.decode(bytes, opts);
    },
  };
}

/** A `parking.occupancy` event with undefined fields dropped. */
export function occupancy(data: Record<string, unknown>): DecodedEvent {
  return { type: 'parking.occupancy', data: compact(data) };
}

/** Throw `ignored` for a valid message that carries no occupancy (debug dumps, configuration echoes). */
export function ignored(codec: string, what: string, fport: number): never {
  throw decodeError(codec, 'ignored', `${what} message carries no occupancy`, { fport });
}
