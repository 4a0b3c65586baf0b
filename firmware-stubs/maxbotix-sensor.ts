import { SerialDevice } from './serial-device.js';

export interface MaxbotixOptions {
  path: string;
  /** ms between readings; the HRLV-MaxSonar ranges at about 6.7 Hz (150 ms) */
  intervalMs?: number;
  /** mm the sensor reports when nothing is under it (5000 on the 5 m models) */
  floorMm?: number;
}

/**
 * A MaxBotix HRLV-MaxSonar on a serial line (9600 8N1): streams `R` + four digits of range in mm + CR, as the
 * datasheet's serial output describes. With no car under it, it sees the floor (or reports its maximum, 5000).
 */
export class MaxbotixSensorStub {
  private readonly device: SerialDevice;
  private timer: NodeJS.Timeout | undefined;
  /** mm, the range the sensor currently reads */
  rangeMm: number;
  /** readings written so far */
  sent = 0;

  constructor(private readonly opts: MaxbotixOptions) {
    this.device = new SerialDevice(opts.path, 9600);
    this.rangeMm = opts.floorMm ?? 5000;
  }

  async start(): Promise<void> {
    await this.device.open(() => undefined);
    this.timer = setInterval(() => void this.reading(), this.opts.intervalMs ?? 150);
  }

  /** A car parks (roof at `roofMm`) or leaves. */
  park(occupied: boolean, roofMm = 1180): void {
    this.rangeMm = occupied ? roofMm : (this.opts.floorMm ?? 5000);
  }

  /** Write raw bytes (noise on the line). */
  async writeRaw(data: string): Promise<void> {
    await this.device.write(data);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.device.close();
  }

  private async reading(): Promise<void> {
    const mm = Math.max(300, Math.min(9999, Math.round(this.rangeMm)));
    await this.device.write(`R${String(mm).padStart(4, '0')}\r`).catch(() => undefined);
    this.sent++;
  }
}
