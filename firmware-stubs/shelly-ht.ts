import { createSocket, type Socket } from 'node:dgram';
import { CoapOption, CoapType, encodeCoap, pathOptions, uintOption } from '../src/transports/coap-message.js';

export interface ShellyHtOptions {
  /** 12 hex digits */
  mac: string;
  /** where the H&T sends its status: the gateway as "CoIoT peer" (unicast), or 224.0.1.187 */
  host: string;
  port: number;
}

/**
 * A Shelly H&T (Gen1, CoIoT v2 firmware 1.8+) waking up and sending its status as Shelly's CoIoT does: a CoAP NON
 * message with code 0.30 to /cit/s, option 3332 `SHHT-1#<MAC>#2`, 3412 the validity (s) and 3420 a serial, and
 * the JSON status `{"G":[[0,3101,°C],[0,3102,°F],[0,3103,%],[0,3115,error],[0,3111,battery %]...]}` with the
 * sensor ids of the H&T description (/cit/d).
 */
export class ShellyHtStub {
  private socket: Socket | undefined;
  private serial = 1;
  private mid = 100;
  temperatureC = 21.4;
  humidityPct = 48.5;
  batteryPct = 87;

  constructor(private readonly opts: ShellyHtOptions) {}

  async start(): Promise<void> {
    this.socket = createSocket('udp4');
    await new Promise<void>((resolve) => this.socket!.bind(0, () => resolve()));
  }

  status(): string {
    const f = Math.round(((this.temperatureC * 9) / 5 + 32) * 10) / 10;
    return JSON.stringify({
      G: [
        [0, 9103, 1],
        [0, 3101, this.temperatureC],
        [0, 3102, f],
        [0, 3103, this.humidityPct],
        [0, 3115, 0],
        [0, 3111, this.batteryPct],
        [0, 3112, 1],
        [0, 9102, ['sensor']],
      ],
    });
  }

  /** Send one status (a new serial unless `repeat`), or `payload` instead of the status JSON. */
  async send(o: { repeat?: boolean; payload?: string; code?: number } = {}): Promise<void> {
    if (!o.repeat) this.serial = (this.serial + 1) & 0xffff;
    this.mid = (this.mid + 1) & 0xffff;
    const msg = encodeCoap({
      type: CoapType.NON,
      code: o.code ?? 30,
      messageId: this.mid,
      token: Buffer.alloc(0),
      options: [
        ...pathOptions('/cit/s'),
        { number: CoapOption.CoiotDeviceId, value: Buffer.from(`SHHT-1#${this.opts.mac.toUpperCase()}#2`) },
        { number: CoapOption.CoiotValidity, value: uintOption(38_400) },
        { number: CoapOption.CoiotSerial, value: uintOption(this.serial) },
      ],
      payload: Buffer.from(o.payload ?? this.status()),
    });
    await new Promise<void>((resolve, reject) =>
      this.socket?.send(msg, this.opts.port, this.opts.host, (err) => (err ? reject(err) : resolve())),
    );
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
