import { nmeaSentence } from '../devices/weather/codecs/nmea-weather.js';
import { SerialDevice } from './serial-device.js';

export interface NmeaStationOptions {
  path: string;
  /** ms between MWV sentences; MDA follows every fifth */
  intervalMs?: number;
}

/**
 * An ultrasonic NMEA 0183 weather station (as Airmar and Gill sell) on a serial line at 4800 baud: a `$WIMWV` wind
 * sentence each interval and a `$WIMDA` composite every fifth, each ending in its XOR checksum and CR LF; a `$GPGGA`
 * from the station's GPS now and then, which is not weather.
 */
export class NmeaStationStub {
  private readonly device: SerialDevice;
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  windDeg = 350;
  windMs = 4.3;
  airC = 12.4;

  constructor(private readonly opts: NmeaStationOptions) {
    this.device = new SerialDevice(opts.path, 4800);
  }

  async start(): Promise<void> {
    await this.device.open(() => undefined);
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
  }

  mwv(): string {
    return nmeaSentence(`WIMWV,${this.windDeg.toFixed(1)},R,${this.windMs.toFixed(1)},M,A`);
  }

  mda(): string {
    const inHg = (1013.2 / 33.8638866667).toFixed(2);
    return nmeaSentence(
      `WIMDA,${inHg},I,1.0132,B,${this.airC.toFixed(1)},C,,C,71.0,,7.3,C,${this.windDeg.toFixed(1)},T,347.0,M,${(this.windMs / 0.514444).toFixed(1)},N,${this.windMs.toFixed(1)},M`,
    );
  }

  /** Write one raw line (a corrupted sentence, noise). */
  async writeRaw(line: string): Promise<void> {
    await this.device.write(line);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.device.close();
  }

  private async tick(): Promise<void> {
    this.n++;
    const lines = [this.mwv()];
    if (this.n % 5 === 0) lines.push(this.mda());
    if (this.n % 7 === 0) lines.push(nmeaSentence('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'));
    await this.device.write(lines.map((l) => `${l}\r\n`).join('')).catch(() => undefined);
  }
}
