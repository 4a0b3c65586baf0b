import { SerialPort } from 'serialport';

/**
 * The device end of a serial line (one side of a socat pty pair): what a stub uses to speak as the hardware does.
 * Reopens are the caller's business: a stub lives as long as its "device" is plugged in.
 */
export class SerialDevice {
  private port: SerialPort | undefined;

  constructor(
    readonly path: string,
    private readonly baudRate = 19200,
  ) {}

  async open(onData: (chunk: Buffer) => void): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', onData);
    // A vanished pty is the device being unplugged: nothing to do but stop writing.
    port.on('error', () => undefined);
    this.port = port;
  }

  async write(data: Buffer | string): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => (err ? reject(err) : port.drain(() => resolve())));
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
