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

/**
 * A chunk handler that cuts a console's command stream into lines (a trailing "\r" dropped) and hands each to
 * `onLine`; junk longer than `maxPending` without a line end is discarded, as a console's small input buffer does.
 */
export function lineSplitter(onLine: (line: string) => void, maxPending = 64): (chunk: Buffer) => void {
  let input = '';
  return (chunk) => {
    input += chunk.toString('latin1');
    let nl = input.indexOf('\n');
    while (nl >= 0) {
      const line = input.slice(0, nl).replace(/\r$/, '');
      input = input.slice(nl + 1);
      onLine(line);
      nl = input.indexOf('\n');
    }
    if (input.length > maxPending) input = '';
  };
}
