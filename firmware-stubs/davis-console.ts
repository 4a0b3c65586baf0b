import { appendDavisCrc } from '../devices/weather/codecs/davis-crc.js';
import { lineSplitter, SerialDevice } from './serial-device.js';

/** What the simulated station measures, in the console's own units. */
export interface DavisReading {
  barometer_inhg: number;
  inside_temp_f: number;
  inside_humidity: number;
  outside_temp_f: number;
  outside_humidity: number;
  wind_mph: number;
  wind_avg_mph: number;
  wind_dir_deg: number;
  /** rain collector clicks (0.01 in each) today */
  day_rain_clicks: number;
  rain_rate_clicks_h: number;
}

const ACK = 0x06;

/**
 * Build one LOOP packet (type 0) exactly as a Vantage Pro2 console sends it: 97 bytes of data, then the CRC.
 * Sensors the station lacks are sent as Davis's "no sensor" values (0xFF, 0x7FFF), as real consoles do.
 * Offsets: Davis "Vantage Serial Communication Reference Manual", LOOP packet.
 */
export function buildLoopPacket(r: DavisReading, nextRecord = 0): Buffer {
  const b = Buffer.alloc(97, 0);
  b.write('LOO', 0, 'latin1');
  b[3] = 0; // barometer trend: steady
  b[4] = 0; // packet type LOOP
  b.writeUInt16LE(nextRecord, 5);
  b.writeUInt16LE(Math.round(r.barometer_inhg * 1000), 7);
  b.writeInt16LE(Math.round(r.inside_temp_f * 10), 9);
  b[11] = r.inside_humidity;
  b.writeInt16LE(Math.round(r.outside_temp_f * 10), 12);
  b[14] = Math.round(r.wind_mph);
  b[15] = Math.round(r.wind_avg_mph);
  b.writeUInt16LE(Math.round(r.wind_dir_deg), 16);
  b.fill(0xff, 18, 33); // extra, soil and leaf temperatures: no sensors
  b[33] = r.outside_humidity;
  b.fill(0xff, 34, 41); // extra humidities
  b.writeUInt16LE(r.rain_rate_clicks_h, 41);
  b[43] = 0xff; // UV: no sensor
  b.writeUInt16LE(0x7fff, 44); // solar radiation: no sensor
  b.writeUInt16LE(0, 46); // storm rain
  b.writeUInt16LE(0xffff, 48); // storm start: none
  b.writeUInt16LE(r.day_rain_clicks, 50);
  b.fill(0xff, 62, 70); // soil moistures, leaf wetnesses
  b[86] = 0; // transmitter battery: all ok
  b.writeUInt16LE(Math.round((4.7 * 512 * 100) / 300), 87); // console battery 4.7 V
  b[95] = 0x0a;
  b[96] = 0x0d;
  return appendDavisCrc(b);
}

export interface DavisConsoleOptions {
  path: string;
  /** ms between LOOP packets; a real console sends one every 2 s */
  intervalMs?: number;
}

/**
 * A Davis Vantage console on a serial line: answers the wake-up ("\n" → "\n\r") and `LOOP n` (ACK, then n
 * packets), as the firmware does. The weather drifts a little between packets.
 */
export class DavisConsoleStub {
  private readonly device: SerialDevice;
  private timer: NodeJS.Timeout | undefined;
  private corruptNext = 0;
  private packetsSent = 0;
  reading: DavisReading = {
    barometer_inhg: 29.985,
    inside_temp_f: 73,
    inside_humidity: 57,
    outside_temp_f: 52.3,
    outside_humidity: 78,
    wind_mph: 4,
    wind_avg_mph: 5,
    wind_dir_deg: 355,
    day_rain_clicks: 0,
    rain_rate_clicks_h: 0,
  };

  constructor(private readonly opts: DavisConsoleOptions) {
    this.device = new SerialDevice(opts.path, 19200);
  }

  get sent(): number {
    return this.packetsSent;
  }

  async start(): Promise<void> {
    await this.device.open(lineSplitter((line) => this.onLine(line)));
  }

  /** Corrupt the CRC of the next `n` packets (a noisy cable). */
  corrupt(n = 1): void {
    this.corruptNext += n;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.device.close();
  }

  private onLine(line: string): void {
    if (line === '') {
      void this.device.write('\n\r');
      return;
    }
    const loop = /^LOOP (\d+)$/.exec(line);
    if (loop) {
      clearInterval(this.timer);
      let remaining = Number(loop[1]);
      void this.device.write(Buffer.from([ACK]));
      const send = (): void => {
        if (remaining-- <= 0) {
          clearInterval(this.timer);
          return;
        }
        void this.device.write(this.nextPacket());
      };
      this.timer = setInterval(send, this.opts.intervalMs ?? 2000);
      setImmediate(send);
    }
  }

  private nextPacket(): Buffer {
    const r = this.reading;
    r.outside_temp_f = Math.round((r.outside_temp_f + (Math.random() - 0.5) * 0.4) * 10) / 10;
    r.wind_mph = Math.max(0, Math.min(40, Math.round(r.wind_mph + (Math.random() - 0.5) * 3)));
    const packet = buildLoopPacket(r, this.packetsSent % 2560);
    this.packetsSent++;
    if (this.corruptNext > 0) {
      this.corruptNext--;
      packet[98] = (packet[98] ?? 0) ^ 0xff;
    }
    return packet;
  }
}
