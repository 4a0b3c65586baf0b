import { SimGpioDevice } from '../src/transports/gpio/sim.js';

export interface GpioDoorOptions {
  /** The simulated GPIO directory the gateway's sim backend uses. */
  dir: string;
  relayLine: number;
  contactLine: number;
  /** Level of the contact when the door is closed (matches the lock's contact_closed_level). */
  closedLevel?: 0 | 1;
  /** Walk through when the strike opens. */
  walkThrough?: boolean;
}

/**
 * A door on simulated GPIO lines: a reed contact the stub drives, and the strike relay it watches. With
 * `walkThrough`, a person opens the door shortly after the strike releases and closes it again behind them.
 */
export class GpioDoorStub {
  private readonly gpio: SimGpioDevice;
  private unwatch: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: GpioDoorOptions) {
    this.gpio = new SimGpioDevice(opts.dir);
  }

  private get closed(): 0 | 1 {
    return this.opts.closedLevel ?? 0;
  }

  async start(): Promise<void> {
    this.gpio.set(this.opts.contactLine, this.closed);
    this.unwatch = this.gpio.watch(this.opts.relayLine, (level) => {
      if (level === 1 && this.opts.walkThrough !== false) {
        this.timers.push(setTimeout(() => this.open(), 700));
        this.timers.push(setTimeout(() => this.close(), 2500));
      }
    });
  }

  /** The relay level the gateway is driving. */
  relay(): 0 | 1 {
    return this.gpio.read(this.opts.relayLine);
  }

  open(): void {
    this.gpio.set(this.opts.contactLine, this.closed === 0 ? 1 : 0);
  }

  close(): void {
    this.gpio.set(this.opts.contactLine, this.closed);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.unwatch?.();
    this.gpio.close?.();
  }
}
