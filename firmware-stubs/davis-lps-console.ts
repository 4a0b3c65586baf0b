import { appendDavisCrc } from '../devices/weather/codecs/davis-crc.js';
import { buildLoopPacket, type DavisReading } from './davis-console.js';
import { lineSplitter, SerialDevice } from './serial-device.js';

/** What a LOOP2 packet adds to the LOOP reading. */
export interface DavisLoop2Extras {
  /** mph, whole, the 10-minute wind gust */
  gust_10min_mph: number;
  /** °F, whole, as the console computes it */
  dew_point_f: number;
}

/**
 * Build one LOOP2 packet (type 1) as a Vantage Pro2 console (firmware 1.90+) sends it. Offsets from the Davis
 * "Vantage Serial Communication Reference Manual" rev 2.6.1, LOOP2 packet; unused fields carry the manual's
 * dash values (0x7FFF, 0xFF).
 */
export function buildLoop2Packet(r: DavisReading, x: DavisLoop2Extras): Buffer {
  const b = Buffer.alloc(97, 0);
  b.write('LOO', 0, 'latin1');
  b[3] = 0; // barometer trend: steady
  b[4] = 1; // packet type LOOP2
  b.writeUInt16LE(0x7fff, 5);
  b.writeUInt16LE(Math.round(r.barometer_inhg * 1000), 7);
  b.writeInt16LE(Math.round(r.inside_temp_f * 10), 9);
  b[11] = r.inside_humidity;
  b.writeInt16LE(Math.round(r.outside_temp_f * 10), 12);
  b[14] = Math.round(r.wind_mph);
  b[15] = 0xff;
  b.writeUInt16LE(Math.round(r.wind_dir_deg), 16);
  b.writeUInt16LE(Math.round(r.wind_avg_mph * 10), 18); // 10-minute average, 0.1 mph
  b.writeUInt16LE(Math.round(r.wind_avg_mph * 10), 20); // 2-minute average, 0.1 mph
  b.writeUInt16LE(Math.round(x.gust_10min_mph), 22);
  b.writeUInt16LE(Math.round(r.wind_dir_deg), 24); // direction of the gust
  b.writeUInt16LE(0x7fff, 26);
  b.writeUInt16LE(0x7fff, 28);
  b.writeInt16LE(Math.round(x.dew_point_f), 30);
  b[32] = 0xff;
  b[33] = r.outside_humidity;
  b[34] = 0xff;
  b.writeInt16LE(Math.round(r.outside_temp_f), 35); // heat index
  b.writeInt16LE(Math.round(r.outside_temp_f), 37); // wind chill
  b.writeInt16LE(0x7fff, 39); // THSW: no solar sensor
  b.writeUInt16LE(r.rain_rate_clicks_h, 41);
  b[43] = 0xff; // UV: no sensor
  b.writeUInt16LE(0x7fff, 44); // solar radiation: no sensor
  b.writeUInt16LE(0, 46); // storm rain
  b.writeUInt16LE(0xffff, 48); // storm start: none
  b.writeUInt16LE(r.day_rain_clicks, 50);
  b.writeUInt16LE(0, 52); // last 15 minutes
  b.writeUInt16LE(0, 54); // last hour
  b.writeUInt16LE(0, 56); // day ET
  b.writeUInt16LE(r.day_rain_clicks, 58); // last 24 hours
  b[60] = 1; // barometric reduction method
  b.writeUInt16LE(Math.round(r.barometer_inhg * 1000), 67); // absolute barometer
  b.writeUInt16LE(Math.round(r.barometer_inhg * 1000), 69); // altimeter setting
  b[71] = 0xff;
  b[72] = 0xff;
  b[95] = 0x0a;
  b[96] = 0x0d;
  return appendDavisCrc(b);
}

const ACK = 0x06;

/**
 * A Vantage Pro2 console with firmware 1.90 or later on a serial line: answers the wake-up, `LOOP n` (LOOP
 * packets) and `LPS <mask> <n>` (mask 1 LOOP, 2 LOOP2, 3 alternating), one packet per `intervalMs`, and records the
 * commands it was given.
 */
export class DavisLpsConsoleStub {
  private readonly device: SerialDevice;
  private timer: NodeJS.Timeout | undefined;
  private sentCount = 0;
  /** Commands received, newest last. */
  readonly commands: string[] = [];
  reading: DavisReading = {
    barometer_inhg: 30.012,
    inside_temp_f: 70,
    inside_humidity: 45,
    outside_temp_f: 41.5,
    outside_humidity: 88,
    wind_mph: 6,
    wind_avg_mph: 5,
    wind_dir_deg: 270,
    day_rain_clicks: 12,
    rain_rate_clicks_h: 0,
  };
  extras: DavisLoop2Extras = { gust_10min_mph: 14, dew_point_f: 38 };

  constructor(
    path: string,
    private readonly intervalMs = 200,
  ) {
    this.device = new SerialDevice(path, 19200);
  }

  get sent(): number {
    return this.sentCount;
  }

  async start(): Promise<void> {
    await this.device.open(lineSplitter((line) => this.onLine(line)));
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
    this.commands.push(line);
    const loop = /^LOOP (\d+)$/.exec(line);
    const lps = /^LPS ([123]) (\d+)$/.exec(line);
    if (!loop && !lps) return;
    const mask = lps ? Number(lps[1]) : 1;
    let remaining = Number(loop?.[1] ?? lps?.[2]);
    clearInterval(this.timer);
    void this.device.write(Buffer.from([ACK]));
    let n = 0;
    const send = (): void => {
      if (remaining-- <= 0) {
        clearInterval(this.timer);
        return;
      }
      const loop2 = mask === 2 || (mask === 3 && n % 2 === 1);
      n++;
      this.sentCount++;
      const packet = loop2 ? buildLoop2Packet(this.reading, this.extras) : buildLoopPacket(this.reading, n % 2560);
      void this.device.write(packet);
    };
    this.timer = setInterval(send, this.intervalMs);
    setImmediate(send);
  }
}
