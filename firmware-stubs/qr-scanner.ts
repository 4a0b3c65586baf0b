import { SerialDevice } from './serial-device.js';

/** A QR scanner in serial mode: each scanned code is typed as one line ending in CR LF. */
export class QrScannerStub {
  private readonly device: SerialDevice;

  constructor(path: string) {
    this.device = new SerialDevice(path, 9600);
  }

  async start(): Promise<void> {
    await this.device.open(() => undefined);
  }

  /** Present a code as the scanner would after reading it. */
  async scan(text: string): Promise<void> {
    await this.device.write(`${text}\r\n`);
  }

  /** Write raw bytes (noise, a runaway scanner without line ends). */
  async writeRaw(data: Buffer | string): Promise<void> {
    await this.device.write(data);
  }

  async stop(): Promise<void> {
    await this.device.close();
  }
}
